#!/usr/bin/env bash
# Checks the deployment templates offline with real, pinned tools (installed by
# scripts/infra-env.sh): the step of scripts/test.sh for infra/.
#
#   1. aws-sam-translator transforms infra/sam/template.yaml into plain CloudFormation;
#   2. cfn-lint on the SAM template and on the transformed one (cfn-lint no longer transforms SAM
#      itself, so errors inside AWS::Serverless::Function would otherwise go unseen);
#   3. checkov on both and on infra/terraform/, parse errors fatal, every skip with a reason
#      (infra/checks/checkov_gate.py; settings in infra/.checkov.yaml);
#   4. python-hcl2 parses infra/terraform/, and infra/checks/properties.py asserts the key
#      properties of all three (TTL, point-in-time recovery, encryption, runtime, handler,
#      reserved concurrency, no secrets in the environment, log retention, IAM, alarms) and
#      that the table matches functions/store/table-definition.json;
#   5. `terraform fmt -check` when terraform is installed (it is not required);
#   6. every negative fixture in infra/tests/ must be rejected, by the check it targets and for
#      the reason it states (`# expect:` line, or `expect` in a mutation fixture): a tool upgrade
#      that stops catching an error fails here.
#
# Reports and intermediate files go to target/infra-checks/. Exit status 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

bash scripts/infra-env.sh
INFRA_PYTHON=.venv-infra/bin/python
HCL2_PYTHON=.venv-hcl2/bin/python
out=target/infra-checks
rm -rf "$out"
mkdir -p "$out/negative"
export AWS_DEFAULT_REGION=us-east-1

say() { echo "infra-checks: $*" >&2; }

# The checks, as functions of their input, shared by the real templates and the fixtures.
sam_transform() { # TEMPLATE PREFIX
    "$INFRA_PYTHON" infra/checks/sam_transform.py "$1" --sam-json "$2.json" --cfn-json "$2-transformed.json"
}
cfn_lint() { # TEMPLATE (SAM): lints the template and its transform
    local prefix="$out/negative/cfn-lint-$(basename "$1" .yaml)"
    sam_transform "$1" "$prefix" && .venv-infra/bin/cfn-lint "$1" "$prefix-transformed.json"
}
checkov_cloudformation() { # FILE LABEL
    .venv-infra/bin/checkov --config-file infra/.checkov.yaml --skip-download -f "$1" --framework cloudformation -o json \
        > "$out/checkov-$2.json" 2> "$out/checkov-$2.log" || true
    python3 infra/checks/checkov_gate.py "$out/checkov-$2.json" "$2"
}
checkov_terraform() { # DIRECTORY LABEL
    .venv-infra/bin/checkov --config-file infra/.checkov.yaml --skip-download -d "$1" --framework terraform -o json \
        > "$out/checkov-$2.json" 2> "$out/checkov-$2.log" || true
    python3 infra/checks/checkov_gate.py "$out/checkov-$2.json" "$2"
}
terraform_json() { # DIRECTORY OUT
    "$HCL2_PYTHON" infra/checks/terraform_json.py "$1" "$2"
}
properties() {
    python3 infra/checks/properties.py --repository . "$@"
}

say "1. aws-sam-translator: infra/sam/template.yaml -> $out/sam-transformed.json"
sam_transform infra/sam/template.yaml "$out/sam"
say "2. cfn-lint: the SAM template and its transform"
.venv-infra/bin/cfn-lint infra/sam/template.yaml "$out/sam-transformed.json"
say "3. checkov: the SAM template, its transform, the Terraform module"
checkov_cloudformation infra/sam/template.yaml sam
checkov_cloudformation "$out/sam-transformed.json" sam-transformed
checkov_terraform infra/terraform terraform
say "4. python-hcl2 and the property checks"
terraform_json infra/terraform "$out/terraform.json"
properties --sam "$out/sam.json" --cfn "$out/sam-transformed.json" --terraform "$out/terraform.json"
if command -v terraform > /dev/null; then
    say "5. terraform fmt -check"
    terraform fmt -check -recursive infra/terraform > /dev/null 2>&1 \
        || { terraform fmt -check -diff -recursive infra/terraform >&2 || true; exit 1; }
else
    say "5. terraform fmt -check: skipped (terraform is not installed; the other checks do not need it)"
fi

say "6. negative fixtures (each must be rejected)"
rejected=0
failed=0
expect_rejected() { # FIXTURE EXPECTED COMMAND...
    local fixture="$1" expected="$2" log
    shift 2
    log="$out/negative/$(echo "$fixture" | tr '/' '_').log"
    if [ -z "$expected" ]; then
        say "FAIL $fixture states no expected reason"
        failed=$((failed + 1))
    elif "$@" > "$log" 2>&1; then
        say "FAIL $fixture was accepted (log: $log)"
        failed=$((failed + 1))
    elif ! grep -qF -- "$expected" "$log"; then
        say "FAIL $fixture was rejected, but not for \`$expected\` (log: $log)"
        failed=$((failed + 1))
    else
        rejected=$((rejected + 1))
    fi
}
expectation() { sed -n 's/^# expect: //p' "$1" | head -1; }

for fixture in infra/tests/cfn-lint/*.yaml; do
    expect_rejected "$fixture" "$(expectation "$fixture")" cfn_lint "$fixture"
done
for fixture in infra/tests/sam-translator/*.yaml; do
    expect_rejected "$fixture" "$(expectation "$fixture")" \
        sam_transform "$fixture" "$out/negative/translator-$(basename "$fixture" .yaml)"
done
for fixture in infra/tests/checkov/*.yaml; do
    expect_rejected "$fixture" "$(expectation "$fixture")" \
        checkov_cloudformation "$fixture" "negative-$(basename "$fixture" .yaml)"
done
for fixture in infra/tests/checkov/*/; do
    expect_rejected "$fixture" "$(expectation "$fixture/main.tf")" \
        checkov_terraform "$fixture" "negative-$(basename "$fixture")"
done
for fixture in infra/tests/hcl2/*/; do
    expect_rejected "$fixture" "$(expectation "$fixture/main.tf")" \
        terraform_json "$fixture" "$out/negative/hcl2-$(basename "$fixture").json"
done
mutated_properties() { # FIXTURE.json
    local broken name="$(basename "$1" .json)"
    broken="$(python3 infra/checks/mutate.py "$1" "$out/negative/mutated")" || return 2
    case "$broken" in
        *.yaml)
            sam_transform "$broken" "$out/negative/mutated/$name" || return 2
            properties --sam "$out/negative/mutated/$name.json" --cfn "$out/negative/mutated/$name-transformed.json"
            ;;
        *)
            terraform_json "$broken" "$out/negative/mutated/$name.json" || return 2
            properties --terraform "$out/negative/mutated/$name.json"
            ;;
    esac
}
for fixture in infra/tests/properties/*.json; do
    expect_rejected "$fixture" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["expect"])' "$fixture")" \
        mutated_properties "$fixture"
done

if [ "$failed" -gt 0 ] || [ "$rejected" -eq 0 ]; then
    say "$failed negative fixture(s) not rejected as they should be, $rejected rejected"
    exit 1
fi
say "all checks passed; $rejected negative fixtures rejected, each for its stated reason ($(($(date +%s) - started)) s)"
