# Negative fixture: a module checkov cannot parse (it reports the error and exits 0; the gate
# must fail). scripts/infra-checks.sh fails if it passes.
# expect: could not parse
resource "aws_dynamodb_table" "conversations" {
  name     = "votecheck"
  hash_key =
