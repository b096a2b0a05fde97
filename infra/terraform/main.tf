# The votecheck deployment in Terraform: the webhook function behind a public Function URL, its
# DynamoDB table (mirroring functions/store/table-definition.json), a KMS key, a log group and a
# least-privilege role; the alarms are in alarms.tf, the alert sender and its queues in
# alerts.tf. The same resources and choices as
# infra/sam/template.yaml; docs/deploy.md explains each. The checks in scripts/infra-checks.sh
# parse these files and fail when a key property (TTL, PITR, encryption, runtime, handler,
# reserved concurrency, secrets, log retention) drifts; every checkov skip says why.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account        = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  region         = data.aws_region.current.region
  use_cmk        = var.table_encryption == "customer-managed"
  log_group_name = "/votecheck/${var.name}/webhook"
  secret_names   = ["whatsapp-access-token", "whatsapp-app-secret", "whatsapp-verify-token", "id-salt"]
  secret_parameter_arns = [
    for secret in local.secret_names :
    "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${var.ssm_prefix}/${secret}"
  ]
}

resource "aws_kms_key" "data" {
  count                   = local.use_cmk ? 1 : 0
  description             = "votecheck ${var.name} - conversation table, logs and alert queues"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersTheKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsThisLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnEquals = {
            "kms:EncryptionContext:aws:logs:arn" = [
              # The webhook's log group and the alert sender's (alerts.tf).
              for name in [local.log_group_name, local.sender_log_group_name] :
              "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${name}"
            ]
          }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "data" {
  count         = local.use_cmk ? 1 : 0
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.data[0].key_id
}

# Mirrors functions/store/table-definition.json: keys, the report index GSI1, on-demand capacity,
# TTL on expires_at. (Provider 6 also accepts key_schema blocks in the index; hash_key and
# range_key work in every 6.x release.)
resource "aws_dynamodb_table" "conversations" {
  #checkov:skip=CKV_AWS_119:Encrypted with this module's customer-managed key by default; checkov cannot evaluate the table_encryption choice, whose aws-owned value is deliberate and documented (docs/deploy.md, Encryption).
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "PK"
  range_key    = "SK"

  attribute {
    name = "PK"
    type = "S"
  }
  attribute {
    name = "SK"
    type = "S"
  }
  attribute {
    name = "GSI1PK"
    type = "S"
  }
  attribute {
    name = "GSI1SK"
    type = "S"
  }

  global_secondary_index {
    name            = "GSI1"
    hash_key        = "GSI1PK"
    range_key       = "GSI1SK"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled                 = true
    recovery_period_in_days = var.point_in_time_recovery_days
  }

  server_side_encryption {
    enabled     = local.use_cmk
    kms_key_arn = local.use_cmk ? aws_kms_key.data[0].arn : null
  }
}

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_338:Retention is log_retention_days (90 by default, as long as the query records): the logs are for operations and a year would outlive the data they describe.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = local.use_cmk ? aws_kms_key.data[0].arn : null
}

resource "aws_iam_role" "function" {
  name        = "${var.name}-webhook"
  description = "votecheck ${var.name} webhook function"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
}

