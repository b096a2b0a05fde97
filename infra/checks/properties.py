#!/usr/bin/env python3
"""Property checks of the deployment templates: the things a security reviewer and the function's
code rely on, asserted on the SAM template, on its plain CloudFormation transform and on the
Terraform module, so that an edit (or a tool upgrade) cannot silently drop them.

    python3 properties.py [--sam SAM.json] [--cfn TRANSFORMED.json] [--terraform MODULE.json]
                          --repository ROOT

The inputs are JSON written by sam_transform.py (CloudFormation's long-form intrinsics) and
terraform_json.py (python-hcl2); this script needs only the standard library. It prints every
problem, one per line, and exits with status 1 if there is any, else prints what it checked.

Checked for each template, on the webhook function:
- the function: runtime provided.al2023, handler `bootstrap`, the Architecture parameter
  (x86_64 or arm64), a timeout, reserved concurrency set by default, JSON logs at INFO (the EMF
  metric lines count as INFO) into the template's own log group;
- its environment: only variables that functions/webhook-lambda/src/config.rs reads (with the store's and Graph API's config.rs), VOTECHECK_SSM_PREFIX
  set, none of the four secrets and no value that looks like a secret;
- the log group: a retention, and the customer-managed key when chosen;
- the table: exactly the keys, index, capacity mode and TTL of
  functions/store/table-definition.json, point-in-time recovery on, encryption with the
  customer-managed key by default and DynamoDB's own key when `aws-owned` is chosen;
- the Function URL: auth NONE, with both permissions a public URL needs;
- the role: exactly the table actions the store uses on the table's ARN, ssm:GetParameters on the
  four secrets under the prefix only, KMS only through DynamoDB or SSM, no wildcard actions;
- the alarms: Errors, Throttles, Graph API failures and token expiry, on metric names that the
  code emits (namespace from functions/webhook-lambda/src/metrics.rs);
- the KMS key rotates; the outputs give the webhook URL and the verify-token instructions.

And on the alert sender (functions/sender-lambda):
- the function: runtime, handler, the same Architecture parameter, a timeout, reserved concurrency
  equal to the SenderConcurrency parameter (whose default and limits, and SendRate's, are those
  of functions/alerts/src/settings.rs), JSON logs at INFO into its own log group (retention,
  customer-managed key, named in the key's policy);
- its environment: only variables that functions/sender-lambda/src/config.rs documents and that
  it, the store's, the Graph API's and the send settings' code read, the required ones set from
  the right parameters, no Graph base URL, no secret and no value that looks like one;
- its role: exactly the table actions it needs on the table's ARN, Query on the audience index
  only, ssm:GetParameters on the two secrets it reads (functions/sender-lambda/src/config.rs),
  exactly the SQS actions it needs on the alert queue only, KMS only through DynamoDB, SQS or
  SSM, its own log group, no wildcard action or resource, no managed policy;
- the alert queue and its dead-letter queue: encrypted (the customer-managed key by default,
  SQS-managed keys with `aws-owned`), a redrive policy to the dead-letter queue, a visibility
  timeout of 6 x the function's timeout, the dead-letter queue keeping messages 14 days;
- the queue trigger: the alert queue to the sender, ReportBatchItemFailures, batch size 1,
  maximum concurrency = SenderConcurrency;
- the alarms: the dead-letter queue's depth, alert_failed and the sender's Errors, on names that
  functions/sender-lambda/src/metrics.rs declares, with its namespace and dimension;
- the optional schedule: none by default; when an expression is set, a one-time schedule to the
  alert queue whose own role may only send to it (and use the key through SQS);
- the outputs: the alert queue's URL, the dead-letter queue's URL and the sender's name.
"""

import argparse
import json
import os
import re
import sys

SECRET_VARIABLES = {"WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "VOTECHECK_ID_SALT"}
# Where the function's configuration is read: its own variables, and the store's and the Graph
# API client's, which read theirs themselves.
CONFIG_FILES = (
    "functions/webhook-lambda/src/config.rs",
    "functions/store/src/config.rs",
    "functions/graph/src/config.rs",
)
METRICS_FILE = "functions/webhook-lambda/src/metrics.rs"
# The variables the function reads (CONFIG_FILES) that a deployment may set.
ALLOWED_VARIABLES = {
    "VOTECHECK_INDEX_DIR",
    "VOTECHECK_TABLE_NAME",
    "WHATSAPP_PHONE_NUMBER_ID",
    "VOTECHECK_GRAPH_BASE_URL",
    "VOTECHECK_GRAPH_VERSION",
    "VOTECHECK_SSM_PREFIX",
    "VOTECHECK_RETENTION_DAYS",
    "VOTECHECK_RATE_LIMIT",
    "VOTECHECK_MODEL",
    "CANDLE_NUM_THREADS",
    "RUST_LOG",
}
# What functions/store/src/dynamo does on the table (TransactWriteItems is authorised as the
# PutItem and DeleteItem inside it).
TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
}
SECRET_PARAMETERS = ["whatsapp-access-token", "whatsapp-app-secret", "whatsapp-verify-token", "id-salt"]

# The alert sender. Its configuration is read by its own config.rs and by the store's, the Graph
# API client's and the send settings' code.
SENDER_CONFIG = "functions/sender-lambda/src/config.rs"
SENDER_CONFIG_FILES = (
    SENDER_CONFIG,
    "functions/store/src/config.rs",
    "functions/graph/src/config.rs",
    "functions/alerts/src/settings.rs",
)
SENDER_SETTINGS = "functions/alerts/src/settings.rs"
SENDER_METRICS_FILE = "functions/sender-lambda/src/metrics.rs"
# The variables functions/sender-lambda/src/config.rs documents that a deployment may set (the
# secrets never: they come from SSM).
SENDER_ALLOWED_VARIABLES = {
    "VOTECHECK_TABLE_NAME",
    "WHATSAPP_PHONE_NUMBER_ID",
    "VOTECHECK_GRAPH_BASE_URL",
    "VOTECHECK_GRAPH_VERSION",
    "VOTECHECK_SEND_RATE",
    "VOTECHECK_SENDER_CONCURRENCY",
    "VOTECHECK_ALERT_QUEUE_URL",
    "VOTECHECK_SSM_PREFIX",
    "VOTECHECK_RETENTION_DAYS",
    "RUST_LOG",
}
# Those a deployment must set, and the parameter (CloudFormation) or variable (Terraform) each
# comes from; VOTECHECK_TABLE_NAME names the table, VOTECHECK_ALERT_QUEUE_URL the alert queue
# (where the delivery jobs of an expand job go).
SENDER_VARIABLE_SOURCES = {
    "WHATSAPP_PHONE_NUMBER_ID": ("WhatsAppPhoneNumberId", "${var.whatsapp_phone_number_id}"),
    "VOTECHECK_SEND_RATE": ("SendRate", "${tostring(var.send_rate)}"),
    "VOTECHECK_SENDER_CONCURRENCY": ("SenderConcurrency", "${tostring(var.sender_concurrency)}"),
    "VOTECHECK_SSM_PREFIX": ("SsmPrefix", "${var.ssm_prefix}"),
}
# Only for tests against a local server: never in a deployment.
SENDER_NOT_DEPLOYED = {"VOTECHECK_GRAPH_BASE_URL"}
# What the sender does on the table (a transaction is authorised as the puts and updates inside
# it), and on the audience index.
SENDER_TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
}
SENDER_INDEX_ACTIONS = {"dynamodb:Query"}
# The trigger polls with the function's role; the sender changes a job's visibility and enqueues
# the delivery jobs of an expand job.
SENDER_QUEUE_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
    "sqs:SendMessage",
}
SCHEDULE_QUEUE_ACTIONS = {"sqs:SendMessage"}
# SQS keeps messages at most 14 days; the dead-letter queue keeps them that long.
DEAD_LETTER_RETENTION_SECONDS = 14 * 86400
# AWS's recommendation for a queue that triggers a function.
VISIBILITY_TIMEOUT_FACTOR = 6
# Values of the schedule expression the templates must accept and refuse (one-time schedules).
SCHEDULES_ACCEPTED = ["at(2026-11-03T07:00:00)"]
SCHEDULES_REFUSED = ["rate(5 minutes)", "cron(0 7 3 11 ? 2026)", "at(2026-11-03)", "at(2026-11-03T07:00:00) "]
LOOKS_SECRET = re.compile(r"^(EAA[A-Za-z0-9]{20,}|[0-9a-fA-F]{32,}|[A-Za-z0-9+/=_-]{40,})$")


class Problems:
    def __init__(self):
        self.found = []
        self.checked = 0

    def check(self, condition, where, message):
        self.checked += 1
        if not condition:
            self.found.append(f"{where}: {message}")
        return bool(condition)


