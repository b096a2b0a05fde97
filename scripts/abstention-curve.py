#!/usr/bin/env python3
"""How the answer/no-answer decision trades coverage for precision on a dev file, judged two ways.

The judgement model is trained on the held-out dev split, so on dev it declines unanswerable
questions it has learned by heart, and dev's no-answer accuracy and answer precision overstate
what it does on new questions. `scripts/train-judgement.sh` also writes every training message's
cross-validated verdict (from the ensemble whose fold left the message out) to
`target/judgement-cross-validated.jsonl`; this script replays the engine's answer decision from
each case's trace with that verdict instead of the bundled one: the honest dev estimate. It then
shifts every answer threshold by the same amount and prints what coverage, precision and
no-answer accuracy would become (the operating points the thresholds could choose).

    target/release/votecheck eval --index INDEX --cases samples/eval/heldout/shared-dev.jsonl \
        --json > dev.json
    python3 scripts/abstention-curve.py --report dev.json \
        --cases samples/eval/heldout/shared-dev.jsonl

The decision replayed (functions/engine/src/engine.rs): a message judged unanswerable,
partisan, small talk or greeting gets no answer; otherwise it is answered when the best
passage's evidence reaches its language's threshold (functions/engine/data/calibration.toml,
`[semantic]`), or when the encoder reads the writing poorly and the keyword confidence reaches
the lexical threshold. Fact-checks and mixed messages' procedural parts are not replayed, and
only cases expecting an answer or no answer count (so the figures can differ from
`scripts/heldout-figures.py`, which counts every answered message). Only dev files: a test split
is refused (samples/eval/README.md).
"""
import argparse
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DECLINED = {"unanswerable", "partisan", "small_talk", "greeting", "command", "report_problem"}
SHIFTS = [shift / 100 for shift in range(-10, 31, 5)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--report", required=True, help="`votecheck eval --json` output")
    parser.add_argument("--cases", required=True, help="the case file the report is of")
    parser.add_argument(
        "--judgements",
        default=str(ROOT / "target/judgement-cross-validated.jsonl"),
        help="cross-validated verdicts written by scripts/train-judgement.sh",
    )
    arguments = parser.parse_args()
    if "test" in Path(arguments.cases).name:
        sys.exit(f"{arguments.cases} is a test split: it is reported, never replayed")
    cases_file = str(Path(arguments.cases).resolve().relative_to(ROOT))
    cross_validated = {}
    with open(arguments.judgements, encoding="utf-8") as lines:
        for line in lines:
            verdict = json.loads(line)
            if verdict["file"] == cases_file:
                cross_validated[verdict["id"]] = verdict["judgement"]
    if not cross_validated:
        sys.exit(f"{arguments.judgements} has no verdicts for {cases_file}: not a training file?")
    with open(ROOT / "functions/engine/data/calibration.toml", "rb") as file:
        calibration = tomllib.load(file)
    with open(arguments.report, encoding="utf-8") as file:
        results = json.load(file)["results"]
    decisions = [
        decision(result, cross_validated)
        for result in results
        if result["expected_outcome"] in ("answer", "no_answer")
    ]
    print(f"{cases_file}: {len(decisions)} answer/no-answer decisions")
    for name, key in (("bundled", "bundled"), ("cross-validated", "cross_validated")):
        print(f"  judgement {name:<16} {figures(decisions, key, calibration, 0.0)}")
    print("  every answer threshold shifted, cross-validated judgement:")
    for shift in SHIFTS:
        print(f"    {shift:+.2f}  {figures(decisions, 'cross_validated', calibration, shift)}")


def decision(result, cross_validated):
    """What the replay needs of one case."""
    trace = result["trace"]
    bundled = (trace.get("judgement") or {}).get("judgement")
    return {
        "language": result["language"].split("-")[0],
        "expects_answer": result["expected_outcome"] == "answer",
        "passage_right": result["passage_right"],
        "has_passages": bool(trace["passages"]),
        "evidence": trace["best_passage_evidence"],
        "confidence": trace["best_passage_confidence"],
        "keywords_decide": trace.get("keywords_decide", False),
        "bundled": bundled,
        "cross_validated": cross_validated.get(result["id"], bundled),
    }


def figures(decisions, judged_by, calibration, shift):
    """Coverage, precision and no-answer accuracy of the replayed decisions."""
    semantic = calibration["semantic"]
    by_language = semantic.get("answer_evidence_by_language", {})
    answerable = answered = right = unanswerable = declined_rightly = 0
    for one in decisions:
        threshold = by_language.get(one["language"], semantic["answer_evidence"]) + shift
        answers = (
            one[judged_by] not in DECLINED
            and one["has_passages"]
            and (
                one["evidence"] >= threshold
                or (
                    one["keywords_decide"]
                    and one["confidence"] >= calibration["answer_confidence"]
                )
            )
        )
        answered += answers
        if one["expects_answer"]:
            answerable += 1
            right += answers and one["passage_right"]
        else:
            unanswerable += 1
            declined_rightly += not answers
    share = lambda part, whole: 100.0 * part / whole if whole else 0.0
    return (
        f"coverage {share(right, answerable):5.1f} %  "
        f"precision {share(right, answered):5.1f} % ({answered} answers)  "
        f"no-answer accuracy {share(declined_rightly, unanswerable):5.1f} %"
    )


if __name__ == "__main__":
    main()
