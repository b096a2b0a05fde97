#!/usr/bin/env python3
"""Transforms the SAM template into plain CloudFormation offline, as `sam deploy` and the
CloudFormation service do, so that cfn-lint and checkov also see what AWS::Serverless::Function
becomes (cfn-lint 1.54 and newer no longer transform SAM templates themselves).

    python sam_transform.py TEMPLATE.yaml --sam-json OUT.json --cfn-json OUT.json

Runs in the infra venv (cfn-lint for YAML with CloudFormation's short tags, aws-sam-translator for
the transform). Writes the template as JSON (short tags in their long form: `!Ref X` becomes
`{"Ref": "X"}`) and the transformed template. As `sam deploy` does after uploading the package,
a local CodeUri is replaced with an S3 location before the transform; managed policies are not
looked up (the template uses none), so nothing here needs AWS credentials or a network.
A template that does not transform exits with status 1 and the translator's message.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from cfnlint.decode import decode  # noqa: E402
from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402

PACKAGE_LOCATION = "s3://votecheck-deployment-artifacts/votecheck.zip"


class NoManagedPolicies:
    """Stands in for the IAM lookup of managed policy ARNs (offline; the template uses none)."""

    def load(self):
        return {}


def plain(value):
    """cfn-lint's decoded nodes as plain JSON values."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("template")
    parser.add_argument("--sam-json", required=True)
    parser.add_argument("--cfn-json", required=True)
    arguments = parser.parse_args()
    template, problems = decode(arguments.template)
    if problems or template is None:
        for problem in problems or []:
            print(f"{arguments.template}: {problem}", file=sys.stderr)
        sys.exit(1)
    template = plain(template)
    with open(arguments.sam_json, "w", encoding="utf-8") as file:
        json.dump(template, file, indent=1, sort_keys=True)
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(properties.get("CodeUri"), str):
            if not properties["CodeUri"].startswith("s3://"):
                properties["CodeUri"] = PACKAGE_LOCATION
    try:
        transformed = transform(template, {}, NoManagedPolicies(), passthrough_metadata=True)
    except InvalidDocumentException as error:
        for cause in error.causes:
            print(f"{arguments.template}: {cause.message}", file=sys.stderr)
        sys.exit(1)
    with open(arguments.cfn_json, "w", encoding="utf-8") as file:
        json.dump(transformed, file, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
