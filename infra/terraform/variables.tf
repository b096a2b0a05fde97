# Inputs of the votecheck module, the same choices as the SAM template's parameters (see
# docs/deploy.md). Only `whatsapp_phone_number_id` has no default. No secret is an input: the four
# secrets live in SSM Parameter Store under `ssm_prefix` and are created outside Terraform.

variable "name" {
  description = "Name of the function and the table, and prefix of the other resources."
  type        = string
  default     = "votecheck"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,48}$", var.name))
    error_message = "name: letters, digits, - and _ only, at most 48 characters."
  }
}

variable "package_file" {
  description = "The zip written by `bash infra/package.sh` (bootstrap, index/, model/, package.json)."
  type        = string
  default     = "../../target/lambda/votecheck.zip"
}

variable "package_bucket" {
  # With the encoder's model the package is over Lambda's 50 MB limit for a direct upload; from
  # S3 the limit is 250 MB unzipped. Any bucket the deployer may write to (versioned, encrypted).
  description = "An existing S3 bucket the deployment package is uploaded to before the function is created from it."
  type        = string
}

variable "whatsapp_phone_number_id" {
  description = "The WhatsApp business phone number id that replies (not a secret)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+$", var.whatsapp_phone_number_id))
    error_message = "whatsapp_phone_number_id: digits only (the phone number id, not the phone number)."
  }
}

variable "graph_api_version" {
  description = "The Graph API version the replies are sent with."
  type        = string
  default     = "v25.0"

  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+$", var.graph_api_version))
    error_message = "graph_api_version looks like v25.0."
  }
}

variable "ssm_prefix" {
  description = "SSM path of the SecureString secrets whatsapp-access-token, whatsapp-app-secret, whatsapp-verify-token and id-salt."
  type        = string
  default     = "/votecheck/prod"

  validation {
    condition     = can(regex("^(/[A-Za-z0-9_.-]+)+$", var.ssm_prefix))
    error_message = "ssm_prefix is a path such as /votecheck/prod (leading slash, no trailing slash)."
  }
}

variable "secrets_kms_key_arn" {
  description = "The KMS key of the secrets, only if not SSM's default key alias/aws/ssm; null for the default."
  type        = string
  default     = null
}

variable "architecture" {
  description = "x86_64 or arm64; must match the package (package.json says which)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture is x86_64 or arm64."
  }
}

variable "memory_size" {
  # Memory buys CPU (one vCPU at 1,769 MB) and the sentence encoder is CPU work: answer p50
  # 296 ms at 512 MB, 94 ms at 1,024, 48 ms at 1,769 (docs/deploy.md, "Memory and timeout").
  description = "Function memory in MB."
  type        = number
  default     = 1769

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size is between 128 and 10240."
  }
}

variable "reserved_concurrency" {
  description = "Reserved (and maximum) concurrent executions; -1 for no reservation."
  type        = number
  default     = 25

  validation {
    condition     = var.reserved_concurrency >= -1
    error_message = "reserved_concurrency is -1 (none) or a number of executions."
  }
}

variable "tracing" {
  description = "Trace each invocation with AWS X-Ray."
  type        = bool
  default     = false
}

variable "rate_limit" {
  description = "Messages per citizen per window of seconds (VOTECHECK_RATE_LIMIT)."
  type        = string
  default     = "20/600"

  # At least 1 message per window of at least 1 second: 0/600 would drop every message.
  validation {
    condition     = can(regex("^[1-9][0-9]{0,5}/[1-9][0-9]{0,6}$", var.rate_limit))
    error_message = "rate_limit is at least 1 message per window of at least 1 second, such as 20/600."
  }
}

variable "retention_days" {
  description = "Days the query records are kept (VOTECHECK_RETENTION_DAYS, DynamoDB TTL)."
  type        = number
  default     = 90

  validation {
    condition     = var.retention_days >= 1 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days is a whole number of days, at least 1."
  }
}

