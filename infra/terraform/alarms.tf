# Alarms of the votecheck module: function errors and throttles (AWS/Lambda), and the function's
# own EMF metrics (namespace votecheck, dimension `function` = the function's name, so two
# deployments in one account and region keep apart: functions/webhook-lambda/src/metrics.rs) for replies
# failing at the Graph API and for an expired WhatsApp access token. They notify
# `alarm_topic_arn` when it is set.

locals {
  alarm_actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  # Replies that could not be sent after the client's retries or in the time left;
  # graph_outside_window (the 24-hour window closed: expected) and graph_token_expired (its own
  # alarm) are left out.
  graph_failure_metrics = {
    server     = "graph_server_error"
    network    = "graph_network"
    timeout    = "graph_timeout"
    limited    = "graph_rate_limited"
    client     = "graph_client_error"
    unexpected = "graph_unexpected_response"
    # The invocation's deadline cut a Graph API call, or left a message to WhatsApp's redelivery
    # (docs/deploy.md, "Time budget").
    deadline = "graph_deadline"
    no_time  = "deadline_reached"
  }
}

# Crashes, timeouts and start-up failures (a bad configuration, a missing secret, an unreadable
# index). A refused or failed webhook is an answer, not an error.
resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-errors"
  alarm_description   = "votecheck ${var.name} - the webhook function failed (see its log group)"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.webhook.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${var.name}-throttles"
  alarm_description   = "votecheck ${var.name} - invocations throttled (raise reserved_concurrency)"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.webhook.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "graph_failures" {
  alarm_name          = "${var.name}-graph-failures"
  alarm_description   = "votecheck ${var.name} - replies failing at the Graph API"
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "failures"
    label       = "Graph API failures"
    expression  = join(" + ", [for id in keys(local.graph_failure_metrics) : "FILL(${id}, 0)"])
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.graph_failure_metrics
    content {
      id = metric_query.key
      metric {
        namespace   = "votecheck"
        metric_name = metric_query.value
        dimensions  = { function = aws_lambda_function.webhook.function_name }
        period      = 300
        stat        = "Sum"
      }
    }
  }
}

# The WhatsApp access token expired or was revoked: no citizen gets an answer until a new one is
# stored in SSM (docs/deploy.md, "Rotating the access token").
resource "aws_cloudwatch_metric_alarm" "token_expired" {
  alarm_name          = "${var.name}-token-expired"
  alarm_description   = "votecheck ${var.name} - the WhatsApp access token has expired; replace ${var.ssm_prefix}/whatsapp-access-token"
  namespace           = "votecheck"
  metric_name         = "graph_token_expired"
  dimensions          = { function = aws_lambda_function.webhook.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
