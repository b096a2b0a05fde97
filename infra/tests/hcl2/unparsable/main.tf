# Negative fixture: a module python-hcl2 cannot parse.
# scripts/infra-checks.sh fails if infra/checks/terraform_json.py accepts it.
# expect: does not parse
resource "aws_dynamodb_table" "conversations" {
  name     = "votecheck"
  hash_key =