variable "table_encryption" {
  description = "customer-managed (a KMS key of this module encrypts the table, the logs and the alert queues) or aws-owned (the services' default keys)."
  type        = string
  default     = "customer-managed"

  validation {
    condition     = contains(["customer-managed", "aws-owned"], var.table_encryption)
    error_message = "table_encryption is customer-managed or aws-owned."
  }
}

variable "point_in_time_recovery_days" {
  description = "Days of point-in-time recovery of the table (deleted records stay recoverable this long)."
  type        = number
  default     = 7

  validation {
    condition     = var.point_in_time_recovery_days >= 1 && var.point_in_time_recovery_days <= 35
    error_message = "point_in_time_recovery_days is between 1 and 35."
  }
}

variable "log_retention_days" {
  description = "Days the function's logs are kept."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.log_retention_days)
    error_message = "log_retention_days is one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify; null for alarms that only change state."
  type        = string
  default     = null
}

# The alert sender (alerts.tf).

variable "sender_package_file" {
  description = "The sender's zip written by `bash infra/package.sh --function sender` (bootstrap and package.json only)."
  type        = string
  default     = "../../target/lambda/votecheck-sender.zip"
}

variable "send_rate" {
  # WhatsApp's throughput for one business number: 80 messages a second by default, raised by
  # Meta up to 1,000 for some accounts. The sender never goes above it.
  description = "Alert messages per second for the whole business number (VOTECHECK_SEND_RATE)."
  type        = number
  default     = 80

  validation {
    condition     = var.send_rate >= 1 && var.send_rate <= 1000 && floor(var.send_rate) == var.send_rate
    error_message = "send_rate is a whole number of messages per second from 1 to 1000."
  }
}

variable "sender_concurrency" {
  # The send rate is split between this many sender instances (functions/alerts/src/settings.rs:
  # no counter in the store, so reserved concurrency is what bounds the instances). The same value
  # is the sender's reserved concurrency, its trigger's maximum concurrency (at least 2, SQS's
  # minimum) and VOTECHECK_SENDER_CONCURRENCY, so they cannot disagree.
  description = "Sender instances sharing send_rate: the sender's reserved concurrency and its queue trigger's maximum concurrency."
  type        = number
  default     = 2

  validation {
    condition     = var.sender_concurrency >= 2 && var.sender_concurrency <= 1000 && floor(var.sender_concurrency) == var.sender_concurrency
    error_message = "sender_concurrency is a whole number from 2 (SQS's minimum maximum concurrency) to 1000."
  }
}

variable "send_failures_threshold" {
  description = "The send-failures alarm fires when more than this many alert messages are refused for good (alert_failed) within 5 minutes."
  type        = number
  default     = 25

  validation {
    condition     = var.send_failures_threshold >= 1
    error_message = "send_failures_threshold is at least 1."
  }
}

variable "alert_schedule_expression" {
  description = "When to enqueue alert_schedule_job: an EventBridge Scheduler one-time expression such as at(2026-11-03T07:00:00), in alert_schedule_timezone; null for no schedule."
  type        = string
  default     = null

  # One-time schedules only: a timed alert is sent once.
  validation {
    condition     = var.alert_schedule_expression == null || can(regex("^at\\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\)$", var.alert_schedule_expression))
    error_message = "alert_schedule_expression is null or a one-time schedule such as at(2026-11-03T07:00:00)."
  }
}

variable "alert_schedule_timezone" {
  description = "The time zone of alert_schedule_expression (an IANA name such as America/New_York)."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^[A-Za-z0-9_+/-]+$", var.alert_schedule_timezone))
    error_message = "alert_schedule_timezone is an IANA time zone name such as UTC or America/New_York."
  }
}

variable "alert_schedule_job" {
  # Opaque to the module: the JSON object printed by `votecheck alerts send --print-job`.
  description = "The message the schedule puts on the alert queue: the job printed by `votecheck alerts send --print-job`, as is (opaque JSON). Required with alert_schedule_expression."
  type        = string
  default     = null

  validation {
    condition     = var.alert_schedule_job == null || can(keys(jsondecode(var.alert_schedule_job)))
    error_message = "alert_schedule_job is null or the JSON object printed by votecheck alerts send --print-job."
  }
}
