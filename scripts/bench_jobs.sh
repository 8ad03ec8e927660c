#!/usr/bin/env bash
# Job figures for kbagent (release build) against the emulator:
#
#  1. `kbagent --json job run --wait` on a job that sleeps 2 s: the time from the job's end
#     to the command's return, and how many times kbagent read the job (from the emulator's
#     request log). A watcher with another token of the project reads the job every 10 ms
#     to see when it ended.
#  2. `kbagent --json job list` over 50 projects with 100 ms latency on every response,
#     against the same over 1 project (hyperfine medians).
#
#   scripts/bench_jobs.sh          # needs hyperfine, curl and python3
#   RUNS=5 SLEEP_MS=2000 scripts/bench_jobs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
sleep_ms=${SLEEP_MS:-2000}
projects=${PROJECTS:-50}
latency=${LATENCY_MS:-100}

for tool in hyperfine curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

cargo build --release --locked --quiet -p kbagent -p keboola-emulator
bin=$PWD/target/release
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts an emulator; its ready line goes to $1.
start_emulator() {
  local ready=$1
  shift
  "$bin/keboola-emulator" --quiet "$@" >"$ready" &
  pids+=($!)
  for _ in $(seq 200); do [[ -s "$ready" ]] && break; sleep 0.05; done
  [[ -s "$ready" ]] || { echo "the emulator did not start" >&2; exit 1; }
}
field() { grep -o "\"$2\":\"[^\"]*\"" "$1" | sed -n "${3:-1}p" | cut -d'"' -f4; }

echo "kbagent $("$bin/kbagent" --version | cut -d' ' -f2), $(nproc) cores"

# --- 1. job run --wait on a 2 s job -------------------------------------------------------
ready=$work/one.json
start_emulator "$ready" --projects 1
url=$(field "$ready" url)
admin=$(field "$ready" admin)
watcher=$(field "$ready" storage)
export KBAGENT_CONFIG_DIR=$work/one
printf '%s' "$admin" | "$bin/kbagent" --json project add --project p --url "$url" --token-stdin >/dev/null

python3 - "$bin/kbagent" "$url" "$admin" "$watcher" "$runs" "$sleep_ms" <<'PY'
import json, subprocess, sys, threading, time, urllib.request

kbagent, url, admin, watcher, runs, sleep_ms = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
component = "keboola.ex-db-snowflake"

def call(method, path, token=None, data=None, form=None):
    body, headers = None, {}
    if token:
        headers["X-StorageApi-Token"] = token
    if data is not None:
        body = json.dumps(data).encode(); headers["Content-Type"] = "application/json"
    if form is not None:
        body = urllib.parse.urlencode(form).encode(); headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url + path, data=body, method=method, headers=headers)
    with urllib.request.urlopen(req) as r:
        text = r.read().decode()
        return json.loads(text) if text.strip() else None

import urllib.parse
configs = call("GET", f"/v2/storage/components/{component}/configs", admin)
config = configs[0]
configuration = config["configuration"]
configuration.setdefault("parameters", {})["emulator"] = {"sleep_ms": sleep_ms}
call("PUT", f"/v2/storage/components/{component}/configs/{config['id']}", admin,
     form={"configuration": json.dumps(configuration)})
queue = next(s["url"] for s in call("GET", "/v2/storage")["services"] if s["id"] == "queue")
admin_token_id = admin.split("-")[1]

print(f"\njob run --wait on a {sleep_ms} ms job ({runs} runs)")
print(f"  {'run':>3}  {'job end -> return':>18}  {'reads of the job':>16}  {'wait':>8}")
lags, reads = [], []
for i in range(runs):
    call("DELETE", "/_emulator/requests")
    seen = {}
    def watch():
        # The newest job of the configuration, read with another token every 10 ms.
        job_id = None
        while "end" not in seen:
            if job_id is None:
                found = json.loads(urllib.request.urlopen(urllib.request.Request(
                    f"{queue}/search/jobs?configId[]={config['id']}&limit=1",
                    headers={"X-StorageApi-Token": watcher})).read())
                if found and found[0]["id"] not in seen.get("old", ()):
                    job_id = found[0]["id"]
            else:
                job = json.loads(urllib.request.urlopen(urllib.request.Request(
                    f"{queue}/jobs/{job_id}", headers={"X-StorageApi-Token": watcher})).read())
                if job["isFinished"]:
                    seen["end"] = time.monotonic()
            time.sleep(0.01)
    before = json.loads(urllib.request.urlopen(urllib.request.Request(
        f"{queue}/search/jobs?configId[]={config['id']}&limit=5",
        headers={"X-StorageApi-Token": watcher})).read())
    seen["old"] = {j["id"] for j in before}
    t = threading.Thread(target=watch); t.start()
    out = subprocess.run([kbagent, "--json", "job", "run", "--project", "p", "--component-id", component,
                          "--config-id", config["id"], "--wait"], capture_output=True, text=True)
    returned = time.monotonic()
    t.join(timeout=30)
    doc = json.loads(out.stdout)
    assert out.returncode == 0, out.stdout
    job_id = doc["data"]["id"]
    log = call("GET", "/_emulator/requests")
    polls = sum(1 for r in log if r["method"] == "GET" and r["path"].endswith(f"/jobs/{job_id}")
                and r.get("token_id") == admin_token_id)
    lag = (returned - seen["end"]) * 1000
    lags.append(lag); reads.append(polls)
    print(f"  {i + 1:>3}  {lag:>15.0f} ms  {polls:>16}  {doc['data']['elapsed_ms']:>5} ms")
lags.sort()
print(f"  median job end -> return: {lags[len(lags) // 2]:.0f} ms (watcher resolution ~10 ms); "
      f"reads per run: {min(reads)}-{max(reads)}")
PY

# --- 2. job list over 50 projects vs 1 ----------------------------------------------------
ready=$work/many.json
start_emulator "$ready" --projects "$projects" --latency-ms "$latency"
url=$(field "$ready" url)
export KBAGENT_CONFIG_DIR=$work/many
i=0
adds=()
for token in $(grep -o '"admin":"[^"]*"' "$ready" | cut -d'"' -f4); do
  i=$((i + 1))
  printf '%s' "$token" | "$bin/kbagent" --json project add --project "p$i" --url "$url" --token-stdin >/dev/null &
  adds+=($!)
done
wait "${adds[@]}"
echo
echo "job list: $i projects vs 1, ${latency} ms latency on every response"
hyperfine --warmup 1 --runs "$((runs * 2))" -N --export-json "$work/list.json" \
  "$bin/kbagent --json job list --project p1" \
  "$bin/kbagent --json job list"
echo
echo "Medians:"
paste <(grep -o '"command": "[^"]*"' "$work/list.json" | cut -d'"' -f4 | sed "s|$bin/||") \
      <(grep -o '"median": [0-9.e-]*' "$work/list.json" | awk '{printf "%.1f ms\n", $2 * 1000}') |
  awk -F'\t' '{printf "  %-40s %s\n", $1, $2}'
