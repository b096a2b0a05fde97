#!/usr/bin/env python3
"""Plain BM25 baselines ("peers") for votecheck's retrieval eval.

Indexes a passage export (JSON Lines: passage_id, source, section, title, language,
jurisdiction, kind, claim, text) with two off-the-shelf BM25 implementations and runs the
eval cases that name an expected source:

  sqlite_fts5  Python's sqlite3 with an FTS5 table, tokenizer `unicode61 remove_diacritics 2`,
               ranked by bm25(); the question becomes an OR of its tokens, each one quoted.
  bm25s        the bm25s package with its default tokenizer (lowercase, `\\w\\w+` tokens),
               no stemmer and no stopwords, default BM25 parameters.

Both see the same text per passage: title, section path, text and, for fact-checks, the
claim. Neither can abstain, refuse or answer small talk, so cases without `expect.source`
are counted as skipped.

A case hits at rank r when the r-th passage comes from one of the acceptable sources and,
if the case lists sections, one of them occurs in the passage's section path (compared
case-insensitively with runs of whitespace collapsed).

Latency is the wall time of one query (turning the question into a query, retrieving and
reading back the top k), measured with time.perf_counter_ns after the index is built.

No network access is needed. Usage:

    python bm25_peers.py --passages PASSAGES.jsonl --cases CASES.jsonl [--k 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
import unicodedata
from collections import defaultdict
from typing import Callable, Iterable

try:
    import bm25s
    from bm25s.tokenization import Tokenizer
except ImportError:  # reported in main(), so that --help works without it
    bm25s = None

_WS = re.compile(r"\s+")


def norm(s: str) -> str:
    """Case-insensitive, whitespace-collapsed form used for section matching."""
    return _WS.sub(" ", s).strip().lower()


def load_jsonl(path: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{lineno}: invalid JSON: {e}")
    return rows


def passage_body(p: dict) -> str:
    parts = [p.get("title") or "", p.get("section") or "", p.get("text") or ""]
    if p.get("claim"):
        parts.append(p["claim"])
    return "\n".join(x for x in parts if x)


def as_list(v) -> list[str]:
    if v is None:
        return []
    return [v] if isinstance(v, str) else list(v)


# ---------------------------------------------------------------- SQLite FTS5


def _is_separator(ch: str) -> bool:
    # Split on whitespace, punctuation, symbols and control characters; keep letters, digits
    # and combining marks together so that FTS5 tokenizes each quoted piece the way it
    # tokenized the documents.
    if ch.isspace():
        return True
    return unicodedata.category(ch)[0] in "PSZC"


def question_tokens(q: str) -> list[str]:
    tokens, cur = [], []
    for ch in q:
        if _is_separator(ch):
            if cur:
                tokens.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        tokens.append("".join(cur))
    return tokens


def fts5_query(q: str) -> str | None:
    toks = question_tokens(q)
    if not toks:
        return None
    seen, quoted = set(), []
    for t in toks:
        key = t.lower()
        if key in seen:
            continue
        seen.add(key)
        quoted.append('"' + t.replace('"', '""') + '"')
    return " OR ".join(quoted)


class Fts5Peer:
    name = "sqlite_fts5"

    def __init__(self, passages: list[dict]):
        self.db = sqlite3.connect(":memory:")
        self.db.execute(
            "CREATE VIRTUAL TABLE p USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')"
        )
        self.db.executemany(
            "INSERT INTO p(rowid, body) VALUES (?, ?)",
            ((i, passage_body(p)) for i, p in enumerate(passages)),
        )
        self.db.commit()
        self.errors = 0

    def search(self, question: str, k: int) -> list[int]:
        q = fts5_query(question)
        if q is None:
            return []
        try:
            rows = self.db.execute(
                "SELECT rowid FROM p WHERE p MATCH ? ORDER BY bm25(p) LIMIT ?", (q, k)
            ).fetchall()
        except sqlite3.OperationalError:
            # Quoting makes this unreachable in practice; count it rather than crash.
            self.errors += 1
            return []
        return [r[0] for r in rows]


# ---------------------------------------------------------------------- bm25s


class Bm25sPeer:
    name = "bm25s"

    def __init__(self, passages: list[dict]):
        self.tokenizer = Tokenizer(stemmer=None, stopwords=None)
        ids = self.tokenizer.tokenize(
            [passage_body(p) for p in passages], return_as="ids", show_progress=False
        )
        self.retriever = bm25s.BM25()
        self.retriever.index(ids, show_progress=False)
        self.empty_id = self.tokenizer.get_vocab_dict().get("")
        self.n = len(passages)
        self.errors = 0

    def search(self, question: str, k: int) -> list[int]:
        q = self.tokenizer.tokenize(
            [question], update_vocab=False, return_as="ids", show_progress=False
        )
        if not [t for t in q[0] if t != self.empty_id]:
            return []
        docs, scores = self.retriever.retrieve(q, k=min(k, self.n), show_progress=False)
        # bm25s always returns k documents; passages that share no term score 0 and are
        # not matches.
        return [int(d) for d, s in zip(docs[0], scores[0]) if s > 0]


# ----------------------------------------------------------------------- eval


def percentile(sorted_vals: list[int], pct: float) -> int:
    if not sorted_vals:
        return 0
    rank = max(1, -(-len(sorted_vals) * pct // 100))  # nearest rank
    return sorted_vals[int(rank) - 1]


def make_matcher(expect: dict) -> Callable[[dict], bool]:
    sources = set(as_list(expect.get("source")))
    sections = [norm(s) for s in as_list(expect.get("section"))]

    def ok(p: dict) -> bool:
        if p["source"] not in sources:
            return False
        if not sections:
            return True
        path = norm(p.get("section") or "")
        return any(s in path for s in sections)

    return ok


def evaluate(peer, passages, cases, k) -> dict:
    hit1 = hit3 = 0
    rr = 0.0
    lat: list[int] = []
    tags = defaultdict(lambda: [0, 0, 0])  # cases, hit@1, hit@3
    for c in cases:
        ok = make_matcher(c["expect"])
        t0 = time.perf_counter_ns()
        got = peer.search(c["question"], k)
        lat.append((time.perf_counter_ns() - t0) // 1000)
        rank = next((i + 1 for i, idx in enumerate(got) if ok(passages[idx])), None)
        h1 = rank == 1
        h3 = rank is not None and rank <= 3
        hit1 += h1
        hit3 += h3
        rr += 1.0 / rank if rank else 0.0
        for t in dict.fromkeys(c.get("tags") or []):
            row = tags[t]
            row[0] += 1
            row[1] += h1
            row[2] += h3
    n = len(cases)
    lat.sort()
    rate = lambda x, d: round(x / d, 4) if d else 0.0
    return {
        "hit_at_1": rate(hit1, n),
        "hit_at_3": rate(hit3, n),
        "mrr": rate(rr, n),
        "latency_us": {
            "p50": percentile(lat, 50),
            "p99": percentile(lat, 99),
            "max": lat[-1] if lat else 0,
        },
        "by_tag": {
            t: {"cases": v[0], "hit_at_1": rate(v[1], v[0]), "hit_at_3": rate(v[2], v[0])}
            for t, v in sorted(tags.items())
        },
    }


def print_table(report: dict, lang_tags: Iterable[str]) -> None:
    systems = report["systems"]
    names = list(systems)
    print(
        f"{report['cases']} cases with an expected source, {report['skipped']} skipped "
        f"(no expected source), {report['passages']} passages, k={report['k']}"
    )
    print()
    head = f"{'system':<12} {'hit@1':>7} {'hit@3':>7} {'MRR':>7} {'p50 us':>9} {'p99 us':>9} {'max us':>9} {'build ms':>9}"
    print(head)
    print("-" * len(head))
    for name in names:
        s = systems[name]
        l = s["latency_us"]
        print(
            f"{name:<12} {s['hit_at_1']:>7.3f} {s['hit_at_3']:>7.3f} {s['mrr']:>7.3f} "
            f"{l['p50']:>9} {l['p99']:>9} {l['max']:>9} {s['index_build_ms']:>9}"
        )
    print()
    tags = list(systems[names[0]]["by_tag"]) if names else []
    langs = [t for t in tags if t in lang_tags]
    others = [t for t in tags if t not in lang_tags]
    cols = "".join(f" {n + ' @1/@3':>20}" for n in names)
    w = max([16, *(len(t) for t in tags)])
    for title, group in (("by language", langs), ("by tag", others)):
        if not group:
            continue
        print(f"{title:<{w}} {'cases':>5}{cols}")
        for t in group:
            n_cases = systems[names[0]]["by_tag"][t]["cases"]
            cells = "".join(
                f" {systems[n]['by_tag'][t]['hit_at_1']:>9.3f}/{systems[n]['by_tag'][t]['hit_at_3']:<10.3f}"
                for n in names
            )
            print(f"{t:<{w}} {n_cases:>5}{cells}")
        print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", required=True, help="passage export, JSON Lines")
    ap.add_argument("--cases", required=True, help="eval cases, JSON Lines")
    ap.add_argument("--k", type=int, default=3, help="passages retrieved per question (default 3)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args(argv)
    if args.k < 1:
        ap.error("--k must be at least 1")

    if bm25s is None:
        sys.exit("bm25s is not installed: pip install -r requirements.txt, or use run.sh")

    passages = load_jsonl(args.passages)
    all_cases = load_jsonl(args.cases)
    cases = [c for c in all_cases if (c.get("expect") or {}).get("source")]
    skipped = len(all_cases) - len(cases)
    # The first tag of a case is its language.
    lang_tags = {c["tags"][0] for c in all_cases if c.get("tags")}

    report = {
        "cases": len(cases),
        "skipped": skipped,
        "passages": len(passages),
        "k": args.k,
        "systems": {},
    }
    for cls in (Fts5Peer, Bm25sPeer):
        t0 = time.perf_counter_ns()
        peer = cls(passages)
        build_ms = (time.perf_counter_ns() - t0) // 1_000_000
        result = evaluate(peer, passages, cases, args.k)
        result["index_build_ms"] = build_ms
        if peer.errors:
            result["query_errors"] = peer.errors
        report["systems"][cls.name] = result

    if args.json:
        json.dump(report, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_table(report, lang_tags)
    return 0


if __name__ == "__main__":
    sys.exit(main())
