#!/usr/bin/env python3
"""Property checks of the deployment templates: the things a security reviewer and the function's
code rely on, asserted on the SAM template, on its plain CloudFormation transform and on the
Terraform module, so that an edit (or a tool upgrade) cannot silently drop them.

    python3 properties.py [--sam SAM.json] [--cfn TRANSFORMED.json] [--terraform MODULE.json]
                          --repository ROOT

The inputs are JSON written by sam_transform.py (CloudFormation's long-form intrinsics) and
terraform_json.py (python-hcl2); this script needs only the standard library. It prints every
problem, one per line, and exits with status 1 if there is any, else prints what it checked.

Checked for each template:
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
    return {
        "table": load(os.path.join(repository, "functions/store/table-definition.json")),
        "namespace": namespace.group(1) if namespace else None,
        "dimension": dimension.group(1) if dimension else None,
        "metrics": emitted,
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
    function_name, function, _ = cfn.one(where, problems, function_type)
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
    log_groups = list(cfn.resources("AWS::Logs::LogGroup"))
    problems.check(len(log_groups) == 1, where, "expected one log group")
    if log_groups:
        log_group_name, log_group, _ = log_groups[0]
        problems.check(refers_to(logging.get("LogGroup"), log_group_name), where_function, "logs must go to the template's log group")
        retention = log_group.get("RetentionInDays")
        problems.check(isinstance(retention, int) and 1 <= retention <= 365, where, f"the log group needs a retention, has {retention}")
        problems.check("KmsKeyId" in log_group, where, "the log group must use the customer-managed key by default")

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
    _, function_without, _ = aws_owned.one(where, problems, function_type)
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


def check_environment(where, variables, problems):
    names = set(variables)
    problems.check(not names & SECRET_VARIABLES, where, f"secrets in the environment: {sorted(names & SECRET_VARIABLES)} (they belong in SSM)")
    problems.check(
        names <= ALLOWED_VARIABLES,
        where,
        f"variables the function does not read: {sorted(names - ALLOWED_VARIABLES - SECRET_VARIABLES)}",
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


def check_cfn_alarms(where, cfn, facts, problems):
    alarms = [properties for _, properties, _ in cfn.resources("AWS::CloudWatch::Alarm")]
    single = {(alarm.get("Namespace"), alarm.get("MetricName")) for alarm in alarms if alarm.get("MetricName")}
    in_math = {
        (query["MetricStat"]["Metric"].get("Namespace"), query["MetricStat"]["Metric"].get("MetricName"))
        for alarm in alarms
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

    name, function = only(module, where, problems, "aws_lambda_function")
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
    log_group_name, log_group = only(module, where, problems, "aws_cloudwatch_log_group")
    problems.check(logging.get("log_group") == f"${{aws_cloudwatch_log_group.{log_group_name}.name}}", where_function, "logs must go to the module's log group")
    retention = variable_default(module, log_group.get("retention_in_days"))
    problems.check(isinstance(retention, int) and 1 <= retention <= 365, where, f"the log group needs a retention, has {retention}")
    problems.check("kms_key_id" in log_group, where, "the log group must use the customer-managed key when chosen")

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
    single = {(alarm.get("namespace"), alarm.get("metric_name")) for alarm in alarms if alarm.get("metric_name")}
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
    problems.check(len(roles) == 1, where, "one role")
    problems.check(not module["resource"].get("aws_iam_role_policy_attachment"), where, "no attached managed policies")
    problems.check(len(documents) == 1, where, "one policy document for the function")
    all_statements = []
    for document in documents.values():
        all_statements += blocks(document, "statement")
        for dynamic in blocks(document, "dynamic"):
            for content in dynamic.get("statement", {}).get("content", []):
                all_statements.append(content)
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
