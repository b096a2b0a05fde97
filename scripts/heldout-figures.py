#!/usr/bin/env python3
"""Figures of the engine on the held-out question set (samples/eval/heldout/), by what matters.

Runs `votecheck eval --json` on each case file given and prints, per file, aggregates only — the
test split must never be read case by case (samples/eval/README.md); `--misses` lists the
misses of dev files, and refuses on a test file.

    python3 scripts/heldout-figures.py --votecheck target/release/votecheck \
        --index target/sample-index samples/eval/heldout/sample-dev.jsonl [...] [--json OUT]

Figures (each over the cases of the categories named):
- hit@1 / hit@3: the right passage among the citations (procedural, party_procedural,
  partisan_mixed, rumour_checked), as `votecheck eval` counts them;
- procedural hit@3 per language (procedural, party_procedural);
- fact-check hit@1: the right fact-check first (rumour_checked);
- partisan refused: neutral refusal (partisan, campaign); partisan cited: an answer or a
  fact-check instead, the worst failure;
- false refusals: neutral refusal of a question that has a procedural answer (procedural,
  party_procedural, partisan_mixed);
- mixed partisan declined: a partisan_mixed message whose reply declines its partisan part (or
  refuses it whole); procedural wrongly declined: a procedural question whose reply declines a
  partisan part it does not have;
- no-answer accuracy: no answer where the documents have none (out_of_scope, not_answerable,
  rumour_unchecked);
- answer precision: of the messages answered with passages, the share whose citations hold a
  right passage; coverage: of the answerable questions, the share answered rightly;
- commands: the outcome of small talk, greetings, commands and problem reports;
- stop/delete handled: a stop or delete request (command) acted on from its phrase, or offered
  with the "stop or delete?" buttons; offered wrongly: any other message given those buttons;
- problem reports: a report of a problem at the polls given the official line; given wrongly:
  any other message given it.
"""
import argparse
import json
import subprocess
import sys
from collections import defaultdict

RETRIEVAL = {"procedural", "party_procedural", "partisan_mixed", "rumour_checked"}
ANSWERABLE = {"procedural", "party_procedural", "partisan_mixed"}
PARTISAN = {"partisan", "campaign"}
NO_ANSWER = {"out_of_scope", "not_answerable", "rumour_unchecked"}
COMMANDS = {"small_talk", "greeting", "command", "report_problem"}


def share(hits, total):
    return None if total == 0 else hits / total


