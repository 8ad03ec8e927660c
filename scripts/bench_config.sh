#!/usr/bin/env bash
# `config update --dry-run` timing (release build) on the emulator, without latency and
# with 100 ms per request. A dry run is two requests (the Storage index once, the
# configuration); the target is under 20 ms plus those round trips. Prints the figures;
# asserts nothing.
#
#   scripts/bench_config.sh            # needs hyperfine and jq
#   RUNS=30 scripts/bench_config.sh
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-20}
for tool in hyperfine jq; do
  command -v "$tool" >/dev/null || { echo "$tool is required (apt-get install $tool)" >&2; exit 1; }
done

cargo build --release --locked --quiet -p kbagent -p keboola-emulator
bin=$PWD/target/release
work=$(mktemp -d)
cleanup() { [[ -n "${emu_pid:-}" ]] && kill "$emu_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

for latency in 0 100; do
  "$bin/keboola-emulator" --projects 1 --latency-ms "$latency" --quiet >"$work/ready.json" &
  emu_pid=$!
  for _ in $(seq 600); do [[ -s "$work/ready.json" ]] && break; sleep 0.1; done
  url=$(jq -r .url "$work/ready.json")
  token=$(jq -r '.projects[0].tokens.admin' "$work/ready.json")
  export KBAGENT_CONFIG_DIR="$work/config-$latency"
  printf '%s' "$token" | "$bin/kbagent" --json project add --project bench --url "$url" --token-stdin >/dev/null
  config=$("$bin/kbagent" --json config list --component-id keboola.ex-db-snowflake |
    jq -r '.data.configs[0].config_id')
  echo "== latency ${latency} ms per request (config ${config})"
  hyperfine --warmup 2 --runs "$runs" -N \
    "$bin/kbagent --json config update --component-id keboola.ex-db-snowflake --config-id $config --set parameters.db.port=5439 --set 'parameters.db.#password=x' --dry-run"
  kill "$emu_pid"; wait "$emu_pid" 2>/dev/null || true; emu_pid=
  rm -f "$work/ready.json"
done