# Only what the function does: write its logs, read and write its table (no Scan, no report
# index, no table administration), read its four secrets, use the table's key through DynamoDB.
data "aws_iam_policy_document" "function" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }

  # Claims, preferences, rate counters, query, feedback and delivery-failure records (GetItem,
  # PutItem, UpdateItem), changed numbers (a transaction of a put and a delete), "delete my data"
  # (Query on the citizen's partition, BatchWriteItem).
  statement {
    sid = "ConversationTable"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
      "dynamodb:BatchWriteItem",
    ]
    resources = [aws_dynamodb_table.conversations.arn]
  }

  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["ssm:GetParameters"]
    resources = local.secret_parameter_arns
  }

  dynamic "statement" {
    for_each = local.use_cmk ? [aws_kms_key.data[0].arn] : []
    content {
      sid       = "UseTableKeyThroughDynamoDb"
      actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["dynamodb.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.secrets_kms_key_arn == null ? [] : [var.secrets_kms_key_arn]
    content {
      sid       = "DecryptSecretsThroughSsm"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    # X-Ray has no resource-level permissions for these actions.
    for_each = var.tracing ? ["*"] : []
    content {
      sid       = "SendTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "webhook"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

# The package goes through S3: it is over Lambda's 50 MB direct-upload limit (docs/deploy.md).
# The key changes with the content, so a new package is a new object and the function updates.
resource "aws_s3_object" "package" {
  bucket = var.package_bucket
  key    = "votecheck/${var.name}-${filemd5(var.package_file)}.zip"
  source = var.package_file
  etag   = filemd5(var.package_file)
}

resource "aws_lambda_function" "webhook" {
  #checkov:skip=CKV_AWS_116:No dead-letter queue: the Function URL invokes synchronously and a DLQ only applies to asynchronous invocations; WhatsApp redelivers a webhook that was not answered 200.
  #checkov:skip=CKV_AWS_117:Not in a VPC: the function calls only public endpoints (Graph API, DynamoDB, SSM); a VPC would need a NAT gateway and add cost and cold-start time, for no isolation gain.
  #checkov:skip=CKV_AWS_173:The environment holds no secrets (names, the SSM prefix, limits), so it is left to Lambda's default encryption at rest; the secrets are in SSM SecureStrings.
  #checkov:skip=CKV_AWS_272:No code signing: each deployer builds the package from their own corpus; integrity is the package.json SHA-256 of bootstrap and the reproducible build (docs/deploy.md).
  #checkov:skip=CKV_AWS_50:X-Ray tracing is the tracing variable, off by default: the JSON logs and EMF metrics already time every webhook, and traces cost per invocation.
  function_name    = var.name
  description      = "votecheck WhatsApp webhook"
  s3_bucket        = aws_s3_object.package.bucket
  s3_key           = aws_s3_object.package.key
  source_code_hash = filebase64sha256(var.package_file)
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  architectures    = [var.architecture]
  memory_size      = var.memory_size
  # A webhook normally takes well under a second; when a dependency hangs, the function ends its
  # work 3 s before this timeout and leaves unsent replies to WhatsApp's redelivery.
  timeout                        = 30
  reserved_concurrent_executions = var.reserved_concurrency
  role                           = aws_iam_role.function.arn

  logging_config {
    log_format = "JSON"
    # The EMF metric lines carry no level and count as INFO: a higher level would drop them.
    application_log_level = "INFO"
    system_log_level      = "INFO"
    log_group             = aws_cloudwatch_log_group.function.name
  }

  dynamic "tracing_config" {
    for_each = var.tracing ? ["Active"] : []
    content {
      mode = tracing_config.value
    }
  }

  # Exactly the variables of functions/webhook-lambda/src/config.rs (with the store's and the Graph API's); no secret is ever set here.
  environment {
    variables = {
      VOTECHECK_TABLE_NAME     = aws_dynamodb_table.conversations.name
      WHATSAPP_PHONE_NUMBER_ID = var.whatsapp_phone_number_id
      VOTECHECK_GRAPH_VERSION  = var.graph_api_version
      VOTECHECK_SSM_PREFIX     = var.ssm_prefix
      VOTECHECK_RETENTION_DAYS = tostring(var.retention_days)
      VOTECHECK_RATE_LIMIT     = var.rate_limit
      # The encoder on one thread (below 1,769 MB Lambda gives less than one vCPU).
      CANDLE_NUM_THREADS = "1"
      RUST_LOG           = "info"
    }
  }

  depends_on = [aws_iam_role_policy.function]
}

# Public on purpose. Meta calls the webhook from its own servers and cannot sign requests with
# AWS credentials, so the URL's authorization type is NONE. The authentication is the webhook's
# own: every POST must carry X-Hub-Signature-256, the HMAC-SHA256 of the body under the Meta app
# secret, checked before anything else (forged or unsigned requests get 401 and cost one short
# invocation, capped by reserved_concurrency); the GET handshake needs the verify token.
resource "aws_lambda_function_url" "webhook" {
  #checkov:skip=CKV_AWS_258:Authorization NONE because Meta cannot sign with AWS credentials; the webhook's HMAC signature (X-Hub-Signature-256 under the app secret) is the authentication.
  function_name      = aws_lambda_function.webhook.function_name
  authorization_type = "NONE"
  invoke_mode        = "BUFFERED"
}

# A public Function URL needs both permissions: lambda:InvokeFunctionUrl, and
# lambda:InvokeFunction limited to invocations through a Function URL.
resource "aws_lambda_permission" "url" {
  #checkov:skip=CKV_AWS_301:Public on purpose, and only through the Function URL (auth type NONE): Meta calls the webhook, whose HMAC signature is the authentication.
  statement_id           = "FunctionURLAllowPublicAccess"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.webhook.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "invoke_through_url" {
  #checkov:skip=CKV_AWS_301:Public on purpose, and only for invocations through the Function URL (invoked_via_function_url): Meta calls the webhook, whose HMAC signature is the authentication.
  statement_id             = "FunctionURLInvokeAllowPublicAccess"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.webhook.function_name
  principal                = "*"
  invoked_via_function_url = true
}