def load(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def source_text(repository, relative):
    with open(os.path.join(repository, relative), encoding="utf-8") as file:
        return file.read()


def code_facts(repository, problems):
    """What the templates must agree with, read from the code."""
    # The function's own variables, and those of the store and the Graph API client, which read
    # their settings themselves (the same code serves `votecheck serve`).
    config = "\n".join(source_text(repository, relative) for relative in CONFIG_FILES)
    where = " + ".join(CONFIG_FILES)
    for name in sorted(ALLOWED_VARIABLES | SECRET_VARIABLES):
        if name != "RUST_LOG":
            problems.check(f'"{name}"' in config, where, f"no longer reads {name}: update the checks")
    for name in SECRET_PARAMETERS:
        problems.check(f'"{name}"' in config, where, f"no SSM secret named {name}: update the checks")
    metrics = source_text(repository, METRICS_FILE)
    namespace = re.search(r'pub const NAMESPACE: &str = "([^"]+)"', metrics)
    problems.check(namespace, METRICS_FILE, "no NAMESPACE constant")
    dimension = re.search(r'pub const FUNCTION_DIMENSION: &str = "([^"]+)"', metrics)
    problems.check(dimension, METRICS_FILE, "no FUNCTION_DIMENSION constant")
    emitted = set()
    for relative in ("functions/graph/src/error.rs", "functions/webhook/src/handler.rs", METRICS_FILE):
        emitted |= set(re.findall(r'"(graph_[a-z_]+|deadline_reached)"', source_text(repository, relative)))
    facts = {
        "table": load(os.path.join(repository, "functions/store/table-definition.json")),
        "namespace": namespace.group(1) if namespace else None,
        "dimension": dimension.group(1) if dimension else None,
        "metrics": emitted,
    }
    facts["sender"] = sender_facts(repository, problems)
    return facts


def sender_facts(repository, problems):
    """What the alert sender's templates must agree with, read from its code."""
    config = "\n".join(source_text(repository, relative) for relative in SENDER_CONFIG_FILES)
    where = " + ".join(SENDER_CONFIG_FILES)
    for name in sorted(SENDER_ALLOWED_VARIABLES | {"WHATSAPP_ACCESS_TOKEN", "VOTECHECK_ID_SALT"}):
        if name != "RUST_LOG":
            problems.check(f'"{name}"' in config, where, f"no longer reads {name}: update the checks")
    # Every variable the sender's config.rs documents (its table's first column) may be set, and
    # no other: a variable added there must be added here too, deliberately.
    own = source_text(repository, SENDER_CONFIG)
    documented = set(re.findall(r"^//! \| `([A-Z_]+)`", own, re.MULTILINE))
    documented |= set(re.findall(r"^//! \| `[A-Z_]+`, `([A-Z_]+)`", own, re.MULTILINE))
    documented -= {"WHATSAPP_ACCESS_TOKEN", "VOTECHECK_ID_SALT"}
    problems.check(
        documented | {"RUST_LOG"} == SENDER_ALLOWED_VARIABLES,
        SENDER_CONFIG,
        f"documents {sorted(documented)}; the checks allow {sorted(SENDER_ALLOWED_VARIABLES - {'RUST_LOG'})}: update one or the other",
    )
    secrets = re.findall(r'pub const SSM_[A-Z_]+: &str = "([^"]+)"', own)
    problems.check(secrets, SENDER_CONFIG, "no SSM_* constants naming the secrets")
    metrics_text = source_text(repository, SENDER_METRICS_FILE)
    namespace = re.search(r'pub const NAMESPACE: &str = "([^"]+)"', metrics_text)
    dimension = re.search(r'pub const FUNCTION_DIMENSION: &str = "([^"]+)"', metrics_text)
    declared = re.search(r"pub const METRICS: \[&str; \d+\] = \[([^\]]*)\]", metrics_text)
    problems.check(namespace and dimension, SENDER_METRICS_FILE, "no NAMESPACE or FUNCTION_DIMENSION constant")
    problems.check(declared, SENDER_METRICS_FILE, "no METRICS array")
    settings = source_text(repository, SENDER_SETTINGS)

    def constant(name):
        match = re.search(rf"pub const {name}: u32 = ([0-9_]+);", settings)
        problems.check(match, SENDER_SETTINGS, f"no constant {name}")
        return int(match.group(1).replace("_", "")) if match else None

    return {
        "secrets": sorted(secrets),
        "namespace": namespace.group(1) if namespace else None,
        "dimension": dimension.group(1) if dimension else None,
        "metrics": set(re.findall(r'"([a-z_]+)"', declared.group(1))) if declared else set(),
        "default_rate": constant("DEFAULT_SEND_RATE"),
        "max_rate": constant("MAX_SEND_RATE"),
        "default_concurrency": constant("DEFAULT_SENDER_CONCURRENCY"),
    }


# ---------------------------------------------------------------------------------------------
# CloudFormation (the SAM template and its transform)


class Cfn:
    """A CloudFormation template with its parameters set (defaults, then overrides)."""

    def __init__(self, template, overrides=None):
        self.template = template
        self.values = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
        self.values.update(overrides or {})
        self.conditions = {}

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = bool(self.evaluate(self.template.get("Conditions", {})[name]))
        return self.conditions[name]

    def evaluate(self, node):
        if isinstance(node, dict) and len(node) == 1:
            ((key, argument),) = node.items()
            if key == "Ref":
                if argument == "AWS::NoValue":
                    return None
                return self.values.get(argument, node)
            if key == "Fn::Equals":
                left, right = (self.evaluate(item) for item in argument)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.evaluate(argument[0])
            if key == "Fn::And":
                return all(self.evaluate(item) for item in argument)
            if key == "Fn::Or":
                return any(self.evaluate(item) for item in argument)
            if key == "Condition":
                return self.condition(argument)
            if key == "Fn::If":
                name, when_true, when_false = argument
                return self.evaluate(when_true if self.condition(name) else when_false)
        if isinstance(node, dict):
            resolved = {key: self.evaluate(value) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value is not None}
        if isinstance(node, list):
            return [item for item in (self.evaluate(value) for value in node) if item is not None]
        return node

    def resources(self, *types):
        for name, resource in self.template.get("Resources", {}).items():
            if resource.get("Type") in types and ("Condition" not in resource or self.condition(resource["Condition"])):
                yield name, self.evaluate(resource.get("Properties", {})), resource

    def one(self, where, problems, *types):
        found = list(self.resources(*types))
        problems.check(len(found) == 1, where, f"expected one {' or '.join(types)}, found {len(found)}")
        return found[0] if found else (None, {}, {})

    def named(self, where, problems, name, *types):
        """The resource `name`, which must exist (with its condition true) and be of `types`."""
        found = [entry for entry in self.resources(*types) if entry[0] == name]
        problems.check(found, where, f"expected the {' or '.join(types)} {name}")
        return found[0] if found else (name, {}, {})

    def raw(self, name, key):
        """A property of resource `name` as written (intrinsics not evaluated)."""
        return self.template.get("Resources", {}).get(name, {}).get("Properties", {}).get(key)


def refers_to(value, name):
    """Whether a CloudFormation value is a Ref or GetAtt of `name`."""
    if isinstance(value, dict):
        if value.get("Ref") == name:
            return True
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and attribute[0] == name:
            return True
        if isinstance(attribute, str) and attribute.split(".")[0] == name:
            return True
    return False


def statements(role_properties):
    for policy in role_properties.get("Policies", []):
        for statement in policy.get("PolicyDocument", {}).get("Statement", []):
            yield statement


def as_list(value):
    return value if isinstance(value, list) else [value]


# The functions' logical names, in the SAM template and in its transform.
WEBHOOK_FUNCTION = "WebhookFunction"
SENDER_FUNCTION = "SenderFunction"


def check_cfn(path, template, facts, problems):
    where = os.path.basename(path)
    is_sam = "AWS::Serverless-2016-10-31" in as_list(template.get("Transform", []))
    cfn = Cfn(template)

    parameter = template.get("Parameters", {}).get("Architecture", {})
    problems.check(
        sorted(parameter.get("AllowedValues", [])) == ["arm64", "x86_64"] and parameter.get("Default") == "x86_64",
        where,
        "the Architecture parameter must allow x86_64 and arm64 and default to x86_64",
    )

    function_type = "AWS::Serverless::Function" if is_sam else "AWS::Lambda::Function"
    functions = sorted(name for name, _, _ in cfn.resources(function_type))
    problems.check(
        functions == sorted([WEBHOOK_FUNCTION, SENDER_FUNCTION]),
        where,
        f"expected the functions {WEBHOOK_FUNCTION} and {SENDER_FUNCTION}, found {functions}",
    )
    function_name, function, _ = cfn.named(where, problems, WEBHOOK_FUNCTION, function_type)
    where_function = f"{where} {function_name}"
    problems.check(function.get("Runtime") == "provided.al2023", where_function, "Runtime must be provided.al2023")
    problems.check(function.get("Handler") == "bootstrap", where_function, "Handler must be bootstrap")
    problems.check(
        function.get("Architectures") == [cfn.values.get("Architecture")] and refers_to(
            template["Resources"][function_name]["Properties"].get("Architectures", [None])[0], "Architecture"
        ),
        where_function,
        "Architectures must be [!Ref Architecture]",
    )
    timeout = function.get("Timeout")
    problems.check(isinstance(timeout, int) and 10 <= timeout <= 60, where_function, f"Timeout must be 10-60 s, is {timeout}")
    problems.check(
        isinstance(function.get("ReservedConcurrentExecutions"), int) and function["ReservedConcurrentExecutions"] >= 1,
        where_function,
        "ReservedConcurrentExecutions must be set by default",
    )
    logging = function.get("LoggingConfig", {})
    problems.check(logging.get("LogFormat") == "JSON", where_function, "LoggingConfig.LogFormat must be JSON")
    problems.check(
        logging.get("ApplicationLogLevel") in ("INFO", "DEBUG", "TRACE"),
        where_function,
        "ApplicationLogLevel must be INFO or lower: the EMF metric lines count as INFO",
    )
    # One log group per function; each function logs into its own (checked with the sender).
    log_groups = list(cfn.resources("AWS::Logs::LogGroup"))
    problems.check(len(log_groups) == 2, where, f"expected two log groups (the webhook's and the sender's), found {len(log_groups)}")
    problems.check(
        any(refers_to(logging.get("LogGroup"), name) for name, _, _ in log_groups),
        where_function,
        "logs must go to the template's log group",
    )
    key_policies = json.dumps([key.get("KeyPolicy") for _, key, _ in cfn.resources("AWS::KMS::Key")])
    for log_group_name, log_group, _ in log_groups:
        retention = log_group.get("RetentionInDays")
        problems.check(isinstance(retention, int) and 1 <= retention <= 365, where, f"the log group needs a retention, has {retention}")
        problems.check("KmsKeyId" in log_group, where, "the log group must use the customer-managed key by default")
        # CloudWatch Logs may use the key only for the log groups its policy names.
        named = log_group.get("LogGroupName", {})
        named = named.get("Fn::Sub") if isinstance(named, dict) else named
        problems.check(
            isinstance(named, str) and named in key_policies,
            f"{where} {log_group_name}",
            f"the key's policy must let CloudWatch Logs encrypt this log group ({named})",
        )

    variables = function.get("Environment", {}).get("Variables", {})
    check_environment(where_function, variables, problems)
    problems.check(refers_to(variables.get("VOTECHECK_TABLE_NAME"), table_name(cfn)), where_function, "VOTECHECK_TABLE_NAME must name the template's table")

    parameters = template.get("Parameters", {})
    check_rate_limit_pattern(where, parameters.get("RateLimit", {}).get("AllowedPattern"), problems)
    retention_minimum = parameters.get("RetentionDays", {}).get("MinValue")
    problems.check(
        isinstance(retention_minimum, int) and retention_minimum >= 1,
        where,
        "RetentionDays needs MinValue 1 or more (0 days is refused by the function)",
    )

    check_cfn_table(where, cfn, template, facts, problems)
    check_cfn_url(where, cfn, function_name, problems)
    check_cfn_role(where, cfn, function, facts, problems)
    check_cfn_alarms(where, cfn, facts, problems)
    check_cfn_sender(where, template, function_type, facts, problems)

    keys = list(cfn.resources("AWS::KMS::Key"))
    problems.check(len(keys) == 1 and all(key.get("EnableKeyRotation") is True for _, key, _ in keys), where, "one KMS key, rotating")
    outputs = template.get("Outputs", {})
    problems.check(
        any("FunctionUrl" in json.dumps(output.get("Value")) for output in outputs.values()),
        where,
        "an output must give the webhook URL",
    )
    problems.check(
        any("whatsapp-verify-token" in json.dumps(output.get("Value")) for output in outputs.values()),
        where,
        "an output must say how to read the verify token",
    )

    # The other choices: no reserved concurrency, and the AWS-owned key.
    aws_owned = Cfn(template, {"TableEncryption": "aws-owned", "ReservedConcurrency": -1})
    _, table, _ = aws_owned.one(where, problems, "AWS::DynamoDB::Table")
    problems.check(
        table.get("SSESpecification", {}).get("SSEEnabled") is False and "KMSMasterKeyId" not in table.get("SSESpecification", {}),
        where,
        "with TableEncryption=aws-owned the table must use DynamoDB's own key (SSEEnabled false)",
    )
    problems.check(not list(aws_owned.resources("AWS::KMS::Key")), where, "with TableEncryption=aws-owned no KMS key is created")
    _, function_without, _ = aws_owned.named(where, problems, WEBHOOK_FUNCTION, function_type)
    problems.check(
        "ReservedConcurrentExecutions" not in function_without,
        where,
        "ReservedConcurrency=-1 must leave the function without a reservation",
    )


# Values of VOTECHECK_RATE_LIMIT the templates must refuse (the function refuses them at start-up:
# 0/600 would drop every message) and values they must accept.
RATE_LIMITS_REFUSED = ["0/600", "20/0", "00/600", "-1/600", "20/600 ", "20", "/600", "twenty/600"]
RATE_LIMITS_ACCEPTED = ["20/600", "1/1", "100/3600"]


def check_rate_limit_pattern(where, pattern, problems):
    """The template's rate-limit pattern (a CloudFormation AllowedPattern, or the regex of a
    Terraform validation) must refuse what the function refuses."""
    if not isinstance(pattern, str):
        problems.check(False, where, "the rate limit needs a pattern (AllowedPattern or a validation regex)")
        return
    accepted = [value for value in RATE_LIMITS_REFUSED if re.fullmatch(pattern, value)]
    refused = [value for value in RATE_LIMITS_ACCEPTED if not re.fullmatch(pattern, value)]
    problems.check(not accepted, where, f"the rate limit pattern {pattern!r} accepts {accepted}, which the function refuses")
    problems.check(not refused, where, f"the rate limit pattern {pattern!r} refuses {refused}")


def terraform_validation_regex(variable):
    """The pattern in a variable's `can(regex("...", var.x))` validation, if any."""
    for validation in blocks(variable, "validation"):
        match = re.search(r'regex\("((?:[^"\\]|\\.)*)"', str(validation.get("condition", "")))
        if match:
            return match.group(1).replace("\\\\", "\\")
    return None


def table_name(cfn):
    tables = list(cfn.resources("AWS::DynamoDB::Table"))
    return tables[0][0] if tables else None


def check_environment(where, variables, problems, allowed=ALLOWED_VARIABLES):
    names = set(variables)
    problems.check(not names & SECRET_VARIABLES, where, f"secrets in the environment: {sorted(names & SECRET_VARIABLES)} (they belong in SSM)")
    problems.check(
        names - SECRET_VARIABLES <= allowed,
        where,
        f"variables the function does not read: {sorted(names - allowed - SECRET_VARIABLES)}",
    )
    problems.check("VOTECHECK_SSM_PREFIX" in names, where, "VOTECHECK_SSM_PREFIX must be set (the secrets come from SSM)")
    for name, value in variables.items():
        text = value if isinstance(value, str) else ""
        problems.check(
            not LOOKS_SECRET.match(text) and not re.search(r"(SECRET|TOKEN|SALT|PASSWORD|PRIVATE)", name),
            where,
            f"{name} looks like a secret",
        )


def check_cfn_table(where, cfn, template, facts, problems):
    name, table, resource = cfn.one(where, problems, "AWS::DynamoDB::Table")
    where_table = f"{where} {name}"
    definition = facts["table"]
    for key in ("BillingMode", "KeySchema", "TimeToLiveSpecification"):
        problems.check(table.get(key) == definition[key], where_table, f"{key} differs from functions/store/table-definition.json")
    problems.check(
        sorted(map(json.dumps, table.get("AttributeDefinitions", []))) == sorted(map(json.dumps, definition["AttributeDefinitions"])),
        where_table,
        "AttributeDefinitions differ from functions/store/table-definition.json",
    )
    problems.check(
        table.get("GlobalSecondaryIndexes") == definition["GlobalSecondaryIndexes"],
        where_table,
        "GlobalSecondaryIndexes differ from functions/store/table-definition.json",
    )
    recovery = table.get("PointInTimeRecoverySpecification", {})
    problems.check(recovery.get("PointInTimeRecoveryEnabled") is True, where_table, "point-in-time recovery must be on")
    encryption = table.get("SSESpecification", {})
    problems.check(
        encryption.get("SSEEnabled") is True and encryption.get("SSEType") == "KMS" and "KMSMasterKeyId" in encryption,
        where_table,
        "the table must be encrypted with the customer-managed key by default",
    )
    problems.check("DeletionPolicy" in resource, where_table, "the table needs an explicit DeletionPolicy")


def check_cfn_url(where, cfn, function_name, problems):
    urls = list(cfn.resources("AWS::Lambda::Url"))
    problems.check(len(urls) == 1, where, f"expected one Function URL, found {len(urls)}")
    for url_name, url, _ in urls:
        problems.check(url.get("AuthType") == "NONE", f"{where} {url_name}", "the webhook URL's AuthType must be NONE (Meta cannot sign with AWS credentials)")
        problems.check(refers_to(url.get("TargetFunctionArn"), function_name), f"{where} {url_name}", "the URL must target the function")
    permissions = [properties for _, properties, _ in cfn.resources("AWS::Lambda::Permission") if refers_to(properties.get("FunctionName"), function_name)]
    problems.check(
        any(p.get("Action") == "lambda:InvokeFunctionUrl" and p.get("FunctionUrlAuthType") == "NONE" and p.get("Principal") == "*" for p in permissions),
        where,
        "a public Function URL needs lambda:InvokeFunctionUrl for * with FunctionUrlAuthType NONE",
    )
    problems.check(
        any(p.get("Action") == "lambda:InvokeFunction" and p.get("InvokedViaFunctionUrl") is True and p.get("Principal") == "*" for p in permissions),
        where,
        "a public Function URL also needs lambda:InvokeFunction for * with InvokedViaFunctionUrl true",
    )
    problems.check(len(permissions) == 2, where, f"exactly two permissions on the function, found {len(permissions)}")


def check_cfn_role(where, cfn, function, facts, problems):
    roles = [(name, role) for name, role, _ in cfn.resources("AWS::IAM::Role") if refers_to(function.get("Role"), name)]
    problems.check(len(roles) == 1, where, "the function must use the template's own role")
    if not roles:
        return
    name, role = roles[0]
    where_role = f"{where} {name}"
    problems.check(not role.get("ManagedPolicyArns"), where_role, "no managed policies (they grant more than the function needs)")
    table = table_name(cfn)
    table_actions, ssm_resources = set(), []
    for statement in statements(role):
        actions = as_list(statement.get("Action", []))
        problems.check(statement.get("Effect") == "Allow" and "NotAction" not in statement, where_role, "only plain Allow statements")
        problems.check(all("*" not in action.split(":")[-1] or action.startswith(("kms:", "xray:")) for action in actions), where_role, f"wildcard action in {actions}")
        dynamodb = [action for action in actions if action.startswith("dynamodb:")]
        if dynamodb:
            table_actions |= set(dynamodb)
            problems.check(
                all(refers_to(resource, table) for resource in as_list(statement.get("Resource"))),
                where_role,
                "DynamoDB actions only on the table's ARN (not its indexes, not *)",
            )
        if any(action.startswith("ssm:") for action in actions):
            problems.check(actions == ["ssm:GetParameters"], where_role, f"SSM: only ssm:GetParameters, not {actions}")
            ssm_resources += as_list(statement.get("Resource"))
        if any(action.startswith("kms:") for action in actions):
            via = statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
            problems.check(via is not None, where_role, "KMS use only through DynamoDB or SSM (kms:ViaService)")
            problems.check(set(actions) <= {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, where_role, f"KMS actions {actions}")
        if any(action.startswith("logs:") for action in actions):
            problems.check(set(actions) <= {"logs:CreateLogStream", "logs:PutLogEvents"}, where_role, f"logs actions {actions}")
    problems.check(table_actions == TABLE_ACTIONS, where_role, f"table actions must be exactly {sorted(TABLE_ACTIONS)}, are {sorted(table_actions)}")
    texts = [json.dumps(resource) for resource in ssm_resources]
    problems.check(
        len(texts) == len(SECRET_PARAMETERS)
        and all(any(f"${{SsmPrefix}}/{secret}" in text for text in texts) for secret in SECRET_PARAMETERS),
        where_role,
        "ssm:GetParameters only on the four secrets under ${SsmPrefix}",
    )


def alarm_dimension_values(alarm):
    """The dimension values of an alarm (CloudFormation), its metric math's included."""
    dimensions = list(alarm.get("Dimensions") or [])
    for query in alarm.get("Metrics", []):
        if "MetricStat" in query:
            dimensions += query["MetricStat"]["Metric"].get("Dimensions") or []
    return [dimension.get("Value") for dimension in dimensions]


def cfn_alarms_watching(cfn, name):
    """The alarms whose dimensions name the resource `name` (a function or a queue)."""
    return [
        properties
        for _, properties, _ in cfn.resources("AWS::CloudWatch::Alarm")
        if any(refers_to(value, name) for value in alarm_dimension_values(properties))
    ]


def check_cfn_alarms(where, cfn, facts, problems):
    alarms = [properties for _, properties, _ in cfn.resources("AWS::CloudWatch::Alarm")]
    # The webhook's: the alarms on the webhook function (the sender's are checked with it).
    webhook_alarms = cfn_alarms_watching(cfn, WEBHOOK_FUNCTION)
    single = {(alarm.get("Namespace"), alarm.get("MetricName")) for alarm in webhook_alarms if alarm.get("MetricName")}
    in_math = {
        (query["MetricStat"]["Metric"].get("Namespace"), query["MetricStat"]["Metric"].get("MetricName"))
        for alarm in webhook_alarms
        for query in alarm.get("Metrics", [])
        if "MetricStat" in query
    }
    # Our metrics carry the function's name as a dimension; an alarm without it watches nothing.
    ours = [alarm for alarm in alarms if alarm.get("Namespace") == facts["namespace"]] + [
        query["MetricStat"]["Metric"]
        for alarm in alarms
        for query in alarm.get("Metrics", [])
        if "MetricStat" in query and query["MetricStat"]["Metric"].get("Namespace") == facts["namespace"]
    ]
    for metric in ours:
        names = [dimension.get("Name") for dimension in metric.get("Dimensions") or []]
        problems.check(names == [facts["dimension"]], where, f"{metric.get('MetricName')}: dimension {facts['dimension']} (the code's), not {names}")
    check_alarm_metrics(where, single, in_math, facts, problems)


def check_alarm_metrics(where, single, in_math, facts, problems):
    namespace = facts["namespace"]
    problems.check(("AWS/Lambda", "Errors") in single, where, "an alarm on the function's Errors")
    problems.check(("AWS/Lambda", "Throttles") in single, where, "an alarm on the function's Throttles")
    problems.check((namespace, "graph_token_expired") in single, where, f"an alarm on {namespace}/graph_token_expired")
    problems.check((namespace, "graph_server_error") in in_math | single, where, "an alarm on Graph API failures")
    problems.check((namespace, "graph_deadline") in in_math | single, where, "an alarm on replies the deadline stopped (graph_deadline)")
    problems.check((namespace, "deadline_reached") in in_math | single, where, "an alarm on messages left to redelivery for lack of time (deadline_reached)")
    for metric_namespace, metric in single | in_math:
        if metric_namespace != "AWS/Lambda":
            problems.check(metric_namespace == namespace, where, f"metric namespace {metric_namespace}, the code uses {namespace}")
            problems.check(metric in facts["metrics"], where, f"the code emits no metric {metric}")


# ---------------------------------------------------------------------------------------------
# The alert sender, in CloudFormation


def parameter_ref(value):
    """The parameter a `!Ref` names, else None."""
    return value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None


def check_cfn_sender(where, template, function_type, facts, problems):
    sender = facts["sender"]
    cfn = Cfn(template)
    name, function, _ = cfn.named(where, problems, SENDER_FUNCTION, function_type)
    where_function = f"{where} {name}"
    parameters = template.get("Parameters", {})

    # The send settings' parameters: defaults and limits as functions/alerts/src/settings.rs.
    rate, concurrency = parameters.get("SendRate", {}), parameters.get("SenderConcurrency", {})
    problems.check(
        rate.get("Default") == sender["default_rate"] and rate.get("MinValue") == 1 and rate.get("MaxValue") == sender["max_rate"],
        f"{where} SendRate",
        f"SendRate must default to {sender['default_rate']} and allow 1 to {sender['max_rate']} ({SENDER_SETTINGS})",
    )
    problems.check(
        concurrency.get("Default") == sender["default_concurrency"]
        and isinstance(concurrency.get("MinValue"), int)
        and concurrency["MinValue"] >= 2
        and concurrency.get("MaxValue", 10**6) <= sender["max_rate"],
        f"{where} SenderConcurrency",
        f"SenderConcurrency must default to {sender['default_concurrency']}, be at least 2 (SQS's least maximum concurrency) and at most {sender['max_rate']}",
    )

    problems.check(function.get("Runtime") == "provided.al2023", where_function, "Runtime must be provided.al2023")
    problems.check(function.get("Handler") == "bootstrap", where_function, "Handler must be bootstrap")
    problems.check(
        refers_to((cfn.raw(name, "Architectures") or [None])[0], "Architecture"),
        where_function,
        "Architectures must be [!Ref Architecture] (the webhook's parameter: both packages are built for it)",
    )
    timeout = function.get("Timeout")
    problems.check(isinstance(timeout, int) and 10 <= timeout <= 60, where_function, f"Timeout must be 10-60 s, is {timeout}")
    problems.check(
        parameter_ref(cfn.raw(name, "ReservedConcurrentExecutions")) == "SenderConcurrency",
        where_function,
        "ReservedConcurrentExecutions must be !Ref SenderConcurrency: the send rate is split between that many instances",
    )
    logging = function.get("LoggingConfig", {})
    problems.check(logging.get("LogFormat") == "JSON", where_function, "LoggingConfig.LogFormat must be JSON")
    problems.check(
        logging.get("ApplicationLogLevel") in ("INFO", "DEBUG", "TRACE"),
        where_function,
        "ApplicationLogLevel must be INFO or lower: the EMF metric lines count as INFO",
    )
    log_groups = [log_group for log_group, _, _ in cfn.resources("AWS::Logs::LogGroup")]
    _, webhook, _ = cfn.named(where, problems, WEBHOOK_FUNCTION, function_type)
    problems.check(
        any(refers_to(logging.get("LogGroup"), log_group) for log_group in log_groups)
        and logging.get("LogGroup") != webhook.get("LoggingConfig", {}).get("LogGroup"),
        where_function,
        "the sender must log into its own log group of the template, not the webhook's",
    )

    variables = function.get("Environment", {}).get("Variables", {})
    raw_variables = (cfn.raw(name, "Environment") or {}).get("Variables", {})
    check_sender_environment(where_function, variables, set(raw_variables), problems)
    problems.check(refers_to(raw_variables.get("VOTECHECK_TABLE_NAME"), table_name(cfn)), where_function, "VOTECHECK_TABLE_NAME must name the template's table")
    for variable, (parameter, _) in SENDER_VARIABLE_SOURCES.items():
        problems.check(
            parameter_ref(raw_variables.get(variable)) == parameter,
            where_function,
            f"{variable} must be !Ref {parameter}",
        )

    queue, dead_letter = check_cfn_queues(where, cfn, name, timeout, problems)
    queue_url = raw_variables.get("VOTECHECK_ALERT_QUEUE_URL")
    problems.check(
        queue and (parameter_ref(queue_url) == queue or (isinstance(queue_url, dict) and queue_url.get("Fn::GetAtt") in ([queue, "QueueUrl"], f"{queue}.QueueUrl"))),
        where_function,
        "VOTECHECK_ALERT_QUEUE_URL must be the alert queue's URL (!Ref of the trigger's queue)",
    )
    check_cfn_sender_role(where, cfn, function, queue, facts, problems)
    check_cfn_schedule(where, template, queue, problems)
    check_cfn_sender_alarms(where, cfn, name, dead_letter, facts, problems)

    outputs = [output.get("Value") for output in template.get("Outputs", {}).values()]
    for resource, what in ((queue, "the alert queue's URL"), (dead_letter, "the dead-letter queue's URL"), (name, "the sender's name")):
        problems.check(
            any(parameter_ref(value) == resource for value in outputs),
            where,
            f"an output must give {what} (!Ref {resource})",
        )

    # With TableEncryption=aws-owned, the queues use SQS-managed keys.
    aws_owned = Cfn(template, {"TableEncryption": "aws-owned"})
    for queue_name, properties, _ in aws_owned.resources("AWS::SQS::Queue"):
        problems.check(
            properties.get("SqsManagedSseEnabled") is True and "KmsMasterKeyId" not in properties,
            f"{where} {queue_name}",
            "with TableEncryption=aws-owned the queue must use SQS-managed encryption (SqsManagedSseEnabled true)",
        )


def check_sender_environment(where, variables, names, problems):
    """`variables` with their values, `names` as written (a parameter without a default, such as
    the phone number id, evaluates to nothing)."""
    check_environment(where, {name: variables.get(name, "") for name in names}, problems, allowed=SENDER_ALLOWED_VARIABLES)
    problems.check(
        not names & SENDER_NOT_DEPLOYED,
        where,
        f"{sorted(names & SENDER_NOT_DEPLOYED)} is for tests against a local server, never a deployment",
    )
    required = set(SENDER_VARIABLE_SOURCES) | {"VOTECHECK_TABLE_NAME", "VOTECHECK_ALERT_QUEUE_URL"}
    problems.check(required <= names, where, f"the sender needs {sorted(required - names)}")


def check_cfn_queues(where, cfn, function_name, timeout, problems):
    """The alert queue (the trigger's source) and its dead-letter queue; returns their names."""
    mappings = list(cfn.resources("AWS::Lambda::EventSourceMapping"))
    problems.check(len(mappings) == 1, where, f"expected one event source mapping (the alert queue's trigger), found {len(mappings)}")
    if not mappings:
        return None, None
    mapping_name, mapping, _ = mappings[0]
    where_mapping = f"{where} {mapping_name}"
    problems.check(refers_to(mapping.get("FunctionName"), function_name), where_mapping, "the trigger must invoke the sender")
    problems.check(
        mapping.get("FunctionResponseTypes") == ["ReportBatchItemFailures"],
        where_mapping,
        "FunctionResponseTypes must be [ReportBatchItemFailures]: without it one failed job fails (and redelivers) the whole batch",
    )
    problems.check(mapping.get("BatchSize") == 1, where_mapping, f"BatchSize must be 1 (a job is already a batch of recipients), is {mapping.get('BatchSize')}")
    problems.check(mapping.get("Enabled") is not False, where_mapping, "the trigger must be enabled")
    problems.check(
        parameter_ref((cfn.raw(mapping_name, "ScalingConfig") or {}).get("MaximumConcurrency")) == "SenderConcurrency",
        where_mapping,
        "ScalingConfig.MaximumConcurrency must be !Ref SenderConcurrency (the sender's reserved concurrency)",
    )
    queues = {name: properties for name, properties, _ in cfn.resources("AWS::SQS::Queue")}
    queue = next((name for name in queues if refers_to(mapping.get("EventSourceArn"), name)), None)
    problems.check(queue, where_mapping, "the trigger's EventSourceArn must be a queue of the template")
    if not queue:
        return None, None
    properties = queues[queue]
    where_queue = f"{where} {queue}"
    redrive = properties.get("RedrivePolicy", {})
    dead_letter = next((name for name in queues if refers_to(redrive.get("deadLetterTargetArn"), name)), None)
    problems.check(dead_letter and dead_letter != queue, where_queue, "a RedrivePolicy to a dead-letter queue of the template is needed")
    receives = redrive.get("maxReceiveCount")
    problems.check(isinstance(receives, int) and 2 <= receives <= 10, where_queue, f"maxReceiveCount must be 2-10, is {receives}")
    visibility = properties.get("VisibilityTimeout")
    problems.check(
        isinstance(timeout, int) and visibility == VISIBILITY_TIMEOUT_FACTOR * timeout,
        where_queue,
        f"VisibilityTimeout must be {VISIBILITY_TIMEOUT_FACTOR} x the sender's timeout ({timeout} s), is {visibility}",
    )
    problems.check(set(queues) == {queue, dead_letter}, where, f"expected two queues (the alert queue and its dead-letter queue), found {sorted(queues)}")
    for name, queue_properties in queues.items():
        problems.check(
            refers_to(queue_properties.get("KmsMasterKeyId"), "EncryptionKey") and "SqsManagedSseEnabled" not in queue_properties,
            f"{where} {name}",
            "the queue must be encrypted with the customer-managed key by default",
        )
    if dead_letter:
        retention = queues[dead_letter].get("MessageRetentionPeriod")
        problems.check(
            retention == DEAD_LETTER_RETENTION_SECONDS and retention > properties.get("MessageRetentionPeriod", 345600),
            f"{where} {dead_letter}",
            f"the dead-letter queue must keep messages 14 days ({DEAD_LETTER_RETENTION_SECONDS} s), longer than the alert queue, is {retention}",
        )
        problems.check("RedrivePolicy" not in queues[dead_letter], f"{where} {dead_letter}", "the dead-letter queue has no redrive policy of its own")
    return queue, dead_letter


def role_of(cfn, function):
    found = [(name, role) for name, role, _ in cfn.resources("AWS::IAM::Role") if refers_to(function.get("Role"), name)]
    return found[0] if found else (None, None)


def check_cfn_sender_role(where, cfn, function, queue, facts, problems):
    name, role = role_of(cfn, function)
    problems.check(name, where, "the sender must use a role of the template")
    if not name:
        return
    where_role = f"{where} {name}"
    webhook_roles = [
        role_of(cfn, properties)[0]
        for function_name, properties, _ in cfn.resources("AWS::Serverless::Function", "AWS::Lambda::Function")
        if function_name == WEBHOOK_FUNCTION
    ]
    problems.check(name not in webhook_roles, where_role, "the sender needs its own role, not the webhook's")
    log_group = function.get("LoggingConfig", {}).get("LogGroup", {})
    log_group = log_group.get("Ref") if isinstance(log_group, dict) else None
    problems.check(not role.get("ManagedPolicyArns"), where_role, "no managed policies (they grant more than the function needs)")
    principal = json.dumps(role.get("AssumeRolePolicyDocument"))
    problems.check("lambda.amazonaws.com" in principal, where_role, "only Lambda may assume the sender's role")
    table = table_name(cfn)
    index_arns = [f"${{{table}.Arn}}/index/{index['IndexName']}" for index in facts["table"]["GlobalSecondaryIndexes"]]
    table_actions, index_actions, queue_actions, ssm_resources = set(), set(), set(), []
    for statement in statements(role):
        actions = as_list(statement.get("Action", []))
        resources = as_list(statement.get("Resource"))
        problems.check(
            statement.get("Effect") == "Allow" and "NotAction" not in statement and "NotResource" not in statement,
            where_role,
            "only plain Allow statements",
        )
        problems.check(all("*" not in action for action in actions), where_role, f"wildcard action in {actions}")
        problems.check("*" not in resources, where_role, f"a statement on every resource (*): {actions}")
        services = {action.split(":")[0] for action in actions}
        problems.check(len(services) == 1 and services <= {"dynamodb", "ssm", "sqs", "kms", "logs"}, where_role, f"unexpected actions {actions}")
        if services == {"dynamodb"}:
            on_index = [resource for resource in resources if isinstance(resource, dict) and resource.get("Fn::Sub") in index_arns]
            if on_index:
                index_actions |= set(actions)
                problems.check(len(on_index) == len(resources), where_role, "an index statement names the report index only")
            else:
                table_actions |= set(actions)
                problems.check(
                    all(refers_to(resource, table) for resource in resources),
                    where_role,
                    "DynamoDB actions only on the table's ARN and its audience index (not *)",
                )
        elif services == {"ssm"}:
            problems.check(actions == ["ssm:GetParameters"], where_role, f"SSM: only ssm:GetParameters, not {actions}")
            ssm_resources += resources
        elif services == {"sqs"}:
            queue_actions |= set(actions)
            problems.check(
                queue and all(refers_to(resource, queue) for resource in resources),
                where_role,
                "SQS actions only on the alert queue (not the dead-letter queue, not *)",
            )
        elif services == {"kms"}:
            via = statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
            problems.check(
                isinstance(via, dict) and re.fullmatch(r"(dynamodb|sqs|ssm)\.\$\{AWS::Region\}\.amazonaws\.com", str(via.get("Fn::Sub"))),
                where_role,
                "KMS use only through DynamoDB, SQS or SSM (kms:ViaService)",
            )
            problems.check(set(actions) <= {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, where_role, f"KMS actions {actions}")
        elif services == {"logs"}:
            problems.check(set(actions) <= {"logs:CreateLogStream", "logs:PutLogEvents"}, where_role, f"logs actions {actions}")
            problems.check(
                log_group and all(refers_to(resource, log_group) for resource in resources),
                where_role,
                "logs only into the sender's log group",
            )
    problems.check(table_actions == SENDER_TABLE_ACTIONS, where_role, f"table actions must be exactly {sorted(SENDER_TABLE_ACTIONS)}, are {sorted(table_actions)}")
    problems.check(index_actions == SENDER_INDEX_ACTIONS, where_role, f"index actions must be exactly {sorted(SENDER_INDEX_ACTIONS)} (the audience), are {sorted(index_actions)}")
    problems.check(queue_actions == SENDER_QUEUE_ACTIONS, where_role, f"queue actions must be exactly {sorted(SENDER_QUEUE_ACTIONS)}, are {sorted(queue_actions)}")
    texts = [json.dumps(resource) for resource in ssm_resources]
    secrets = facts["sender"]["secrets"]
    problems.check(
        len(texts) == len(secrets) and all(any(f"${{SsmPrefix}}/{secret}\"" in text for text in texts) for secret in secrets),
        where_role,
        f"ssm:GetParameters only on the sender's secrets {secrets} under ${{SsmPrefix}}",
    )


def check_cfn_schedule(where, template, queue, problems):
    parameters = template.get("Parameters", {})
    pattern = parameters.get("AlertScheduleExpression", {}).get("AllowedPattern")
    problems.check(parameters.get("AlertScheduleExpression", {}).get("Default") == "", where, "AlertScheduleExpression must default to empty (no schedule)")
    check_schedule_pattern(f"{where} AlertScheduleExpression", pattern, problems, empty_allowed=True)
    cfn = Cfn(template)
    problems.check(not list(cfn.resources("AWS::Scheduler::Schedule")), where, "no schedule by default")
    problems.check(
        not any("scheduler.amazonaws.com" in json.dumps(role.get("AssumeRolePolicyDocument")) for _, role, _ in cfn.resources("AWS::IAM::Role")),
        where,
        "no schedule role by default",
    )
    scheduled = Cfn(template, {"AlertScheduleExpression": SCHEDULES_ACCEPTED[0], "AlertScheduleJob": '{"expand":"x"}'})
    schedules = list(scheduled.resources("AWS::Scheduler::Schedule"))
    problems.check(len(schedules) == 1, where, "a schedule when AlertScheduleExpression is set")
    for name, schedule, _ in schedules:
        where_schedule = f"{where} {name}"
        target = schedule.get("Target", {})
        raw = scheduled.raw(name, "Target") or {}
        problems.check(queue and refers_to(target.get("Arn"), queue), where_schedule, "the schedule's target must be the alert queue")
        problems.check(parameter_ref(raw.get("Input")) == "AlertScheduleJob", where_schedule, "the schedule's input must be !Ref AlertScheduleJob")
        problems.check(parameter_ref(scheduled.raw(name, "ScheduleExpression")) == "AlertScheduleExpression", where_schedule, "ScheduleExpression must be !Ref AlertScheduleExpression")
        roles = [(role_name, role) for role_name, role, _ in scheduled.resources("AWS::IAM::Role") if refers_to(target.get("RoleArn"), role_name)]
        problems.check(len(roles) == 1, where_schedule, "the schedule needs a role of the template")
        for role_name, role in roles:
            where_role = f"{where} {role_name}"
            problems.check("scheduler.amazonaws.com" in json.dumps(role.get("AssumeRolePolicyDocument")), where_role, "only EventBridge Scheduler may assume it")
            problems.check(not role.get("ManagedPolicyArns"), where_role, "no managed policies")
            sqs_actions = set()
            for statement in statements(role):
                actions = as_list(statement.get("Action", []))
                resources = as_list(statement.get("Resource"))
                problems.check(statement.get("Effect") == "Allow" and "NotAction" not in statement and "NotResource" not in statement, where_role, "only plain Allow statements")
                problems.check(all("*" not in action for action in actions) and "*" not in resources, where_role, f"no wildcard: {actions} on {resources}")
                if all(action.startswith("sqs:") for action in actions):
                    sqs_actions |= set(actions)
                    problems.check(all(refers_to(resource, queue) for resource in resources), where_role, "sqs:SendMessage only on the alert queue")
                elif all(action.startswith("kms:") for action in actions):
                    via = statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
                    problems.check(isinstance(via, dict) and str(via.get("Fn::Sub")).startswith("sqs."), where_role, "KMS only through SQS")
                    problems.check(set(actions) <= {"kms:Decrypt", "kms:GenerateDataKey"}, where_role, f"KMS actions {actions}")
                else:
                    problems.check(False, where_role, f"the schedule's role may only send to the alert queue, not {actions}")
            problems.check(sqs_actions == SCHEDULE_QUEUE_ACTIONS, where_role, f"queue actions must be exactly {sorted(SCHEDULE_QUEUE_ACTIONS)}, are {sorted(sqs_actions)}")


def check_schedule_pattern(where, pattern, problems, empty_allowed):
    """The schedule expression's pattern accepts one-time schedules only."""
    if not isinstance(pattern, str):
        problems.check(False, where, "the schedule expression needs a pattern (one-time schedules only)")
        return
    accepted = [value for value in SCHEDULES_REFUSED if re.fullmatch(pattern, value)]
    refused = [value for value in SCHEDULES_ACCEPTED + ([""] if empty_allowed else []) if not re.fullmatch(pattern, value)]
    problems.check(not accepted, where, f"the schedule pattern {pattern!r} accepts {accepted} (one-time at(...) schedules only)")
    problems.check(not refused, where, f"the schedule pattern {pattern!r} refuses {refused}")


def check_cfn_sender_alarms(where, cfn, function_name, dead_letter, facts, problems):
    sender = facts["sender"]
    for name, properties, _ in cfn.resources("AWS::CloudWatch::Alarm"):
        values = alarm_dimension_values(properties)
        problems.check(
            any(refers_to(value, target) for value in values for target in (WEBHOOK_FUNCTION, function_name, dead_letter) if target),
            f"{where} {name}",
            "an alarm must watch the webhook, the sender or the dead-letter queue (its dimensions name none)",
        )
    alarms = cfn_alarms_watching(cfn, function_name)
    single = {(alarm.get("Namespace"), alarm.get("MetricName")) for alarm in alarms}
    problems.check(("AWS/Lambda", "Errors") in single, where, "an alarm on the sender's Errors")
    problems.check((sender["namespace"], "alert_failed") in single, where, f"an alarm on {sender['namespace']}/alert_failed of the sender")
    for alarm in alarms:
        namespace, metric = alarm.get("Namespace"), alarm.get("MetricName")
        problems.check(not alarm.get("Metrics"), where, "the sender's alarms watch one metric each")
        if namespace == "AWS/Lambda":
            continue
        problems.check(namespace == sender["namespace"], where, f"metric namespace {namespace}, the sender uses {sender['namespace']}")
        problems.check(metric in sender["metrics"], where, f"{SENDER_METRICS_FILE} declares no metric {metric}")
        names = [dimension.get("Name") for dimension in alarm.get("Dimensions") or []]
        problems.check(names == [sender["dimension"]], where, f"{metric}: dimension {sender['dimension']} (the sender's), not {names}")
    failed = [name for name, alarm, _ in cfn.resources("AWS::CloudWatch::Alarm") if alarm.get("MetricName") == "alert_failed"]
    problems.check(
        all(parameter_ref(cfn.raw(name, "Threshold")) == "SendFailuresThreshold" for name in failed),
        where,
        "the alert_failed alarm's threshold must be !Ref SendFailuresThreshold",
    )
    queue_alarms = cfn_alarms_watching(cfn, dead_letter) if dead_letter else []
    problems.check(
        any(
            alarm.get("Namespace") == "AWS/SQS"
            and alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and [dimension.get("Name") for dimension in alarm.get("Dimensions", [])] == ["QueueName"]
            and refers_to(alarm["Dimensions"][0].get("Value"), dead_letter)
            and (
                (alarm.get("ComparisonOperator") == "GreaterThanThreshold" and alarm.get("Threshold") == 0)
                or (alarm.get("ComparisonOperator") == "GreaterThanOrEqualToThreshold" and alarm.get("Threshold") == 1)
            )
            for alarm in queue_alarms
        ),
        where,
        "an alarm on any message in the dead-letter queue (AWS/SQS ApproximateNumberOfMessagesVisible of its QueueName > 0)",
    )


# ---------------------------------------------------------------------------------------------
# Terraform


def variable_default(module, text):
    """The default of `${var.NAME}`, else the text."""
    match = re.fullmatch(r"\$\{var\.([a-z_]+)\}", str(text))
    if match:
        return module["variable"].get(match.group(1), {}).get("default")
    return text


def blocks(body, name):
    value = body.get(name, [])
    return value if isinstance(value, list) else [value]


def only(module, where, problems, kind):
    found = module["resource"].get(kind, {})
    problems.check(len(found) == 1, where, f"expected one {kind}, found {len(found)}")
    return next(iter(found.items()), (None, {}))


def named_resource(module, where, problems, kind, name):
    """The resource `kind.name`, which must exist."""
    found = module["resource"].get(kind, {}).get(name)
    problems.check(found is not None, where, f"expected {kind}.{name}")
    return name, found or {}


# The functions' names in the Terraform module, and their log groups.
TERRAFORM_WEBHOOK = "webhook"
TERRAFORM_SENDER = "sender"
TERRAFORM_LOG_GROUPS = {TERRAFORM_WEBHOOK: "function", TERRAFORM_SENDER: "sender"}


def terraform_number(module, value):
    """A number written as such, as `${var.NAME}` (its default), `${local.NAME}` (a literal) or
    `${N * local.NAME}`; else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    match = re.fullmatch(r"\$\{(?:(\d+) \* )?(var|local)\.([a-z_]+)\}", text)
    if not match:
        return None
    factor, kind, name = match.groups()
    found = module["variable"].get(name, {}).get("default") if kind == "var" else module["locals"].get(name)
    if not isinstance(found, (int, float)) or isinstance(found, bool):
        return None
    return found * int(factor) if factor else found


def check_terraform(path, module, facts, problems):
    where = os.path.basename(path)
    providers = json.dumps(module.get("terraform", []))
    version = re.search(r'"version": ">= ?6\.(\d+)', providers)
    problems.check(version and int(version.group(1)) >= 29, where, "the aws provider must be >= 6.29 (invoked_via_function_url)")
    architecture = module["variable"].get("architecture", {})
    problems.check(
        architecture.get("default") == "x86_64" and "arm64" in json.dumps(architecture.get("validation", [])),
        where,
        "the architecture variable must default to x86_64 and allow arm64",
    )

    functions = sorted(module["resource"].get("aws_lambda_function", {}))
    problems.check(
        functions == sorted([TERRAFORM_WEBHOOK, TERRAFORM_SENDER]),
        where,
        f"expected aws_lambda_function.{TERRAFORM_WEBHOOK} and .{TERRAFORM_SENDER}, found {functions}",
    )
    name, function = named_resource(module, where, problems, "aws_lambda_function", TERRAFORM_WEBHOOK)
    where_function = f"{where} aws_lambda_function.{name}"
    problems.check(function.get("runtime") == "provided.al2023", where_function, "runtime must be provided.al2023")
    problems.check(function.get("handler") == "bootstrap", where_function, "handler must be bootstrap")
    problems.check(function.get("architectures") == ["${var.architecture}"], where_function, "architectures must be [var.architecture]")
    timeout = function.get("timeout")
    problems.check(isinstance(timeout, int) and 10 <= timeout <= 60, where_function, f"timeout must be 10-60 s, is {timeout}")
    reserved = variable_default(module, function.get("reserved_concurrent_executions"))
    problems.check(isinstance(reserved, int) and reserved >= 1, where_function, "reserved_concurrent_executions must be set by default")
    logging = (blocks(function, "logging_config") or [{}])[0]
    problems.check(logging.get("log_format") == "JSON", where_function, "logging_config.log_format must be JSON")
    problems.check(logging.get("application_log_level") in ("INFO", "DEBUG", "TRACE"), where_function, "application_log_level must be INFO or lower (EMF lines count as INFO)")
    log_groups = module["resource"].get("aws_cloudwatch_log_group", {})
    problems.check(
        sorted(log_groups) == sorted(TERRAFORM_LOG_GROUPS.values()),
        where,
        f"expected the log groups {sorted(TERRAFORM_LOG_GROUPS.values())} (the webhook's and the sender's), found {sorted(log_groups)}",
    )
    log_group_name = TERRAFORM_LOG_GROUPS[TERRAFORM_WEBHOOK]
    problems.check(logging.get("log_group") == f"${{aws_cloudwatch_log_group.{log_group_name}.name}}", where_function, "logs must go to the module's log group")
    key_policies = json.dumps([key.get("policy") for key in module["resource"].get("aws_kms_key", {}).values()])
    for log_group in log_groups.values():
        retention = variable_default(module, log_group.get("retention_in_days"))
        problems.check(isinstance(retention, int) and 1 <= retention <= 365, where, f"the log group needs a retention, has {retention}")
        problems.check("kms_key_id" in log_group, where, "the log group must use the customer-managed key when chosen")
        # CloudWatch Logs may use the key only for the log groups its policy names.
        local_name = re.fullmatch(r"\$\{local\.([a-z_]+)\}", str(log_group.get("name")))
        problems.check(
            local_name and f"local.{local_name.group(1)}" in key_policies,
            where,
            f"the key's policy must let CloudWatch Logs encrypt the log group {log_group.get('name')} (name it with a local the policy uses)",
        )

    variables = (blocks(function, "environment") or [{}])[0].get("variables", {})
    check_environment(where_function, variables, problems)
    table_name, table = only(module, where, problems, "aws_dynamodb_table")
    problems.check(
        variables.get("VOTECHECK_TABLE_NAME") == f"${{aws_dynamodb_table.{table_name}.name}}",
        where_function,
        "VOTECHECK_TABLE_NAME must name the module's table",
    )
    check_terraform_table(f"{where} aws_dynamodb_table.{table_name}", table, facts, problems)
    check_rate_limit_pattern(
        f"{where} variable.rate_limit", terraform_validation_regex(module["variable"].get("rate_limit", {})), problems
    )
    problems.check(
        "var.retention_days >= 1" in json.dumps(module["variable"].get("retention_days", {}).get("validation", [])),
        f"{where} variable.retention_days",
        "retention_days needs a validation of at least 1 day (0 days is refused by the function)",
    )

    url_name, url = only(module, where, problems, "aws_lambda_function_url")
    problems.check(url.get("authorization_type") == "NONE", f"{where} aws_lambda_function_url.{url_name}", "authorization_type must be NONE")
    permissions = list(module["resource"].get("aws_lambda_permission", {}).values())
    problems.check(
        any(p.get("action") == "lambda:InvokeFunctionUrl" and p.get("function_url_auth_type") == "NONE" and p.get("principal") == "*" for p in permissions),
        where,
        "a public Function URL needs lambda:InvokeFunctionUrl for * with function_url_auth_type NONE",
    )
    problems.check(
        any(p.get("action") == "lambda:InvokeFunction" and p.get("invoked_via_function_url") is True and p.get("principal") == "*" for p in permissions),
        where,
        "a public Function URL also needs lambda:InvokeFunction for * with invoked_via_function_url = true",
    )

    check_terraform_policy(where, module, table_name, problems)

    keys = module["resource"].get("aws_kms_key", {})
    problems.check(len(keys) == 1 and all(key.get("enable_key_rotation") is True for key in keys.values()), where, "one KMS key, rotating")

    alarms = module["resource"].get("aws_cloudwatch_metric_alarm", {}).values()
    # The webhook's: the alarms on the webhook function (the sender's are checked with it).
    webhook_alarms = [alarm for alarm in alarms if f"aws_lambda_function.{TERRAFORM_WEBHOOK}." in json.dumps(alarm)]
    single = {(alarm.get("namespace"), alarm.get("metric_name")) for alarm in webhook_alarms if alarm.get("metric_name")}
    graph_metrics = module["locals"].get("graph_failure_metrics", {})
    in_math = {(facts["namespace"], metric) for metric in graph_metrics.values()}
    for alarm in alarms:
        for query in blocks(alarm, "dynamic"):
            problems.check(
                "metric_query" not in query or "local.graph_failure_metrics" in json.dumps(query),
                where,
                "metric queries come from local.graph_failure_metrics",
            )
            for content in query.get("metric_query", {}).get("content", []):
                for metric in blocks(content, "metric"):
                    problems.check(metric.get("namespace") == facts["namespace"], where, "metric query namespace")
                    problems.check(list((metric.get("dimensions") or {}).keys()) == [facts["dimension"]], where, f"metric query dimension {facts['dimension']}")
    for alarm in alarms:
        if alarm.get("namespace") == facts["namespace"]:
            problems.check(list((alarm.get("dimensions") or {}).keys()) == [facts["dimension"]], where, f"{alarm.get('metric_name')}: dimension {facts['dimension']}")
    check_alarm_metrics(where, single, in_math, facts, problems)

    outputs = module.get("output", {})
    problems.check(any("function_url" in json.dumps(output.get("value")) for output in outputs.values()), where, "an output must give the webhook URL")
    problems.check(any("whatsapp-verify-token" in json.dumps(output.get("value")) for output in outputs.values()), where, "an output must say how to read the verify token")

    check_terraform_sender(where, module, table_name, facts, problems)


def check_terraform_table(where, table, facts, problems):
    definition = facts["table"]
    problems.check(table.get("billing_mode") == definition["BillingMode"], where, "billing_mode differs from the table definition")
    keys = {item["KeyType"]: item["AttributeName"] for item in definition["KeySchema"]}
    problems.check(table.get("hash_key") == keys["HASH"] and table.get("range_key") == keys["RANGE"], where, "keys differ from the table definition")
    attributes = sorted((a.get("name"), a.get("type")) for a in blocks(table, "attribute"))
    wanted = sorted((a["AttributeName"], a["AttributeType"]) for a in definition["AttributeDefinitions"])
    problems.check(attributes == wanted, where, f"attributes {attributes} differ from the table definition {wanted}")
    indexes = []
    for index in blocks(table, "global_secondary_index"):
        if "key_schema" in index:
            schema = {k.get("key_type"): k.get("attribute_name") for k in blocks(index, "key_schema")}
        else:
            schema = {"HASH": index.get("hash_key"), "RANGE": index.get("range_key")}
        indexes.append((index.get("name"), schema.get("HASH"), schema.get("RANGE"), index.get("projection_type")))
    wanted_indexes = [
        (
            index["IndexName"],
            {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}.get("HASH"),
            {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}.get("RANGE"),
            index["Projection"]["ProjectionType"],
        )
        for index in definition["GlobalSecondaryIndexes"]
    ]
    problems.check(indexes == wanted_indexes, where, f"indexes {indexes} differ from the table definition {wanted_indexes}")
    ttl = (blocks(table, "ttl") or [{}])[0]
    problems.check(
        ttl.get("attribute_name") == definition["TimeToLiveSpecification"]["AttributeName"] and ttl.get("enabled") is True,
        where,
        "TTL must be on, on the definition's attribute",
    )
    recovery = (blocks(table, "point_in_time_recovery") or [{}])[0]
    problems.check(recovery.get("enabled") is True, where, "point-in-time recovery must be on")
    encryption = (blocks(table, "server_side_encryption") or [{}])[0]
    problems.check(
        "use_cmk" in str(encryption.get("enabled")) and "aws_kms_key" in str(encryption.get("kms_key_arn")),
        where,
        "the table must be encrypted with the module's key when customer-managed is chosen",
    )


def check_terraform_policy(where, module, table_name, problems):
    documents = module["data"].get("aws_iam_policy_document", {})
    roles = module["resource"].get("aws_iam_role", {})
    # The webhook's role and policy document are `function`; the sender's and the schedule's are
    # checked with the sender.
    problems.check("function" in roles, where, "the webhook's role aws_iam_role.function")
    problems.check(
        module["resource"].get("aws_lambda_function", {}).get(TERRAFORM_WEBHOOK, {}).get("role") == "${aws_iam_role.function.arn}",
        where,
        "the webhook must use its own role, aws_iam_role.function",
    )
    problems.check(not module["resource"].get("aws_iam_role_policy_attachment"), where, "no attached managed policies")
    problems.check("function" in documents, where, "one policy document for the function")
    problems.check(
        module["resource"].get("aws_iam_role_policy", {}).get("function", {}).get("policy") == "${data.aws_iam_policy_document.function.json}",
        where,
        "the webhook's role policy is data.aws_iam_policy_document.function",
    )
    all_statements = policy_statements(documents.get("function", {}))
    table_actions, ssm = set(), []
    for statement in all_statements:
        actions = statement.get("actions", [])
        problems.check(all("*" not in action.split(":")[-1] for action in actions), where, f"wildcard action in {actions}")
        if any(action.startswith("dynamodb:") for action in actions):
            table_actions |= set(actions)
            problems.check(statement.get("resources") == [f"${{aws_dynamodb_table.{table_name}.arn}}"], where, "DynamoDB actions only on the table's ARN")
        if any(action.startswith("ssm:") for action in actions):
            problems.check(actions == ["ssm:GetParameters"], where, f"SSM: only ssm:GetParameters, not {actions}")
            ssm.append(statement.get("resources"))
        if any(action.startswith("kms:") for action in actions):
            conditions = blocks(statement, "condition")
            problems.check(any(c.get("variable") == "kms:ViaService" for c in conditions), where, "KMS use only through DynamoDB or SSM")
    problems.check(table_actions == TABLE_ACTIONS, where, f"table actions must be exactly {sorted(TABLE_ACTIONS)}, are {sorted(table_actions)}")
    arns = module["locals"].get("secret_parameter_arns", "")
    problems.check(
        ssm == ["${local.secret_parameter_arns}"]
        and "${var.ssm_prefix}" in json.dumps(arns)
        and module["locals"].get("secret_names") == SECRET_PARAMETERS,
        where,
        "ssm:GetParameters only on the four secrets under var.ssm_prefix",
    )


# ---------------------------------------------------------------------------------------------
# The alert sender, in Terraform


def terraform_reference(value, kind):
    """The NAME of `${KIND.NAME.attribute}` (or `${KIND.NAME[0].attribute}`), else None."""
    match = re.fullmatch(rf"\$\{{{re.escape(kind)}\.([a-z_]+)(?:\[0\])?\.[a-z_]+\}}", str(value))
    return match.group(1) if match else None


def check_terraform_sender(where, module, table_name, facts, problems):
    sender = facts["sender"]
    variables_in = module["variable"]
    rate, concurrency = variables_in.get("send_rate", {}), variables_in.get("sender_concurrency", {})
    problems.check(
        rate.get("default") == sender["default_rate"] and f"var.send_rate <= {sender['max_rate']}" in json.dumps(rate.get("validation", [])),
        f"{where} variable.send_rate",
        f"send_rate must default to {sender['default_rate']} and be validated up to {sender['max_rate']} ({SENDER_SETTINGS})",
    )
    problems.check(
        concurrency.get("default") == sender["default_concurrency"] and "var.sender_concurrency >= 2" in json.dumps(concurrency.get("validation", [])),
        f"{where} variable.sender_concurrency",
        f"sender_concurrency must default to {sender['default_concurrency']} and be validated at least 2 (SQS's least maximum concurrency)",
    )

    name, function = named_resource(module, where, problems, "aws_lambda_function", TERRAFORM_SENDER)
    where_function = f"{where} aws_lambda_function.{name}"
    problems.check(function.get("runtime") == "provided.al2023", where_function, "runtime must be provided.al2023")
    problems.check(function.get("handler") == "bootstrap", where_function, "handler must be bootstrap")
    problems.check(function.get("architectures") == ["${var.architecture}"], where_function, "architectures must be [var.architecture]")
    timeout = terraform_number(module, function.get("timeout"))
    problems.check(isinstance(timeout, int) and 10 <= timeout <= 60, where_function, f"timeout must be 10-60 s, is {timeout}")
    problems.check(
        function.get("reserved_concurrent_executions") == "${var.sender_concurrency}",
        where_function,
        "reserved_concurrent_executions must be var.sender_concurrency: the send rate is split between that many instances",
    )
    problems.check("sender_package" in json.dumps(function.get("s3_key")), where_function, "the sender's code is its own package")
    logging = (blocks(function, "logging_config") or [{}])[0]
    problems.check(logging.get("log_format") == "JSON", where_function, "logging_config.log_format must be JSON")
    problems.check(logging.get("application_log_level") in ("INFO", "DEBUG", "TRACE"), where_function, "application_log_level must be INFO or lower (EMF lines count as INFO)")
    problems.check(
        logging.get("log_group") == f"${{aws_cloudwatch_log_group.{TERRAFORM_LOG_GROUPS[TERRAFORM_SENDER]}.name}}",
        where_function,
        "the sender must log into its own log group",
    )

    variables = (blocks(function, "environment") or [{}])[0].get("variables", {})
    check_sender_environment(where_function, variables, set(variables), problems)
    problems.check(variables.get("VOTECHECK_TABLE_NAME") == f"${{aws_dynamodb_table.{table_name}.name}}", where_function, "VOTECHECK_TABLE_NAME must name the module's table")
    for variable, (_, expression) in SENDER_VARIABLE_SOURCES.items():
        problems.check(variables.get(variable) == expression, where_function, f"{variable} must be {expression}")

    queue, dead_letter = check_terraform_queues(where, module, name, timeout, problems)
    problems.check(
        queue and variables.get("VOTECHECK_ALERT_QUEUE_URL") == f"${{aws_sqs_queue.{queue}.url}}",
        where_function,
        "VOTECHECK_ALERT_QUEUE_URL must be the alert queue's URL",
    )
    check_terraform_sender_policy(where, module, function, table_name, queue, facts, problems)
    check_terraform_schedule(where, module, queue, problems)
    check_terraform_sender_alarms(where, module, name, dead_letter, facts, problems)

    outputs = json.dumps([output.get("value") for output in module.get("output", {}).values()])
    for reference, what in (
        (f"aws_sqs_queue.{queue}.url", "the alert queue's URL"),
        (f"aws_sqs_queue.{dead_letter}.url", "the dead-letter queue's URL"),
        (f"aws_lambda_function.{name}.function_name", "the sender's name"),
    ):
        problems.check(f"${{{reference}}}" in outputs, where, f"an output must give {what} ({reference})")


def check_terraform_queues(where, module, function_name, timeout, problems):
    mappings = module["resource"].get("aws_lambda_event_source_mapping", {})
    problems.check(len(mappings) == 1, where, f"expected one aws_lambda_event_source_mapping (the alert queue's trigger), found {len(mappings)}")
    if not mappings:
        return None, None
    mapping_name, mapping = next(iter(mappings.items()))
    where_mapping = f"{where} aws_lambda_event_source_mapping.{mapping_name}"
    problems.check(terraform_reference(mapping.get("function_name"), "aws_lambda_function") == function_name, where_mapping, "the trigger must invoke the sender")
    problems.check(
        mapping.get("function_response_types") == ["ReportBatchItemFailures"],
        where_mapping,
        "function_response_types must be [ReportBatchItemFailures]: without it one failed job fails (and redelivers) the whole batch",
    )
    problems.check(mapping.get("batch_size") == 1, where_mapping, f"batch_size must be 1 (a job is already a batch of recipients), is {mapping.get('batch_size')}")
    problems.check(mapping.get("enabled") is not False, where_mapping, "the trigger must be enabled")
    scaling = (blocks(mapping, "scaling_config") or [{}])[0]
    problems.check(
        scaling.get("maximum_concurrency") == "${var.sender_concurrency}",
        where_mapping,
        "scaling_config.maximum_concurrency must be var.sender_concurrency (the sender's reserved concurrency)",
    )
    queues = module["resource"].get("aws_sqs_queue", {})
    queue = terraform_reference(mapping.get("event_source_arn"), "aws_sqs_queue")
    problems.check(queue in queues, where_mapping, "the trigger's event_source_arn must be a queue of the module")
    if queue not in queues:
        return None, None
    properties = queues[queue]
    where_queue = f"{where} aws_sqs_queue.{queue}"
    redrive = str(properties.get("redrive_policy", ""))
    target = re.search(r"deadLetterTargetArn = aws_sqs_queue\.([a-z_]+)\.arn", redrive)
    dead_letter = target.group(1) if target else None
    problems.check(dead_letter in queues and dead_letter != queue, where_queue, "a redrive_policy to a dead-letter queue of the module is needed")
    receives = re.search(r"maxReceiveCount = (\d+)", redrive)
    problems.check(receives and 2 <= int(receives.group(1)) <= 10, where_queue, f"maxReceiveCount must be 2-10 ({redrive})")
    visibility = terraform_number(module, properties.get("visibility_timeout_seconds"))
    problems.check(
        isinstance(timeout, int) and visibility == VISIBILITY_TIMEOUT_FACTOR * timeout,
        where_queue,
        f"visibility_timeout_seconds must be {VISIBILITY_TIMEOUT_FACTOR} x the sender's timeout ({timeout} s), is {visibility}",
    )
    problems.check(set(queues) == {queue, dead_letter}, where, f"expected two queues (the alert queue and its dead-letter queue), found {sorted(queues)}")
    for name, queue_properties in queues.items():
        problems.check(
            "use_cmk" in str(queue_properties.get("kms_master_key_id"))
            and "aws_kms_key" in str(queue_properties.get("kms_master_key_id"))
            and re.fullmatch(r"\$\{local\.use_cmk \? null : true\}", str(queue_properties.get("sqs_managed_sse_enabled"))),
            f"{where} aws_sqs_queue.{name}",
            "the queue must be encrypted: the module's key when customer-managed is chosen, else SQS-managed keys",
        )
    if dead_letter in queues:
        retention = queues[dead_letter].get("message_retention_seconds")
        problems.check(
            retention == DEAD_LETTER_RETENTION_SECONDS and retention > properties.get("message_retention_seconds", 345600),
            f"{where} aws_sqs_queue.{dead_letter}",
            f"the dead-letter queue must keep messages 14 days ({DEAD_LETTER_RETENTION_SECONDS} s), longer than the alert queue, is {retention}",
        )
    return queue, dead_letter


def check_terraform_sender_policy(where, module, function, table_name, queue, facts, problems):
    role = terraform_reference(function.get("role"), "aws_iam_role")
    roles = module["resource"].get("aws_iam_role", {})
    problems.check(role in roles and role != "function", where, "the sender needs its own role, not the webhook's")
    problems.check("lambda.amazonaws.com" in json.dumps(roles.get(role, {}).get("assume_role_policy")), where, "only Lambda may assume the sender's role")
    policies = [
        policy
        for policy in module["resource"].get("aws_iam_role_policy", {}).values()
        if terraform_reference(policy.get("role"), "aws_iam_role") == role
    ]
    problems.check(len(policies) == 1, where, "one inline policy on the sender's role")
    document_name = terraform_reference(policies[0].get("policy") if policies else None, "data.aws_iam_policy_document")
    document = module["data"].get("aws_iam_policy_document", {}).get(document_name)
    problems.check(document is not None, where, "the sender's policy is a policy document of the module")
    where_policy = f"{where} data.aws_iam_policy_document.{document_name}"
    table_arn = f"${{aws_dynamodb_table.{table_name}.arn}}"
    index_arns = {f"{table_arn}/index/{index['IndexName']}" for index in facts["table"]["GlobalSecondaryIndexes"]}
    table_actions, index_actions, queue_actions, ssm = set(), set(), set(), []
    for statement in policy_statements(document or {}):
        actions = statement.get("actions", [])
        resources = statement.get("resources", [])
        problems.check(statement.get("effect", "Allow") == "Allow" and "not_actions" not in statement and "not_resources" not in statement, where_policy, "only plain Allow statements")
        problems.check(all("*" not in action for action in actions), where_policy, f"wildcard action in {actions}")
        problems.check("*" not in resources, where_policy, f"a statement on every resource (*): {actions}")
        services = {action.split(":")[0] for action in actions}
        problems.check(len(services) == 1 and services <= {"dynamodb", "ssm", "sqs", "kms", "logs"}, where_policy, f"unexpected actions {actions}")
        if services == {"dynamodb"}:
            if set(resources) <= index_arns:
                index_actions |= set(actions)
            else:
                table_actions |= set(actions)
                problems.check(resources == [table_arn], where_policy, "DynamoDB actions only on the table's ARN and its audience index (not *)")
        elif services == {"ssm"}:
            problems.check(actions == ["ssm:GetParameters"], where_policy, f"SSM: only ssm:GetParameters, not {actions}")
            ssm.append(resources)
        elif services == {"sqs"}:
            queue_actions |= set(actions)
            problems.check(queue and resources == [f"${{aws_sqs_queue.{queue}.arn}}"], where_policy, "SQS actions only on the alert queue (not the dead-letter queue, not *)")
        elif services == {"kms"}:
            conditions = blocks(statement, "condition")
            problems.check(
                any(c.get("variable") == "kms:ViaService" and re.fullmatch(r"(dynamodb|sqs|ssm)\.\$\{local\.region\}\.amazonaws\.com", str((c.get("values") or [""])[0])) for c in conditions),
                where_policy,
                "KMS use only through DynamoDB, SQS or SSM (kms:ViaService)",
            )
            problems.check(set(actions) <= {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, where_policy, f"KMS actions {actions}")
        elif services == {"logs"}:
            problems.check(set(actions) <= {"logs:CreateLogStream", "logs:PutLogEvents"}, where_policy, f"logs actions {actions}")
            problems.check(
                resources == [f"${{aws_cloudwatch_log_group.{TERRAFORM_LOG_GROUPS[TERRAFORM_SENDER]}.arn}}:*"],
                where_policy,
                "logs only into the sender's log group",
            )
    problems.check(table_actions == SENDER_TABLE_ACTIONS, where_policy, f"table actions must be exactly {sorted(SENDER_TABLE_ACTIONS)}, are {sorted(table_actions)}")
    problems.check(index_actions == SENDER_INDEX_ACTIONS, where_policy, f"index actions must be exactly {sorted(SENDER_INDEX_ACTIONS)} (the audience), are {sorted(index_actions)}")
    problems.check(queue_actions == SENDER_QUEUE_ACTIONS, where_policy, f"queue actions must be exactly {sorted(SENDER_QUEUE_ACTIONS)}, are {sorted(queue_actions)}")
    # resources = local.<arns>, a for expression over local.<names> under var.ssm_prefix.
    reference = re.fullmatch(r"\$\{local\.([a-z_]+)\}", str(ssm[0])) if len(ssm) == 1 else None
    arns = module["locals"].get(reference.group(1)) if reference else None
    names_local = re.search(r"for secret in local\.([a-z_]+) :", str(arns))
    problems.check(
        names_local is not None
        and "${var.ssm_prefix}" in str(arns)
        and sorted(module["locals"].get(names_local.group(1), [])) == facts["sender"]["secrets"],
        where_policy,
        f"ssm:GetParameters only on the sender's secrets {facts['sender']['secrets']} under var.ssm_prefix",
    )


def check_terraform_schedule(where, module, queue, problems):
    variable = module["variable"].get("alert_schedule_expression", {})
    problems.check("default" in variable and variable["default"] is None, f"{where} variable.alert_schedule_expression", "alert_schedule_expression must default to null (no schedule)")
    check_schedule_pattern(f"{where} variable.alert_schedule_expression", terraform_validation_regex(variable), problems, empty_allowed=False)
    schedules = module["resource"].get("aws_scheduler_schedule", {})
    problems.check(len(schedules) == 1, where, f"expected one aws_scheduler_schedule (the timed alert), found {len(schedules)}")
    for name, schedule in schedules.items():
        where_schedule = f"{where} aws_scheduler_schedule.{name}"
        problems.check("var.alert_schedule_expression" in str(schedule.get("count")) or "local.has_alert_schedule" in str(schedule.get("count")), where_schedule, "the schedule exists only when alert_schedule_expression is set (count)")
        target = (blocks(schedule, "target") or [{}])[0]
        problems.check(queue and target.get("arn") == f"${{aws_sqs_queue.{queue}.arn}}", where_schedule, "the schedule's target must be the alert queue")
        problems.check(target.get("input") == "${var.alert_schedule_job}", where_schedule, "the schedule's input must be var.alert_schedule_job")
        role = terraform_reference(target.get("role_arn"), "aws_iam_role")
        roles = module["resource"].get("aws_iam_role", {})
        problems.check(role in roles and role not in ("function", TERRAFORM_SENDER), where_schedule, "the schedule needs its own role")
        problems.check("scheduler.amazonaws.com" in json.dumps(roles.get(role, {}).get("assume_role_policy")), where_schedule, "only EventBridge Scheduler may assume its role")
        policies = [p for p in module["resource"].get("aws_iam_role_policy", {}).values() if terraform_reference(p.get("role"), "aws_iam_role") == role]
        problems.check(len(policies) == 1, where_schedule, "one inline policy on the schedule's role")
        document_name = terraform_reference(policies[0].get("policy") if policies else None, "data.aws_iam_policy_document")
        document = module["data"].get("aws_iam_policy_document", {}).get(document_name, {})
        where_policy = f"{where} data.aws_iam_policy_document.{document_name}"
        sqs_actions = set()
        for statement in policy_statements(document):
            actions, resources = statement.get("actions", []), statement.get("resources", [])
            problems.check(all("*" not in action for action in actions) and "*" not in resources, where_policy, f"no wildcard: {actions} on {resources}")
            if all(action.startswith("sqs:") for action in actions):
                sqs_actions |= set(actions)
                problems.check(resources == [f"${{aws_sqs_queue.{queue}.arn}}"], where_policy, "sqs:SendMessage only on the alert queue")
            elif all(action.startswith("kms:") for action in actions):
                conditions = blocks(statement, "condition")
                problems.check(any(c.get("variable") == "kms:ViaService" and str((c.get("values") or [""])[0]).startswith("sqs.") for c in conditions), where_policy, "KMS only through SQS")
                problems.check(set(actions) <= {"kms:Decrypt", "kms:GenerateDataKey"}, where_policy, f"KMS actions {actions}")
            else:
                problems.check(False, where_policy, f"the schedule's role may only send to the alert queue, not {actions}")
        problems.check(sqs_actions == SCHEDULE_QUEUE_ACTIONS, where_policy, f"queue actions must be exactly {sorted(SCHEDULE_QUEUE_ACTIONS)}, are {sorted(sqs_actions)}")


def check_terraform_sender_alarms(where, module, function_name, dead_letter, facts, problems):
    sender = facts["sender"]
    alarms = module["resource"].get("aws_cloudwatch_metric_alarm", {})
    watched = [f"aws_lambda_function.{TERRAFORM_WEBHOOK}.", f"aws_lambda_function.{function_name}.", f"aws_sqs_queue.{dead_letter}."]
    for name, alarm in alarms.items():
        problems.check(
            any(reference in json.dumps(alarm.get("dimensions")) or reference in json.dumps(alarm.get("dynamic")) for reference in watched),
            f"{where} aws_cloudwatch_metric_alarm.{name}",
            "an alarm must watch the webhook, the sender or the dead-letter queue (its dimensions name none)",
        )
    ours = [alarm for alarm in alarms.values() if f"aws_lambda_function.{function_name}." in json.dumps(alarm.get("dimensions"))]
    single = {(alarm.get("namespace"), alarm.get("metric_name")) for alarm in ours}
    problems.check(("AWS/Lambda", "Errors") in single, where, "an alarm on the sender's Errors")
    problems.check((sender["namespace"], "alert_failed") in single, where, f"an alarm on {sender['namespace']}/alert_failed of the sender")
    for alarm in ours:
        namespace, metric = alarm.get("namespace"), alarm.get("metric_name")
        problems.check(not blocks(alarm, "metric_query"), where, "the sender's alarms watch one metric each")
        if namespace == "AWS/Lambda":
            continue
        problems.check(namespace == sender["namespace"], where, f"metric namespace {namespace}, the sender uses {sender['namespace']}")
        problems.check(metric in sender["metrics"], where, f"{SENDER_METRICS_FILE} declares no metric {metric}")
        problems.check(list((alarm.get("dimensions") or {}).keys()) == [sender["dimension"]], where, f"{metric}: dimension {sender['dimension']} (the sender's)")
        if metric == "alert_failed":
            problems.check(alarm.get("threshold") == "${var.send_failures_threshold}", where, "the alert_failed alarm's threshold must be var.send_failures_threshold")
    problems.check(
        any(
            alarm.get("namespace") == "AWS/SQS"
            and alarm.get("metric_name") == "ApproximateNumberOfMessagesVisible"
            and alarm.get("dimensions") == {"QueueName": f"${{aws_sqs_queue.{dead_letter}.name}}"}
            and (
                (alarm.get("comparison_operator") == "GreaterThanThreshold" and alarm.get("threshold") == 0)
                or (alarm.get("comparison_operator") == "GreaterThanOrEqualToThreshold" and alarm.get("threshold") == 1)
            )
            for alarm in alarms.values()
        ),
        where,
        "an alarm on any message in the dead-letter queue (AWS/SQS ApproximateNumberOfMessagesVisible of its name > 0)",
    )


def policy_statements(document):
    """The statements of a policy document, its dynamic ones' content included."""
    found = list(blocks(document, "statement"))
    for dynamic in blocks(document, "dynamic"):
        for content in dynamic.get("statement", {}).get("content", []):
            found.append(content)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sam", action="append", default=[], help="SAM template as JSON (sam_transform.py --sam-json)")
    parser.add_argument("--cfn", action="append", default=[], help="transformed template (sam_transform.py --cfn-json)")
    parser.add_argument("--terraform", action="append", default=[], help="module as JSON (terraform_json.py)")
    parser.add_argument("--repository", required=True)
    arguments = parser.parse_args()
    problems = Problems()
    facts = code_facts(arguments.repository, problems)
    for path in arguments.sam + arguments.cfn:
        try:
            check_cfn(path, load(path), facts, problems)
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            problems.found.append(f"{path}: not the expected shape ({type(error).__name__}: {error})")
    for path in arguments.terraform:
        try:
            check_terraform(path, load(path), facts, problems)
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            problems.found.append(f"{path}: not the expected shape ({type(error).__name__}: {error})")
    if problems.found:
        for problem in problems.found:
            print(f"properties: {problem}", file=sys.stderr)
        sys.exit(1)
    inputs = len(arguments.sam) + len(arguments.cfn) + len(arguments.terraform)
    print(f"properties: {problems.checked} checks passed on {inputs} template(s)", file=sys.stderr)


if __name__ == "__main__":
    main()
