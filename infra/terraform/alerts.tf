# The alert sender of the votecheck module: a second function fed by an SQS queue of alert jobs,
# with a dead-letter queue, its own least-privilege role and log group, its alarms, and an
# optional one-time EventBridge Scheduler schedule that enqueues a timed alert. The same
# resources and choices as infra/sam/template.yaml; docs/deploy.md, "Alerts: the sender function
# and its queue", explains them.
#
# `votecheck alerts send --queue <alert_queue_url>` (or the schedule) puts alert jobs on the
# queue, each a batch of up to 100 recipients of one alert (or an "expand" job that the sender
# turns into such batches on the same queue); the sender sends them as WhatsApp template messages
# at send_rate, each recipient at most once (its send state is recorded in the table before the
# message goes out).

locals {
  sender_log_group_name = "/votecheck/${var.name}/sender"
  # The sender's timeout; the queue's visibility timeout is 6 times it, as AWS recommends for a
  # queue that triggers a function (a job being sent is never handed to a second instance while
  # the first still works on it).
  sender_timeout_seconds = 60
  # Only the two secrets the sender reads: the access token, and the id salt that opens the
  # subscribers' sealed addresses (not the webhook's app secret or verify token).
  sender_secret_names = ["whatsapp-access-token", "id-salt"]
  sender_secret_parameter_arns = [
    for secret in local.sender_secret_names :
    "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${var.ssm_prefix}/${secret}"
  ]
  has_alert_schedule = var.alert_schedule_expression != null
}

# Jobs that failed maxReceiveCount times. SQS keeps a message's original enqueue time when it
# moves it here, so this queue keeps messages longer (14 days, SQS's maximum) than the alert
# queue does (4 days): a job is never dropped on arrival, and there are two weeks to inspect and
# redrive it. Its depth has an alarm (alert_dead_letters).
resource "aws_sqs_queue" "alerts_dead_letter" {
  name                      = "${var.name}-alerts-dead-letter"
  message_retention_seconds = 1209600
  # The module's customer-managed key when the table has one, else SQS-managed keys.
  kms_master_key_id       = local.use_cmk ? aws_kms_key.data[0].arn : null
  sqs_managed_sse_enabled = local.use_cmk ? null : true
}

resource "aws_sqs_queue" "alerts" {
  name                       = "${var.name}-alerts"
  visibility_timeout_seconds = 6 * local.sender_timeout_seconds
  message_retention_seconds  = 345600
  kms_master_key_id          = local.use_cmk ? aws_kms_key.data[0].arn : null
  sqs_managed_sse_enabled    = local.use_cmk ? null : true
  # A job the sender reports failed (or that crashes it) is received again after the visibility
  # timeout; after 5 receptions it goes to the dead-letter queue. Recipients already sent to are
  # skipped when a job comes back, so a retry never sends twice.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.alerts_dead_letter.arn
    maxReceiveCount     = 5
  })
}

resource "aws_cloudwatch_log_group" "sender" {
  #checkov:skip=CKV_AWS_338:Retention is log_retention_days (90 by default, as long as the query records): the logs are for operations and a year would outlive the data they describe.
  name              = local.sender_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = local.use_cmk ? aws_kms_key.data[0].arn : null
}

