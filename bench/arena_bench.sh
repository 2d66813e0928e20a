#!/usr/bin/env bash
# The arena numbers of docs/benchmarks.md ("Arena") in one run, end to end through `usermirror arena`:
#  1. prefix sharing: direct mode on the Qwen2.5-0.5B shape (random weights), the same pages asked in
#     the naive order (recommender by recommender, each page asked alone) and grouped by user (the
#     pages of one user together: the shared prompt prefix computed once, the exposure lists batched):
#     pages/s of the simulator and the prefix-cache hit rate of each, both orders twice, alternating,
#     so a change in the machine's load shows;
#  2. the arena's own overhead (everything but the simulator's LLM time) on the tiny model.
# Random-weight models are written on first use under /tmp/um-bench.
#
# DATASET is the bundled demo's ml-latest-small (default) or a dataset of SHARED_DIR/data (ml-1m, whose
# profiles carry gender, age and occupation, so a larger share of each prompt is the user's own);
# PAGE_SIZE the exposure list's length (default 5); HISTORY the history entries per page (default 0:
# the reference's random 2-10 window; N: the N most recent, `usermirror arena --history N`). With
# TINY=0 the tiny-model run is left out.
#
#   bench/arena_bench.sh BUILD_DIR [SHARED_DIR] [USERS] [DATASET] [PAGE_SIZE] [HISTORY]
set -euo pipefail
build=${1:?usage: arena_bench.sh BUILD_DIR [SHARED_DIR] [USERS] [DATASET] [PAGE_SIZE] [HISTORY]}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${2:-$root/../shared}
users=${3:-6}
dataset=${4:-ml-latest-small}
page_size=${5:-5}
history=${6:-0}
um=$build/usermirror
export OMP_WAIT_POLICY=PASSIVE UM_NO_PROGRESS=1
work=/tmp/um-bench/arena-work-$dataset
mkdir -p /tmp/um-bench
m05=/tmp/um-bench/qwen2.5-0.5b-shape
tiny=/tmp/um-bench/tiny-qwen3
if [ ! -f "$m05/config.json" ]; then
  "$um" model init --arch qwen2 --layers 24 --hidden 896 --heads 14 --kv-heads 2 --intermediate 4864 \
    --tie-embeddings --vocab 151936 --tokenizer "$shared/tokenizers/qwen3" --out "$m05" --seed 3 >/dev/null
fi
if [ ! -f "$tiny/config.json" ]; then
  "$um" model init --arch qwen3 --layers 2 --hidden 64 --heads 4 --kv-heads 2 --tie-embeddings \
    --tokenizer "$shared/tokenizers/qwen3" --out "$tiny" --seed 3 --dtype f32 >/dev/null
fi
if [ ! -f "$work/raws/${dataset}_interaction.jsonl" ]; then
  raw=$shared/data/$dataset
  [ "$dataset" = ml-latest-small ] && raw=$root/data/demo/ml-latest-small
  "$um" prepare --dataset "$dataset" --raw "$raw" --work "$work" >/dev/null
fi
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
recs=random,pop,itemknn,ease,bpr
run() {  # name simulator order users
  rm -rf "$work/arena/$1"
  local t0 t1
  t0=$(date +%s.%N)
  "$um" arena --work "$work" --dataset "$dataset" --recommenders "$recs" --simulator "$2" \
    --order "$3" --users "$4" --protocol interleave --page-size "$page_size" --history "$history" --seed 1 --name "$1" \
    --no-figures --controls "" 2>&1 |
    grep -E "pages|prefix-cache|time: (recommenders|simulator)" | sed "s/^/  [$1] /"
  t1=$(date +%s.%N)
  echo "  [$1] wall $(echo "$t1 - $t0" | bc) s"
}
echo "== $dataset, page size $page_size, history $history (0 = random 2-10), 0.5B shape, direct mode, $users users x 10 interleaved pairs (naive and grouped twice, alternating)"
for i in 1 2; do
  run naive$i "local:$m05" naive "$users"
  run grouped$i "local:$m05" grouped "$users"
done
if [ "${TINY:-1}" != 0 ]; then
  echo "== tiny model, direct mode, 40 users"
  run tiny "local:$tiny" grouped 40
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
