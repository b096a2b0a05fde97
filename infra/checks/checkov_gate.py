#!/usr/bin/env python3
"""Reads checkov's JSON report and decides: fails (status 1) on any failed check, on any file
checkov could not parse (checkov itself reports those and still exits 0), when it found no
resource at all, and on any skip without a reason. Prints the skips with their reasons, so the
log of every run says what was not checked and why.

    checkov -f TEMPLATE --framework cloudformation -o json ... > report.json
    python3 checkov_gate.py report.json LABEL
"""

import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, label = sys.argv[1], sys.argv[2]
    try:
        with open(path, encoding="utf-8") as file:
            report = json.load(file)
    except (OSError, ValueError) as error:
        print(f"checkov [{label}]: no readable report ({error})", file=sys.stderr)
        sys.exit(1)
    reports = report if isinstance(report, list) else [report]
    problems, resources = [], 0
    for part in reports:
        summary = part.get("summary", {})
        results = part.get("results", {})
        resources += summary.get("resource_count", 0)
        for parse_error in results.get("parsing_errors", []):
            problems.append(f"could not parse {parse_error}")
        for check in results.get("failed_checks", []):
            problems.append(f"FAILED {check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}")
        for check in results.get("skipped_checks", []):
            reason = (check.get("check_result", {}).get("suppress_comment") or "").strip()
            if not reason or reason.lower() in ("no comment provided", "none"):
                problems.append(f"skip of {check['check_id']} on {check['resource']} gives no reason")
            else:
                print(f"checkov [{label}]: skipped {check['check_id']} on {check['resource']}: {reason}", file=sys.stderr)
        passed = summary.get("passed", 0)
        print(
            f"checkov [{label}]: {part.get('check_type')}: {passed} passed, {summary.get('failed', 0)} failed, "
            f"{summary.get('skipped', 0)} skipped, {summary.get('parsing_errors', 0)} parse errors, "
            f"{summary.get('resource_count', 0)} resources",
            file=sys.stderr,
        )
    if resources == 0:
        problems.append("no resources found: nothing was checked")
    for problem in problems:
        print(f"checkov [{label}]: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
