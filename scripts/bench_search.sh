#!/usr/bin/env bash
# `kbagent search` over 50 projects next to the same search of one project (release build,
# emulator with 100 ms latency on every API response), on both paths: projects without
# Keboola's global-search feature (searched over their listings) and with it. Prints
# hyperfine tables and the ratios; asserts nothing.
#
#   scripts/bench_search.sh          # needs hyperfine, curl, jq
#   RUNS=20 PROJECTS=50 LATENCY_MS=100 scripts/bench_search.sh
#
# Target: 50 projects within 3x of one project (the fan-out runs in parallel).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-10}
projects=${PROJECTS:-50}
latency=${LATENCY_MS:-100}

for tool in hyperfine curl jq; do
  command -v "$tool" >/dev/null || { echo "$tool is required (apt-get install $tool)" >&2; exit 1; }
done

cargo build --release --locked --quiet -p kbagent -p keboola-emulator
bin=$PWD/target/release
work=$(mktemp -d)
cleanup() { [[ -n "${emu_pid:-}" ]] && kill "$emu_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin/keboola-emulator" --projects "$projects" --latency-ms "$latency" --quiet >"$work/ready.json" &
emu_pid=$!
for _ in $(seq 200); do [[ -s "$work/ready.json" ]] && break; sleep 0.05; done
url=$(jq -r .url "$work/ready.json")
manage=$(jq -r .manage_token "$work/ready.json")
export KBAGENT_CONFIG_DIR="$work/config"

i=0
adds=()
for token in $(jq -r '.projects[].tokens.admin' "$work/ready.json"); do
  i=$((i + 1))
  printf '%s' "$token" | "$bin/kbagent" --json project add --project "p$i" --url "$url" --token-stdin >/dev/null &
  adds+=($!)
done
wait "${adds[@]}"
echo "kbagent $("$bin/kbagent" --version | cut -d' ' -f2), $i projects, ${latency} ms latency, $(nproc) cores"

median() { jq -r ".results[$2].median" "$1"; }
report() {
  local file=$1 label=$2 one all
  one=$(median "$file" 0)
  all=$(median "$file" 1)
  awk -v l="$label" -v a="$one" -v b="$all" -v n="$projects" \
    'BEGIN { printf "  %-28s 1 project %7.1f ms   %d projects %7.1f ms   ratio %.2fx\n", l, a*1000, n, b*1000, b/a }'
}

hyperfine --warmup 1 --runs "$runs" -N --export-json "$work/local.json" \
  "$bin/kbagent --json search orders --project p1" \
  "$bin/kbagent --json search orders"
hyperfine --warmup 1 --runs "$runs" -N --export-json "$work/bodies.json" \
  "$bin/kbagent --json search orders --in-bodies --project p1" \
  "$bin/kbagent --json search orders --in-bodies"

# Turn Keboola's global search on in every project (the Manage API's features endpoint).
turns=()
for id in $(jq -r '.projects[].id' "$work/ready.json"); do
  curl -sf -o /dev/null -X POST -H "X-KBC-ManageApiToken: $manage" -H 'Content-Type: application/json' \
    -d '{"feature":"global-search"}' "$url/manage/projects/$id/features" &
  turns+=($!)
done
wait "${turns[@]}"
hyperfine --warmup 1 --runs "$runs" -N --export-json "$work/global.json" \
  "$bin/kbagent --json search orders --project p1" \
  "$bin/kbagent --json search orders"

echo
echo "Medians:"
report "$work/local.json" "local (no feature)"
report "$work/bodies.json" "local --in-bodies"
report "$work/global.json" "global search"
