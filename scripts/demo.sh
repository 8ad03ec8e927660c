#!/usr/bin/env bash
# A tour of kbagent against the bundled Keboola emulator: no Keboola account needed.
# It builds both binaries, starts the emulator on a free loopback port, and walks the main
# scenario: register a project with a token copied "from the UI", see what it can do, mint a
# fresh project token through the Manage API, and build an OAuth URL that the emulator's
# wizard accepts; then browse Storage: find a table, show its columns, preview its rows.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --quiet -p kbagent -p keboola-emulator
bin=target/debug
work=$(mktemp -d)
ready="$work/ready.json"
cleanup() {
  [[ -n "${emu_pid:-}" ]] && kill "$emu_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/keboola-emulator" --projects 2 --quiet >"$ready" &
emu_pid=$!
for _ in $(seq 100); do [[ -s "$ready" ]] && break; sleep 0.05; done
[[ -s "$ready" ]] || { echo "the emulator did not start" >&2; exit 1; }

# The ready line is one compact JSON object; pick fields without extra tools.
field() { grep -o "\"$1\":\"[^\"]*\"" "$ready" | sed -n "${2:-1}p" | cut -d'"' -f4; }
url=$(field url)
storage_token=$(field storage)
oauth_config=$(field config_id)

export KBAGENT_CONFIG_DIR="$work/config"
export KBAGENT_OAUTH_WIZARD_URL="$url/oauth/index.html"
kb() { echo; echo "\$ kbagent $*"; "$bin/kbagent" "$@"; }

echo "Keboola emulator running at $url"
printf '%s' "$storage_token" >"$work/token.txt"
kb project add --project demo --url "$url" --token-file "$work/token.txt"
kb project list
kb project status
kb config list --project demo

# A Manage API token lets kbagent mint project tokens and, for non-master project tokens,
# the short-lived child token the OAuth wizard needs. It is read from the environment only
# with --allow-env-manage-token, and never stored or printed.
export KBC_MANAGE_API_TOKEN
KBC_MANAGE_API_TOKEN=$(field manage_token)
kb --allow-env-manage-token project refresh --project demo --yes
kb --allow-env-manage-token project info --project demo
echo
echo "\$ kbagent --allow-env-manage-token config oauth-url --project demo --component-id keboola.ex-google-drive --config-id $oauth_config --no-open"
oauth_url=$("$bin/kbagent" --allow-env-manage-token config oauth-url --project demo \
  --component-id keboola.ex-google-drive --config-id "$oauth_config" --no-open)
echo "$oauth_url"

# Complete the emulator's wizard the way its "Authorize" button does.
if command -v curl >/dev/null; then
  child=$(printf '%s' "$oauth_url" | sed -E 's/.*[?&]token=([^&#]*).*/\1/')
  curl -fsS -o /dev/null -X POST "$url/oauth/authorize" -H "X-StorageApi-Token: $child" \
    -H 'Content-Type: application/json' \
    -d "{\"componentId\":\"keboola.ex-google-drive\",\"configId\":\"$oauth_config\",\"sapiUrl\":\"$url\"}"
  echo "(wizard completed in the emulator)"
  echo
  echo "\$ kbagent --json config detail --project demo --component-id keboola.ex-google-drive --config-id $oauth_config | grep -A2 oauth_api"
  "$bin/kbagent" --json config detail --project demo --component-id keboola.ex-google-drive \
    --config-id "$oauth_config" | grep -A2 '"oauth_api"'
fi
kb doctor

# Storage: find a table, read its columns, look at a sample of its rows.
kb storage buckets --project demo
kb storage tables --project demo --bucket-id in.c-crm
kb storage table-detail --project demo --table-id in.c-crm.orders
kb storage preview --project demo --table-id in.c-crm.orders --limit 5 --format table
kb storage preview --project demo --table-id in.c-crm.orders --columns order_id,status,amount \
  --where-column status --where-value cancelled --limit 3
sample="$work/orders-sample.csv"
kb storage download-table --project demo --table-id in.c-crm.orders --limit 100 --output "$sample"
echo "\$ head -3 $sample"
head -3 "$sample"
# Jobs: run the revenue transformation, then its copy on the development branch, which has
# a typo in its SQL. The failure is one JSON document: the database's message, the job and
# the tail of its log, with exit code 1 (QUEUE_JOB_FAILED): all an agent needs to fix it.
transformation=$("$bin/kbagent" --json config list --project demo --component-id keboola.snowflake-transformation |
  grep -o '"config_id": *"[^"]*"' | head -n 1 | cut -d'"' -f4)
dev_branch=$(curl -fsS -H "X-StorageApi-Token: $(cat "$work/token.txt")" "$url/v2/storage/dev-branches" |
  tr '{' '\n' | grep '"isDefault":false' | grep -o '"id":[0-9]*' | head -n 1 | cut -d: -f2)
kb job run --project demo --component-id keboola.snowflake-transformation --config-id "$transformation" --wait
kb job list --project demo --limit 5
echo
echo "\$ kbagent --json job run --project demo --component-id keboola.snowflake-transformation --config-id $transformation --branch $dev_branch --wait --log-tail-lines 3"
set +e
"$bin/kbagent" --json job run --project demo --component-id keboola.snowflake-transformation \
  --config-id "$transformation" --branch "$dev_branch" --wait --log-tail-lines 3
code=$?
set -e
echo "(exit code $code)"
echo
echo "Done. The emulator stops now; its state was in memory only."
