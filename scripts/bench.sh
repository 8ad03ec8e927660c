#!/usr/bin/env bash
# Performance figures for kbagent (release build) against the emulator with 50 projects and
# 100 ms of latency on every API response. Prints hyperfine tables and peak memory.
#
#   scripts/bench.sh            # needs hyperfine (apt-get install hyperfine) and GNU time
#   RUNS=30 scripts/bench.sh    # more runs per command
#
# Targets on a 2-core machine: start-up (--version, project list) under 5 ms median;
# 50-project `project status` under 400 ms (the floor is one 100 ms round trip), and
# `storage tables` over 50 projects next to the same command for one project;
# peak RSS under 20 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-20}
projects=${PROJECTS:-50}
latency=${LATENCY_MS:-100}

command -v hyperfine >/dev/null || { echo "hyperfine is required: apt-get install hyperfine" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "GNU time is required: apt-get install time" >&2; exit 1; }

cargo build --release --locked --quiet -p kbagent -p keboola-emulator
bin=$PWD/target/release
work=$(mktemp -d)
cleanup() { [[ -n "${emu_pid:-}" ]] && kill "$emu_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin/keboola-emulator" --projects "$projects" --latency-ms "$latency" --quiet >"$work/ready.json" &
emu_pid=$!
for _ in $(seq 200); do [[ -s "$work/ready.json" ]] && break; sleep 0.05; done
url=$(grep -o '"url":"[^"]*"' "$work/ready.json" | cut -d'"' -f4)
export KBAGENT_CONFIG_DIR="$work/config"

# Register every project with its admin token (in parallel; the config lock serialises writes).
i=0
adds=()
for token in $(grep -o '"admin":"[^"]*"' "$work/ready.json" | cut -d'"' -f4); do
  i=$((i + 1))
  printf '%s' "$token" | "$bin/kbagent" --json project add --project "p$i" --url "$url" --token-stdin >/dev/null &
  adds+=($!)
done
wait "${adds[@]}"
echo "kbagent $("$bin/kbagent" --version | cut -d' ' -f2), $i projects, ${latency} ms latency, $(nproc) cores"

hyperfine --warmup 3 --runs "$runs" -N --export-json "$work/startup.json" \
  "$bin/kbagent --version" \
  "$bin/kbagent --json project list"
hyperfine --warmup 1 --runs "$runs" -N --export-json "$work/fanout.json" \
  "$bin/kbagent --json project status" \
  "$bin/kbagent --json config list"

# Storage fan-out: the tables of every project cost a couple of round trips (parallel
# workers), not 50.
hyperfine --warmup 1 --runs "$runs" -N --export-json "$work/storage.json" \
  "$bin/kbagent --json storage tables --project p1" \
  "$bin/kbagent --json storage tables"

echo
echo "Medians:"
for f in "$work/startup.json" "$work/fanout.json" "$work/storage.json"; do
  # hyperfine's JSON keeps one "command" and one "median" (seconds) per benchmark, in order.
  paste <(grep -o '"command": "[^"]*"' "$f" | cut -d'"' -f4 | sed "s|$bin/||") \
        <(grep -o '"median": [0-9.e-]*' "$f" | awk '{printf "%.1f ms\n", $2 * 1000}') |
    awk -F'\t' '{printf "  %-42s %s\n", $1, $2}'
done

echo
echo "Peak resident memory (GNU time, KiB):"
for cmd in "--version" "--json project list" "--json project status" "--json config list" \
  "--json storage tables"; do
  # shellcheck disable=SC2086
  kib=$( { /usr/bin/time -f '%M' "$bin/kbagent" $cmd >/dev/null; } 2>&1 | tail -n 1)
  printf '  %-24s %6s KiB\n' "$cmd" "$kib"
done
