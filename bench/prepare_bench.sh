#!/usr/bin/env bash
# Wall time and peak memory of `usermirror prepare` on the real files in ../shared/data.
# Builds nothing: pass the CLI binary. Prints a Markdown table (median wall and CPU time of N runs,
# max peak RSS). CPU time is the steadier figure when the machine is shared.
#
#   bench/prepare_bench.sh build/usermirror [../shared/data] [N=5]
#
# KuaiRec and Steam lack interaction files in ../shared: their rows pair the real side files with
# the hand-written fixtures (tests/fixtures/raw/), so they measure the side-information parsing.
set -euo pipefail
BIN=${1:?usage: prepare_bench.sh USERMIRROR_BINARY [SHARED_DATA] [N]}
DATA=${2:-$(dirname "$0")/../../shared/data}
N=${3:-5}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export UM_NO_PROGRESS=1

mkdir -p "$TMP/kuairec" "$TMP/steam"
cp "$DATA"/kuairec/*.csv "$TMP/kuairec/" && cp "$HERE/tests/fixtures/raw/kuairec/big_matrix.csv" "$TMP/kuairec/"
cp "$DATA/steam-ucsd/steam_games.json.gz" "$TMP/steam/" && cp "$HERE/tests/fixtures/raw/steam/steam_reviews.json" "$TMP/steam/"

run() {  # name dataset rawdir
  local name=$1 ds=$2 raw=$3 times=() cpus=() rss=0 out
  for _ in $(seq "$N"); do
    rm -rf "$TMP/work"
    out=$( { /usr/bin/time -f "TIME %e %M %U %S" "$BIN" prepare --dataset "$ds" --raw "$raw" --work "$TMP/work" >/dev/null; } 2>&1 | grep '^TIME')
    times+=("$(echo "$out" | awk '{print $2}')")
    cpus+=("$(echo "$out" | awk '{printf "%.2f", $4 + $5}')")
    local m; m=$(echo "$out" | awk '{print $3}')
    (( m > rss )) && rss=$m
  done
  local med; med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  local cpu; cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  local rows; rows=$(wc -l < "$TMP/work/raws/${ds}_interaction.jsonl")
  printf '| %s | %s | %s | %s s | %s s | %.1f MiB |\n' "$name" "$ds" "$rows" "$med" "$cpu" "$(echo "$rss/1024" | bc -l)"
}

echo "| input | --dataset | interactions out | wall (median of $N) | CPU user+sys (median) | peak RSS |"
echo "|---|---|---|---|---|---|"
run "ml-100k" ml-100k "$DATA/ml-100k"
run "ml-1m (shared subset, 487,650 ratings)" ml-1m "$DATA/ml-1m"
run "ml-latest-small" ml-latest-small "$DATA/ml-latest-small"
run "Amazon 2018 Magazine_Subscriptions" Amazon-Magazine_Subscriptions "$DATA/amazon-2018-Magazine_Subscriptions"
run "MIND sample (5,000 impressions)" MIND "$DATA/mind/MINDsmall_train"
run "Last.fm hetrec2011-2k" LastFM "$DATA/hetrec2011-lastfm-2k"
run "KuaiRec side files + fixture matrix" KuaiRec2 "$TMP/kuairec"
run "Steam games (32k) + fixture reviews" steam "$TMP/steam"
