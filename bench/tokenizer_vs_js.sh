#!/usr/bin/env bash
# Tokenizer speed versus the JavaScript oracle (@lenml/tokenizers), same corpus, same machine, one
# thread each: English Amazon review texts (bench/tokenizer_bench.cpp). Best of N single passes
# (cold word caches in both) by wall time and by process CPU time (the fairer number on a busy
# machine); checks that both produce identical ids; prints MB/s and the ratios.
#
# usage: bench/tokenizer_vs_js.sh [BUILD_DIR [TOKENIZER_DIR [DATA_DIR [RUNS]]]]
#   defaults: build, ../shared/tokenizers/qwen3, ../shared/data, 3 (relative to the repo root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$root/build}")
tok=$(realpath "${2:-$root/../shared/tokenizers/qwen3}")
data=$(realpath "${3:-$root/../shared/data}")
runs=${4:-3}
bench="$build/bench/tokenizer_bench"
oracle="$build/npm-oracle"
[ -x "$bench" ] || { echo "build the tokenizer_bench target first ($bench)" >&2; exit 1; }
if [ ! -f "$oracle/node_modules/@lenml/tokenizers/package.json" ]; then
  npm install --silent --no-audit --no-fund --prefix "$oracle" @lenml/tokenizers@3.7.2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bench" --data="$data" --write_corpus="$tmp/corpus.bin"

for _ in $(seq "$runs"); do
  node "$root/tests/oracles/tokenizer/encode.js" "$oracle" "$tok" "$tmp/corpus.bin" "$tmp/js.jsonl" \
    --encode-only 2>>"$tmp/js.txt"
  "$bench" --tokenizer="$tok" --time_corpus="$tmp/corpus.bin" --ids_out="$tmp/cpp.jsonl" >>"$tmp/cpp.txt"
done
if cmp -s "$tmp/js.jsonl" "$tmp/cpp.jsonl"; then same=yes; else same=NO; fi
awk -v s="$same" -v n="$runs" '
  FNR == 1 { f++ }
  f == 1 && /^encode_ms/ { if (!jw || $2 < jw) jw = $2; if (!jc || $4 < jc) jc = $4 }
  f == 2 && /^encode_ms/ { if (!cw || $2 < cw) cw = $2; if (!cc || $4 < cc) cc = $4; b = $8 }
  END {
    printf "corpus: %.2f MB of English review text, best of %d passes, one thread each\n", b / 1e6, n;
    printf "%-32s %9s %9s %9s %9s\n", "", "wall ms", "MB/s", "cpu ms", "MB/s";
    printf "%-32s %9.1f %9.2f %9.1f %9.2f\n", "javascript (@lenml/tokenizers)", jw, b / 1e3 / jw, jc, b / 1e3 / jc;
    printf "%-32s %9.1f %9.2f %9.1f %9.2f\n", "usermirror (C++)", cw, b / 1e3 / cw, cc, b / 1e3 / cc;
    printf "speed-up: %.1fx wall, %.1fx cpu   identical ids: %s\n", jw / cw, jc / cc, s;
  }' "$tmp/js.txt" "$tmp/cpp.txt"
[ "$same" = yes ]
