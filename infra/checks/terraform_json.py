#!/usr/bin/env python3
"""Parses every .tf file of a Terraform module with python-hcl2 and writes one JSON document, for
the property checks (properties.py), which need no HCL parser of their own.

    python terraform_json.py MODULE_DIR OUT.json

Runs in .venv-hcl2. The output has the shape of Terraform's JSON syntax, merged over the files:
`{"resource": {TYPE: {NAME: BODY}}, "data": ..., "variable": {NAME: BODY}, "locals": {...},
"output": ..., "terraform": [...]}`; strings lose their quotes, expressions stay as `${...}`
text, nested blocks are lists of objects. A file that does not parse exits with status 1 and
the parser's message, naming the file.
"""

import json
import os
import sys

import hcl2

OPTIONS = hcl2.SerializationOptions(with_comments=False, strip_string_quotes=True, explicit_blocks=False)


def unquote(key):
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


def clean(value):
    if isinstance(value, dict):
        return {unquote(key): clean(item) for key, item in value.items() if not key.startswith("__")}
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    module, out = sys.argv[1], sys.argv[2]
    merged = {"resource": {}, "data": {}, "variable": {}, "locals": {}, "output": {}, "terraform": []}
    files = sorted(name for name in os.listdir(module) if name.endswith(".tf"))
    if not files:
        sys.exit(f"{module}: no .tf files")
    for name in files:
        path = os.path.join(module, name)
        try:
            with open(path, encoding="utf-8") as file:
                document = clean(hcl2.load(file, serialization_options=OPTIONS))
        except Exception as error:  # the parser raises several unrelated types
            print(f"{path}: does not parse: {error}", file=sys.stderr)
            sys.exit(1)
        for kind in ("resource", "data"):
            for block in document.get(kind, []):
                for type_name, named in block.items():
                    for block_name, body in named.items():
                        merged[kind].setdefault(type_name, {})[block_name] = body
        for kind in ("variable", "output"):
            for block in document.get(kind, []):
                merged[kind].update(block)
        for block in document.get("locals", []):
            merged["locals"].update(block)
        merged["terraform"].extend(document.get("terraform", []))
    with open(out, "w", encoding="utf-8") as file:
        json.dump(merged, file, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