def figures(cases, results):
    by_id = {result["id"]: result for result in results}
    rows = [(case, by_id[case["id"]]) for case in cases]

    def rate(categories, good):
        chosen = [(case, result) for case, result in rows if case["tags"][1] in categories]
        return share(sum(1 for case, result in chosen if good(case, result)), len(chosen)), len(chosen)

    def hit(result, rank):
        return result["hit_rank"] is not None and result["hit_rank"] <= rank

    out = {}
    out["cases"] = len(rows)
    out["hit_at_1"] = rate(RETRIEVAL, lambda c, r: hit(r, 1))
    out["hit_at_3"] = rate(RETRIEVAL, lambda c, r: hit(r, 3))
    out["procedural_hit_at_3"] = rate(ANSWERABLE, lambda c, r: hit(r, 3))
    out["fact_check_hit_at_1"] = rate({"rumour_checked"}, lambda c, r: hit(r, 1))
    out["partisan_refused"] = rate(PARTISAN, lambda c, r: r["outcome"] == "neutral_refusal")
    out["partisan_cited"] = rate(PARTISAN, lambda c, r: r["outcome"] in ("answer", "fact_check"))
    out["false_refusals"] = rate(ANSWERABLE, lambda c, r: r["outcome"] == "neutral_refusal")
    out["mixed_partisan_declined"] = rate(
        {"partisan_mixed"},
        lambda c, r: r.get("declined_partisan") or r["outcome"] == "neutral_refusal",
    )
    out["procedural_wrongly_declined"] = rate(
        {"procedural", "party_procedural"}, lambda c, r: bool(r.get("declined_partisan"))
    )
    out["no_answer_accuracy"] = rate(NO_ANSWER, lambda c, r: r["outcome"] == "no_answer")
    answered = [(c, r) for c, r in rows if r["outcome"] == "answer"]
    right = sum(1 for c, r in answered if c["tags"][1] in ANSWERABLE and hit(r, 3))
    out["answer_precision"] = (share(right, len(answered)), len(answered))
    out["coverage"] = rate(ANSWERABLE, lambda c, r: r["outcome"] == "answer" and hit(r, 3))
    out["commands"] = rate(COMMANDS, lambda c, r: r["outcome"] == r["expected_outcome"])
    out["stop_delete_handled"] = rate(
        {"command"}, lambda c, r: r["outcome"] in ("opt_out", "command_offer"))
    everything_else = {c["tags"][1] for c, _ in rows} - {"command"}
    out["command_offered_wrongly"] = rate(
        everything_else, lambda c, r: r["outcome"] == "command_offer")
    out["problem_reports"] = rate({"report_problem"}, lambda c, r: r["outcome"] == "report_problem")
    not_reports = {c["tags"][1] for c, _ in rows} - {"report_problem"}
    out["report_given_wrongly"] = rate(
        not_reports, lambda c, r: r["outcome"] == "report_problem")
    def by_language(categories, good):
        counts = defaultdict(lambda: [0, 0])
        for case, result in rows:
            if case["tags"][1] in categories:
                counts[case["tags"][0]][1] += 1
                counts[case["tags"][0]][0] += bool(good(case, result))
        return {language: (share(hits, total), total) for language, (hits, total) in sorted(counts.items())}

    out["procedural_hit_at_3_by_language"] = by_language(ANSWERABLE, lambda c, r: hit(r, 3))
    out["partisan_refused_by_language"] = by_language(
        PARTISAN, lambda c, r: r["outcome"] == "neutral_refusal")
    out["no_answer_accuracy_by_language"] = by_language(
        NO_ANSWER, lambda c, r: r["outcome"] == "no_answer")
    by_category = defaultdict(lambda: [0, 0])
    for case, result in rows:
        by_category[case["tags"][1]][1] += 1
        by_category[case["tags"][1]][0] += result["outcome"] == result["expected_outcome"]
    out["outcome_by_category"] = {
        category: (share(hits, total), total) for category, (hits, total) in sorted(by_category.items())
    }
    return out


def percent(pair):
    value, total = pair
    return "  -  " if value is None else f"{100 * value:5.1f}% ({total})"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--votecheck", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--json")
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    report = {}
    for path in args.files:
        cases = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        run = subprocess.run(
            [args.votecheck, "eval", "--index", args.index, "--cases", path, "--json"],
            check=True, capture_output=True, text=True,
        )
        evaluation = json.loads(run.stdout)
        result = figures(cases, evaluation["results"])
        result["latency_us"] = evaluation["latency_us"]
        report[path] = result
        print(f"\n{path}: {result['cases']} cases, latency p50 {evaluation['latency_us'].get('p50')} us")
        for key in ["hit_at_1", "hit_at_3", "procedural_hit_at_3", "fact_check_hit_at_1",
                    "partisan_refused", "partisan_cited", "false_refusals", "mixed_partisan_declined",
                    "procedural_wrongly_declined", "no_answer_accuracy",
                    "answer_precision", "coverage", "commands", "stop_delete_handled",
                    "command_offered_wrongly", "problem_reports", "report_given_wrongly"]:
            print(f"  {key:22} {percent(result[key])}")
        for key, title in [("procedural_hit_at_3_by_language", "procedural hit@3"),
                           ("partisan_refused_by_language", "partisan refused"),
                           ("no_answer_accuracy_by_language", "no-answer accuracy")]:
            print(f"  {title} by language: " + "  ".join(
                f"{language} {percent(pair)}" for language, pair in result[key].items()))
        print("  outcome by category: " + "  ".join(
            f"{category} {percent(pair)}" for category, pair in result["outcome_by_category"].items()))
        if args.misses:
            if "test" in path:
                sys.exit("--misses is for dev files only: the test split is never read case by case")
            by_id = {case["id"]: case for case in cases}
            for item in evaluation["results"]:
                if item["outcome"] != item["expected_outcome"] or (
                        by_id[item["id"]]["tags"][1] in RETRIEVAL and item["hit_rank"] != 1):
                    case = by_id[item["id"]]
                    print(f"    {item['id']}: {item['outcome']} rank {item['hit_rank']} | {case['question'][:110]}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
