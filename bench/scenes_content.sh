#!/usr/bin/env bash
# 10,000 ml-1m train scenes WITH content vectors (3,883 × 1,536 float32, seeded random, written as the
# reference's cache <work>/embeddings/ml-1m.content.safetensors), the reference's setting (its content
# scorer always runs, issue 15), against the same run without content vectors; warm collaborative
# cache; also with --compat reference (same scorers). Prints a markdown table (wall and CPU time, peak
# RSS) and `uptime` before and after.
# Usage: bench/scenes_content.sh BUILD_DIR [THREADS] [REPEATS]
set -euo pipefail
build=${1:?usage: scenes_content.sh BUILD_DIR [THREADS] [REPEATS]}
threads=${2:-2}
repeats=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${UM_SHARED_DIR:-$root/../shared}
bin=$build/usermirror
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export UM_NO_PROGRESS=1

"$bin" prepare --dataset ml-1m --raw "$shared/data/ml-1m" --work "$work" > /dev/null
mkdir -p "$work/embeddings" "$work/nocontent/raws"
cp "$work"/raws/ml-1m* "$work/nocontent/raws/"
/usr/bin/python3 - "$work/embeddings/ml-1m.content.safetensors" <<'PY'
import json, struct, sys
import numpy as np
x = np.random.default_rng(0).standard_normal((3883, 1536), dtype=np.float32)
head = json.dumps({"item_content_embedding": {"dtype": "F32", "shape": list(x.shape),
                                              "data_offsets": [0, x.nbytes]}}).encode()
head += b" " * (-len(head) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(head)) + head + x.tobytes())
PY

run() {  # label work extra-args...
  local label=$1 w=$2
  shift 2
  # warm the collaborative cache once
  "$bin" scenes --dataset ml-1m --work "$w" --split train --samples 10 --threads "$threads" --all-users "$@" > /dev/null
  for r in $(seq "$repeats"); do
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -v "$bin" scenes --dataset ml-1m --work "$w" --split train --samples 10000 --seed 0 \
      --threads "$threads" --all-users "$@" > "$w/out.txt" 2> "$w/time.log"
    t1=$(date +%s%N)
    local wall cpu rss out scorers
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    rss=$(grep "Maximum resident set size" "$w/time.log" | awk '{printf "%.0f", $NF/1024}')
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$w/time.log")
    out=$(wc -l < "$w/datasets/ml-1m_train.jsonl")
    scorers=$(sed -n 's/^ *exposure *sampled (\(.*\))$/\1/p' "$w/out.txt")
    echo "| $label | $scorers | $r | $out | $wall | $cpu | $rss |"
  done
}
echo "uptime before: $(uptime)"
echo
echo "| run | scorers | repeat | scenes out | wall s | CPU s (user+sys) | peak RSS MB |"
echo "|---|---|---|---|---|---|---|"
run "no content vectors" "$work/nocontent"
run "content vectors" "$work"
run "content vectors, --compat reference" "$work" --compat reference
echo
echo "uptime after: $(uptime)"
