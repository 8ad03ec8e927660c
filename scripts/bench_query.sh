#!/usr/bin/env bash
# SQL through the Query Service against the emulator (release build, no added latency):
#
#   1. peak RSS of `kbagent query --full` streaming a 1,000,000-row result to a CSV file
#      page by page (target: <= 25 MiB), and its wall time;
#   2. time to the first page: `workspace query` of a small result with the default
#      --limit (target: 50 ms plus the round trips), median of RUNS runs, next to the sum of
#      the emulator's own time serving those requests (its request log on stderr).
#
#   scripts/bench_query.sh          # needs GNU time (apt-get install time)
#   ROWS=200000 RUNS=20 scripts/bench_query.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
runs=${RUNS:-10}
[[ -x /usr/bin/time ]] || { echo "GNU time is required: apt-get install time" >&2; exit 1; }

cargo build --release --locked --quiet -p kbagent -p keboola-emulator
bin=$PWD/target/release
work=$(mktemp -d)
cleanup() { [[ -n "${emu_pid:-}" ]] && kill "$emu_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin/keboola-emulator" --projects 1 >"$work/ready.json" 2>"$work/requests.log" &
emu_pid=$!
for _ in $(seq 200); do [[ -s "$work/ready.json" ]] && break; sleep 0.05; done
url=$(grep -o '"url":"[^"]*"' "$work/ready.json" | cut -d'"' -f4)
token=$(grep -o '"admin":"[^"]*"' "$work/ready.json" | head -1 | cut -d'"' -f4)
export KBAGENT_CONFIG_DIR="$work/config"
printf '%s' "$token" | "$bin/kbagent" --json project add --project p --url "$url" --token-stdin >/dev/null

sql="WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $rows) SELECT x AS id, 'row ' || x AS label, x * 0.5 AS half FROM n"

echo "== kbagent query --full: $rows rows to a CSV file"
start=$(date +%s%N)
/usr/bin/time -v "$bin/kbagent" --json query --sql "$sql" --full --output "$work/rows.csv" \
  >"$work/full.json" 2>"$work/time.txt"
end=$(date +%s%N)
grep -Eq '"status": *"ok"' "$work/full.json" || { cat "$work/full.json"; exit 1; }
lines=$(wc -l <"$work/rows.csv")
rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
printf 'rows written: %d (+1 header line)\n' "$((lines - 1))"
printf 'peak RSS of kbagent: %d KiB (%.1f MiB; target <= 25 MiB)\n' "$rss" "$(echo "$rss / 1024" | bc -l)"
printf 'wall time: %d ms\n' "$(((end - start) / 1000000))"

echo "== time to the first page: workspace query (default --limit 500), $runs runs"
ws=$("$bin/kbagent" --json workspace create | grep -Eo '"workspace_id": *"[0-9]*"' | cut -d'"' -f4)
"$bin/kbagent" --json workspace load --workspace-id "$ws" --tables in.c-crm.orders >/dev/null
times=()
: >"$work/requests.log"
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  "$bin/kbagent" --json workspace query --workspace-id "$ws" --sql 'SELECT * FROM orders ORDER BY order_id' >/dev/null
  end=$(date +%s%N)
  times+=($(((end - start) / 1000)))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
served=$(grep -ao '(\([0-9]*\) ms)' "$work/requests.log" | tr -dc '0-9\n' | awk '{s+=$1} END {print s + 0}')
requests=$(grep -ac ' -> ' "$work/requests.log" || true)
printf 'median wall time to the first page: %.1f ms (%d requests per run; the emulator logged %d ms, in whole ms, serving all %d)\n' \
  "$(echo "$median / 1000" | bc -l)" "$((requests / runs))" "$served" "$requests"
"$bin/kbagent" --json workspace delete --workspace-id "$ws" --yes >/dev/null
