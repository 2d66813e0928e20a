#!/usr/bin/env bash
# The soak figures of docs/reliability.md ("Soak"): `usermirror serve` on a tiny random-weight
# Qwen3-shape model under a mixed valid + hostile load on loopback for SECONDS (default 300), through
# bench/serve_soak.py. The model is written on first use under /tmp/um-bench/serve-soak.
#
#   bench/serve_soak.sh BUILD_DIR [SECONDS] [CLIENTS] [SHARED_DIR]
set -euo pipefail
build=${1:?usage: serve_soak.sh BUILD_DIR [SECONDS] [CLIENTS] [SHARED_DIR]}
seconds=${2:-300}
clients=${3:-6}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${4:-${UM_SHARED_DIR:-$root/../shared}}
work=/tmp/um-bench/serve-soak
mkdir -p "$work"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
/usr/bin/python3 "$root/bench/serve_soak.py" --um "$build/usermirror" --tokenizer "$shared/tokenizers/qwen3" \
  --work "$work" --seconds "$seconds" --clients "$clients" --json "$work/soak.json" || status=$?
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "figures and RSS/fd samples: $work/soak.json"
exit "$status"
