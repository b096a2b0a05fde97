#!/usr/bin/env python3
"""Writes a deliberately broken copy of a real template from a mutation fixture
(infra/tests/properties/*.json), so that the copy differs from the real one in exactly one place
and a check that rejects it does so for the intended reason.

    python3 mutate.py FIXTURE.json OUT_DIR      # prints the path of the broken copy

A fixture names its `base` (a file of the repository; a Terraform module file is copied with the
rest of its module), the text to `replace` (it must occur exactly once, so a fixture that no longer
matches the real template fails loudly instead of testing nothing) and what to put `with`.
"""

import json
import os
import shutil
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    fixture_path, out = sys.argv[1], sys.argv[2]
    repository = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(fixture_path, encoding="utf-8") as file:
        fixture = json.load(file)
    base = os.path.join(repository, fixture["base"])
    name = os.path.splitext(os.path.basename(fixture_path))[0]
    if base.endswith(".tf"):
        target_dir = os.path.join(out, name)
        shutil.rmtree(target_dir, ignore_errors=True)
        shutil.copytree(os.path.dirname(base), target_dir, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
        target = os.path.join(target_dir, os.path.basename(base))
    else:
        os.makedirs(out, exist_ok=True)
        target = os.path.join(out, name + os.path.splitext(base)[1])
        shutil.copyfile(base, target)
    with open(target, encoding="utf-8") as file:
        text = file.read()
    count = text.count(fixture["replace"])
    if count != 1:
        sys.exit(f"{fixture_path}: the text to replace occurs {count} times in {fixture['base']} (must be once): update the fixture")
    with open(target, "w", encoding="utf-8") as file:
        file.write(text.replace(fixture["replace"], fixture["with"]))
    print(os.path.dirname(target) if base.endswith(".tf") else target)


if __name__ == "__main__":
    main()
