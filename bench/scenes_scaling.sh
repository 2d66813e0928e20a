#!/usr/bin/env bash
# Scene-building scaling: wall time, peak RSS and scenes/s of `usermirror scenes --split train` for
# 1k, 10k and 100k sampled interactions on ml-100k, ml-1m and Amazon 2018 (Magazine_Subscriptions)
# from ../shared/data, cold (collaborative embedding computed) and warm (embedding cache reused).
# Usage: bench/scenes_scaling.sh BUILD_DIR [THREADS]   (results as a markdown table on stdout)
set -euo pipefail
build=${1:?usage: scenes_scaling.sh BUILD_DIR [THREADS]}
threads=${2:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${UM_SHARED_DIR:-$root/../shared}
bin=$build/usermirror
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export UM_NO_PROGRESS=1

prepare() {  # name raw-folder
  "$bin" prepare --dataset "$1" --raw "$shared/data/$2" --work "$work" > /dev/null
}
prepare ml-100k ml-100k
prepare ml-1m ml-1m
prepare Amazon-Magazine_Subscriptions amazon-2018-Magazine_Subscriptions

echo "| dataset | sampled | cache | scenes out | wall s | peak RSS MB | scenes/s |"
echo "|---|---|---|---|---|---|---|"
for ds in ml-100k ml-1m Amazon-Magazine_Subscriptions; do
  for n in 1000 10000 100000; do
    for cache in cold warm; do
      [ "$cache" = cold ] && rm -rf "$work/embeddings"
      log=$work/time.log
      # Wall time from the clock in ns (/usr/bin/time rounds to 10 ms, which made tiny runs 0 scenes/s);
      # /usr/bin/time for the peak RSS.
      t0=$(date +%s%N)
      /usr/bin/time -v "$bin" scenes --dataset "$ds" --work "$work" --split train --samples "$n" \
        --seed 0 --threads "$threads" --all-users > "$work/out.txt" 2> "$log"
      t1=$(date +%s%N)
      wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
      rss=$(grep "Maximum resident set size" "$log" | awk '{printf "%.0f", $NF/1024}')
      out=$(wc -l < "$work/datasets/${ds}_train.jsonl")
      rate=$(awk -v n="$out" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')
      echo "| $ds | $n | $cache | $out | $wall | $rss | $rate |"
    done
  done
done
