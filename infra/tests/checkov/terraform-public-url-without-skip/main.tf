# Negative fixture: a public Function URL without a checkov skip and its reason.
# scripts/infra-checks.sh fails if checkov accepts it.
# expect: CKV_AWS_258
resource "aws_lambda_function_url" "webhook" {
  function_name      = "votecheck"
  authorization_type = "NONE"
}