resource "aws_iam_role" "sender" {
  name        = "${var.name}-sender"
  description = "votecheck ${var.name} alert sender function"
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

# Only what the sender does (functions/sender-lambda): write its logs; read and write its send
# state, the runs and the funnel counters in the table, and read subscriptions (the audience of an
# expand job) from the index GSI1 with Query (no Scan, no BatchWriteItem, no table
# administration); read its two secrets; consume its queue and put the delivery jobs of an expand
# job back on it; use the key through DynamoDB, SQS and SSM only.
data "aws_iam_policy_document" "sender" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.sender.arn}:*"]
  }

  # Preferences and subscriptions (GetItem), send state, runs, message links and funnel counters
  # (PutItem, UpdateItem; a state change and its counters are one transaction, authorised as its
  # updates and puts), DeleteItem, and the runs of an alert (Query).
  statement {
    sid = "ConversationTable"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
    ]
    resources = [aws_dynamodb_table.conversations.arn]
  }

  # An alert's audience: the subscribers of a topic and language, read from the index in pages
  # (functions/store/src/dynamo/audience.rs).
  statement {
    sid       = "AudienceIndex"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.conversations.arn}/index/GSI1"]
  }

  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["ssm:GetParameters"]
    resources = local.sender_secret_parameter_arns
  }

  # The trigger polls with the function's role (ReceiveMessage, DeleteMessage,
  # GetQueueAttributes); the sender shortens a job's visibility to retry it sooner
  # (ChangeMessageVisibility) and enqueues the delivery jobs of an expand job (SendMessage).
  statement {
    sid = "AlertQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ChangeMessageVisibility",
      "sqs:SendMessage",
    ]
    resources = [aws_sqs_queue.alerts.arn]
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

  # Decrypt to receive a job, GenerateDataKey to enqueue one.
  dynamic "statement" {
    for_each = local.use_cmk ? [aws_kms_key.data[0].arn] : []
    content {
      sid       = "UseQueueKeyThroughSqs"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sqs.${local.region}.amazonaws.com"]
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
}

resource "aws_iam_role_policy" "sender" {
  name   = "sender"
  role   = aws_iam_role.sender.id
  policy = data.aws_iam_policy_document.sender.json
}

# Only the sender's binary, as bootstrap (bash infra/package.sh --function sender), through the
# same bucket as the webhook's package. The key changes with the content, so a new package is a
# new object and the function updates.
resource "aws_s3_object" "sender_package" {
  bucket = var.package_bucket
  key    = "votecheck/${var.name}-sender-${filemd5(var.sender_package_file)}.zip"
  source = var.sender_package_file
  etag   = filemd5(var.sender_package_file)
}

resource "aws_lambda_function" "sender" {
  #checkov:skip=CKV_AWS_116:No Lambda dead-letter queue: it applies only to asynchronous invocations, and the SQS trigger invokes the sender synchronously; the alert queue's redrive policy moves a job that keeps failing to the dead-letter queue, which has an alarm.
  #checkov:skip=CKV_AWS_117:Not in a VPC: the sender calls only public endpoints (Graph API, DynamoDB, SSM, SQS); a VPC would need a NAT gateway and add cost and cold-start time, for no isolation gain.
  #checkov:skip=CKV_AWS_173:The environment holds no secrets (names, the SSM prefix, the send rate), so it is left to Lambda's default encryption at rest; the secrets are in SSM SecureStrings.
  #checkov:skip=CKV_AWS_272:No code signing: each deployer builds the package; integrity is the package.json SHA-256 of bootstrap and the reproducible build (docs/deploy.md).
  #checkov:skip=CKV_AWS_50:No X-Ray tracing: the JSON logs and the EMF metrics count every job and recipient, and traces cost per invocation.
  function_name    = "${var.name}-sender"
  description      = "votecheck alert sender"
  s3_bucket        = aws_s3_object.sender_package.bucket
  s3_key           = aws_s3_object.sender_package.key
  source_code_hash = filebase64sha256(var.sender_package_file)
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  # The same variable as the webhook's: both packages are built for it.
  architectures = [var.architecture]
  # No encoder and no index: the sender holds one job of at most 100 recipients at a time.
  memory_size = 256
  # A job of 100 recipients takes 100 / (send_rate / sender_concurrency) seconds at the send
  # rate; recipients not reached in time are left for SQS's redelivery (alert_retry_later).
  timeout = local.sender_timeout_seconds
  # The send rate is split between this many instances (functions/alerts/src/settings.rs): the
  # same variable as the trigger's maximum concurrency and VOTECHECK_SENDER_CONCURRENCY.
  reserved_concurrent_executions = var.sender_concurrency
  role                           = aws_iam_role.sender.arn

  logging_config {
    log_format = "JSON"
    # The EMF metric lines carry no level and count as INFO: a higher level would drop them.
    application_log_level = "INFO"
    system_log_level      = "INFO"
    log_group             = aws_cloudwatch_log_group.sender.name
  }

  # Exactly the variables of functions/sender-lambda/src/config.rs (with the store's, the Graph
  # API's and the send rate's); no secret is ever set here.
  environment {
    variables = {
      VOTECHECK_TABLE_NAME         = aws_dynamodb_table.conversations.name
      WHATSAPP_PHONE_NUMBER_ID     = var.whatsapp_phone_number_id
      VOTECHECK_GRAPH_VERSION      = var.graph_api_version
      VOTECHECK_SEND_RATE          = tostring(var.send_rate)
      VOTECHECK_SENDER_CONCURRENCY = tostring(var.sender_concurrency)
      # Where the delivery jobs of an expand job go: the queue the sender consumes.
      VOTECHECK_ALERT_QUEUE_URL = aws_sqs_queue.alerts.url
      VOTECHECK_SSM_PREFIX      = var.ssm_prefix
      VOTECHECK_RETENTION_DAYS  = tostring(var.retention_days)
      RUST_LOG                  = "info"
    }
  }

  depends_on = [aws_iam_role_policy.sender]
}

# One job per invocation (batch size 1: a job is already a batch of up to 100 recipients, and one
# slow job does not hold back others); the sender reports a job it could not finish as a batch
# item failure, so only that job comes back. Maximum concurrency equals the reserved concurrency,
# so the trigger never invokes more instances than may run (no throttled batches).
resource "aws_lambda_event_source_mapping" "alerts" {
  event_source_arn        = aws_sqs_queue.alerts.arn
  function_name           = aws_lambda_function.sender.arn
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]
  enabled                 = true

  scaling_config {
    maximum_concurrency = var.sender_concurrency
  }
}

