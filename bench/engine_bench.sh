#!/usr/bin/env bash
# The engine numbers of docs/benchmarks.md ("Engine") in one run: machine limits, the 0.5B shape (prefill,
# decode, small-batch projection formulations, prefix-shared scoring), decode again with the decode
# kernels off (UM_NO_DECODE_KERNELS=1, the plain libtorch path), and the 3B shape. Random-weight models
# are written on first use under /tmp/um-bench (the 3B one is 6.2 GB).
#
#   bench/engine_bench.sh BUILD_DIR [SHARED_DIR]
set -euo pipefail
build=${1:?usage: engine_bench.sh BUILD_DIR [SHARED_DIR]}
root=$(cd "$(dirname "$0")/.." && pwd)
export UM_SHARED_DIR=${2:-$root/../shared}
export OMP_WAIT_POLICY=PASSIVE
bench=$build/bench/model_forward_bench
b3=/tmp/um-bench/qwen2.5-3b-shape
if [ ! -f "$b3/config.json" ]; then
  "$build/usermirror" model init --arch qwen2 --layers 36 --hidden 2048 --heads 16 --kv-heads 2 \
    --intermediate 11008 --tie-embeddings --vocab 151936 --tokenizer "$UM_SHARED_DIR/tokenizers/qwen3" \
    --out "$b3" --seed 3 >/dev/null
fi
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 0.5B shape"
"$bench" 2>&1 | grep -E '^BM_'
echo "== 0.5B shape, decode kernels off"
UM_NO_DECODE_KERNELS=1 "$bench" --benchmark_filter='MachineLimits|Decode/.*/0' 2>&1 | grep -E '^BM_'
echo "== 3B shape"
UM_BENCH_MODEL_DIR=$b3 "$bench" --benchmark_filter='MachineLimits|Prefill/512/0|Decode/.*/0' 2>&1 | grep -E '^BM_'
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
