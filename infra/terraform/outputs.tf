# Outputs of the votecheck module: what to register in the Meta app, and the names an operator
# needs (votecheck report, logs, votecheck alerts send --queue).

output "webhook_url" {
  description = "The callback URL to register in the Meta app (WhatsApp > Configuration > Webhook)."
  value       = aws_lambda_function_url.webhook.function_url
}

output "verify_token_instructions" {
  description = "How to complete the webhook registration."
  value       = "In the Meta app dashboard (WhatsApp > Configuration > Edit webhook) enter webhook_url as callback URL and, as verify token, the value printed by: aws ssm get-parameter --with-decryption --name ${var.ssm_prefix}/whatsapp-verify-token --query Parameter.Value --output text ; then Verify and save, and subscribe to the messages field."
}

output "function_name" {
  description = "The webhook's Lambda function."
  value       = aws_lambda_function.webhook.function_name
}

output "table_name" {
  description = "The DynamoDB table (votecheck report --store dynamodb://<name>)."
  value       = aws_dynamodb_table.conversations.name
}

output "log_group_name" {
  description = "The function's log group (JSON lines; corpus_version is in the \"index opened\" line)."
  value       = aws_cloudwatch_log_group.function.name
}

output "alert_queue_url" {
  description = "The alert queue: votecheck alerts send --queue <this URL> enqueues an alert's jobs."
  value       = aws_sqs_queue.alerts.url
}

output "alert_dead_letter_queue_url" {
  description = "The alert jobs that failed 5 times (inspect, then redrive them to the alert queue; docs/deploy.md)."
  value       = aws_sqs_queue.alerts_dead_letter.url
}

output "sender_function_name" {
  description = "The alert sender's Lambda function."
  value       = aws_lambda_function.sender.function_name
}

output "sender_log_group_name" {
  description = "The alert sender's log group (JSON lines and its EMF metrics)."
  value       = aws_cloudwatch_log_group.sender.name
}