# A timed alert: EventBridge Scheduler puts alert_schedule_job on the alert queue once, at
# alert_schedule_expression (only when it is set). Its role may only send to the alert queue.
resource "aws_iam_role" "alert_schedule" {
  count       = local.has_alert_schedule ? 1 : 0
  name        = "${var.name}-alert-schedule"
  description = "votecheck ${var.name} timed alert (EventBridge Scheduler to the alert queue)"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
}

data "aws_iam_policy_document" "alert_schedule" {
  statement {
    sid       = "EnqueueTheAlertJob"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.alerts.arn]
  }

  dynamic "statement" {
    for_each = local.use_cmk ? [aws_kms_key.data[0].arn] : []
    content {
      sid       = "UseQueueKeyThroughSqs"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sqs.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "alert_schedule" {
  count  = local.has_alert_schedule ? 1 : 0
  name   = "alert-schedule"
  role   = aws_iam_role.alert_schedule[0].id
  policy = data.aws_iam_policy_document.alert_schedule.json
}

resource "aws_scheduler_schedule" "alert" {
  #checkov:skip=CKV_AWS_297:The schedule's payload is the expand job (the alert to send, no phone number or other personal data), encrypted at rest with Scheduler's AWS-owned key; the queue it is delivered to uses the module's key.
  count                        = local.has_alert_schedule ? 1 : 0
  name                         = "${var.name}-alert"
  description                  = "votecheck ${var.name} - a timed alert (set alert_schedule_expression to null once it has gone out)"
  schedule_expression          = var.alert_schedule_expression
  schedule_expression_timezone = var.alert_schedule_timezone
  state                        = "ENABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sqs_queue.alerts.arn
    role_arn = aws_iam_role.alert_schedule[0].arn
    input    = var.alert_schedule_job

    # Retried for up to an hour if the queue cannot be reached; a timed alert later than that is
    # dropped rather than sent out of its time.
    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 185
    }
  }

  lifecycle {
    precondition {
      condition     = var.alert_schedule_job != null
      error_message = "alert_schedule_job (the job printed by votecheck alerts send --print-job) is required when alert_schedule_expression is set."
    }
  }

  depends_on = [aws_iam_role_policy.alert_schedule]
}

# Jobs that failed 5 times are waiting in the dead-letter queue: recipients of an alert have not
# been sent to (docs/deploy.md: inspect, then redrive).
resource "aws_cloudwatch_metric_alarm" "alert_dead_letters" {
  alarm_name          = "${var.name}-alert-dead-letters"
  alarm_description   = "votecheck ${var.name} - alert jobs in the dead-letter queue (inspect, then redrive; docs/deploy.md)"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.alerts_dead_letter.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Alert messages the Cloud API refused for good (the sender's EMF metric alert_failed,
# functions/sender-lambda/src/metrics.rs): a template not approved, parameters refused, an
# expired token... A few are expected in a large send (numbers no longer on WhatsApp).
resource "aws_cloudwatch_metric_alarm" "alert_send_failures" {
  alarm_name          = "${var.name}-alert-send-failures"
  alarm_description   = "votecheck ${var.name} - alert messages refused by the Cloud API (see the sender's log group)"
  namespace           = "votecheck"
  metric_name         = "alert_failed"
  dimensions          = { function = aws_lambda_function.sender.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.send_failures_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Sender crashes, timeouts and start-up failures (a bad configuration, a missing secret). A job
# reported as a batch item failure is not an error: it is redelivered, then dead-lettered.
resource "aws_cloudwatch_metric_alarm" "sender_errors" {
  alarm_name          = "${var.name}-sender-errors"
  alarm_description   = "votecheck ${var.name} - the alert sender failed (see its log group)"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.sender.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
