# The votecheck Terraform module: the same deployment as infra/sam/template.yaml (the primary
# path) for teams that use Terraform. Provider 6.29 or newer: `invoked_via_function_url` on
# aws_lambda_permission, which a public Function URL needs, arrived in 6.29.0.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.29.0, < 7.0.0"
    }
  }
}
