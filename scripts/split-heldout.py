#!/usr/bin/env python3
"""Splits the held-out question set into dev and test, once.

The held-out set was written before the engine ever ran on it (samples/eval/README.md). This
script was run once, on the files the writers produced, and its output is what is committed:
samples/eval/heldout/{sample,shared}-{dev,test}.jsonl. Kept to show how the split was made; it is
deterministic (the order within a stratum is the SHA-256 of each case's id), so running it again
on the same input gives the same files.

Stratified by corpus, language (tags[0]) and category (tags[1]): within each stratum, cases sorted
by the hash of their id alternate dev, test, dev, test... (an odd stratum gives dev one more).

    python3 scripts/split-heldout.py RAW_DIR OUT_DIR
"""
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path


def main(raw_dir: Path, out_dir: Path) -> None:
    strata = defaultdict(list)
    for path in sorted(raw_dir.glob("*.jsonl")):
        corpus = "sample" if path.stem.startswith("sample") else "shared"
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            case = json.loads(line)
            strata[(corpus, case["tags"][0], case["tags"][1])].append(case)
    out = defaultdict(list)
    for (corpus, _, _), cases in sorted(strata.items()):
        cases.sort(key=lambda case: hashlib.sha256(case["id"].encode()).hexdigest())
        for position, case in enumerate(cases):
            split = "dev" if position % 2 == 0 else "test"
            out[(corpus, split)].append(case)
    out_dir.mkdir(parents=True, exist_ok=True)
    for (corpus, split), cases in sorted(out.items()):
        cases.sort(key=lambda case: case["id"])
        target = out_dir / f"{corpus}-{split}.jsonl"
        with target.open("w", encoding="utf-8") as handle:
            for case in cases:
                handle.write(json.dumps(case, ensure_ascii=False) + "\n")
        print(f"{target}: {len(cases)} cases")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
