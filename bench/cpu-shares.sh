#!/usr/bin/env bash
# Answer latency at the CPU share Lambda gives a function of 512, 1,024 and 1,769 MB (one vCPU
# at 1,769 MB, in proportion below: 0.29, 0.58 and 1 vCPU), measured by running `votecheck eval`
# over an eval file inside a cgroup whose CPU quota is that share, with the encoder on one thread
# as the templates configure it. Needs root and a cgroup CPU controller (v1 at
# /sys/fs/cgroup/cpu or v2 at /sys/fs/cgroup). Prints memory size, quota, p50, p99 and the
# GB-seconds per 1,000 questions (memory x p50), which is what Lambda bills.
#
#   bash bench/cpu-shares.sh INDEX_DIR CASES.jsonl [target/release/votecheck]
set -euo pipefail
index="${1:?usage: cpu-shares.sh INDEX_DIR CASES.jsonl [VOTECHECK]}"
cases="${2:?usage: cpu-shares.sh INDEX_DIR CASES.jsonl [VOTECHECK]}"
votecheck="${3:-target/release/votecheck}"
period=100000
if [ -d /sys/fs/cgroup/cpu ] && [ -w /sys/fs/cgroup/cpu ]; then
    group=/sys/fs/cgroup/cpu/votecheck-cpu-shares
    mkdir -p "$group"
    set_quota() { echo "$period" > "$group/cpu.cfs_period_us"; echo "$1" > "$group/cpu.cfs_quota_us"; }
elif [ -w /sys/fs/cgroup/cgroup.subtree_control ]; then
    group=/sys/fs/cgroup/votecheck-cpu-shares
    mkdir -p "$group"
    set_quota() { echo "$1 $period" > "$group/cpu.max"; }
else
    echo "cpu-shares: no writable cgroup CPU controller (run as root)" >&2
    exit 1
fi
trap 'rmdir "$group" 2>/dev/null || true' EXIT
echo "| memory | vCPU share | answer p50 | answer p99 | GB-s per 1,000 questions (p50) |"
echo "|---|---|---|---|---|"
for memory in 512 1024 1769; do
    quota=$(( period * memory / 1769 ))
    set_quota "$quota"
    CANDLE_NUM_THREADS=1 RAYON_NUM_THREADS=1 bash -c \
        'echo $$ > "$0/cgroup.procs"; exec "$1" eval --index "$2" --cases "$3" --json' \
        "$group" "$votecheck" "$index" "$cases" \
    | python3 -c '
import json, sys
memory, quota, period = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
latency = json.load(sys.stdin)["latency_us"]
p50, p99 = latency["p50"] / 1000, latency["p99"] / 1000
print(f"| {memory} MB | {quota / period:.2f} | {p50:.1f} ms | {p99:.1f} ms | {memory / 1024 * p50:.1f} |")
' "$memory" "$quota" "$period"
done
