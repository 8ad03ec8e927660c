#!/usr/bin/env bash
# A tour of kbagent against the bundled Keboola emulator: no Keboola account needed.
# It builds both binaries, starts the emulator on a free loopback port, and walks the main
# scenario: register a project with a token copied "from the UI", see what it can do, mint a
# fresh project token through the Manage API, and build an OAuth URL that the emulator's
# wizard accepts; then browse Storage: find a table, show its columns, preview its rows; run
# jobs. Then the everyday loop of an agent: search, a version-checked configuration write with
# a concurrent change refused and a rollback, a secret encrypted before the write, a
# development branch, SQL over tables, the permission firewall and the conversation id in the
# request log. Every step checks its result (with jq) and the script exits non-zero if one
# does not behave as shown.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in jq curl; do
  command -v "$tool" >/dev/null || { echo "the demo needs $tool (apt-get install $tool)" >&2; exit 1; }
done
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
# The command line as one would type it: arguments with spaces or quotes in single quotes.
words() {
  local a out=()
  for a in "$@"; do
    if [[ $a =~ ^[][A-Za-z0-9_./:=@,+#*-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/\'\\\'\'}'"); fi
  done
  echo "${out[*]}"
}
kb() { echo; echo "\$ kbagent $(words "$@")"; "$bin/kbagent" "$@"; }
# A heading for each step of the tour; `fail` stops the demo when a step misbehaves.
step() { echo; echo "=== $*"; }
fail() { echo "demo: FAILED: $*" >&2; exit 1; }
# kbj OUT ARGS...: show the command, run it with --json into OUT, return its exit code.
kbj() {
  local out=$1
  shift
  echo
  echo "\$ kbagent --json $(words "$@")"
  local code=0
  "$bin/kbagent" --json "$@" >"$out" || code=$?
  return "$code"
}
# expect FILE JQ WHAT: FILE must satisfy the jq condition JQ, or the demo fails with WHAT.
expect() { jq -e "$2" "$1" >/dev/null || fail "$3 (got: $(head -c 600 "$1"))"; }

echo "Keboola emulator running at $url"
step "Projects: register one with a token copied from the UI"
printf '%s' "$storage_token" >"$work/token.txt"
kb project add --project demo --url "$url" --token-file "$work/token.txt"
kb project list
kb project status
kb config list --project demo

# A Manage API token lets kbagent mint project tokens and, for non-master project tokens,
# the short-lived child token the OAuth wizard needs. It is read from the environment only
# with --allow-env-manage-token, and never stored or printed.
step "Tokens: mint a fresh project token through the Manage API"
export KBC_MANAGE_API_TOKEN
KBC_MANAGE_API_TOKEN=$(field manage_token)
kb --allow-env-manage-token project refresh --project demo --yes
kb --allow-env-manage-token project info --project demo
step "OAuth: a link for the user, completed in the emulator's wizard"
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
step "Doctor: config file, permissions, connectivity"
kb doctor

# Storage: find a table, read its columns, look at a sample of its rows.
step "Storage: buckets, a table's columns, a sample of its rows"
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
step "Jobs: run the revenue transformation, then its broken copy on a branch"
kb job run --project demo --component-id keboola.snowflake-transformation --config-id "$transformation" --wait
kb job list --project demo --limit 5
echo
echo "\$ kbagent --json job run --project demo --component-id keboola.snowflake-transformation --config-id $transformation --branch $dev_branch --wait --log-tail-lines 3"
code=0
"$bin/kbagent" --json job run --project demo --component-id keboola.snowflake-transformation \
  --config-id "$transformation" --branch "$dev_branch" --wait --log-tail-lines 3 \
  | tee "$work/failed-job.json" || code=$?
echo "(exit code $code)"
[[ $code == 1 ]] || fail "the broken transformation should exit 1, not $code"
expect "$work/failed-job.json" '.error.code == "QUEUE_JOB_FAILED"' "the broken job's error"

# Find things by name across the project: buckets, tables, configurations, rows.
step "Search: where is order data?"
kb search orders --project demo
"$bin/kbagent" --json search orders --project demo >"$work/search.json"
expect "$work/search.json" 'any(.data.results[]; .type == "table" and .id == "in.c-crm.orders")' \
  "search should find the orders table"

# The safe write loop: read, preview the change, apply it, see the history. kbagent reads the
# version again right before the write and refuses if someone else wrote in between. The
# configuration is the one search found loading the orders table.
db=keboola.ex-db-snowflake
db_config=$(jq -r --arg c "$db" \
  '[.data.results[] | select(.type == "configuration-row" and .component_id == $c) | .config_id][0] // empty' \
  "$work/search.json")
[[ -n $db_config ]] || fail "search should find the extractor's orders row"
cfg=(--project demo --component-id "$db" --config-id "$db_config")
detail() { "$bin/kbagent" --json config detail "${cfg[@]}" "$@" >"$work/detail.json"; }

step "Safe write: read the configuration"
kbj "$work/detail.json" config detail "${cfg[@]}"
jq '.data.configuration.parameters.db' "$work/detail.json"
expect "$work/detail.json" '.data.version == 1' "the seeded configuration is at version 1"

step "Safe write: preview the change (--dry-run writes nothing)"
kb config update "${cfg[@]}" --set parameters.db.warehouse=REPORTING_WH --dry-run
detail
expect "$work/detail.json" '.data.version == 1 and .data.configuration.parameters.db.warehouse == "EXTRACT_WH"' \
  "--dry-run must not write"

step "Safe write: apply it"
kb config update "${cfg[@]}" --set parameters.db.warehouse=REPORTING_WH \
  --change-description "Read through the reporting warehouse"
detail
expect "$work/detail.json" '.data.version == 2 and .data.configuration.parameters.db.warehouse == "REPORTING_WH"' \
  "the update should make version 2"

# An update that rotates the password is held for 3 s in its call to the Encryption API (an
# emulator fault); meanwhile someone else changes the port. The held update finds the version
# moved and writes nothing: exit 5, CONFIG_VERSION_CONFLICT.
step "Safe write: a concurrent change is refused with CONFIG_VERSION_CONFLICT"
secret=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '{"parameters":{"db":{"#password":"%s"}}}' "$secret" >"$work/password.json"
echo "(password.json holds a new plain-text #password; it is never printed)"
curl -fsS -o /dev/null -X POST "$url/_emulator/faults" -H 'Content-Type: application/json' \
  -d '{"service":"encryption","latency_ms":3000,"times":1}'
echo
echo "\$ kbagent --json config update $(words "${cfg[@]}") --merge password.json &   # held in encryption"
"$bin/kbagent" --json config update "${cfg[@]}" --merge "$work/password.json" >"$work/slow.json" &
slow_pid=$!
# The fault is used up once the held update's encryption request arrives.
for _ in $(seq 250); do [[ $(curl -fsS "$url/_emulator/faults") == "[]" ]] && break; sleep 0.02; done
[[ $(curl -fsS "$url/_emulator/faults") == "[]" ]] || fail "the update never reached the Encryption API"
kb config update "${cfg[@]}" --set parameters.db.port=444 --change-description "Open the new port"
code=0
wait "$slow_pid" || code=$?
jq '.error | {code, message, details: (.details | {expected_version, found_version, written})}' "$work/slow.json"
echo "(exit code $code)"
[[ $code == 5 ]] || fail "the held update should exit 5, not $code"
expect "$work/slow.json" '.error.code == "CONFIG_VERSION_CONFLICT" and .error.details.written == false' \
  "the held update should be refused"
detail
expect "$work/detail.json" '.data.version == 3 and .data.configuration.parameters.db.port == 444' \
  "only the port change should have landed"

# Redone on the current version: the plain-text #password is encrypted (scope: this
# configuration) before anything is sent to Storage; only the KBC::... cipher is stored.
step "Secrets: a #password encrypted before the write"
echo
echo "\$ kbagent config update $(words "${cfg[@]}") --merge password.json"
"$bin/kbagent" config update "${cfg[@]}" --merge "$work/password.json" 2>&1 | tee "$work/secret.txt"
kbj "$work/detail.json" config detail "${cfg[@]}"
jq -r '"#password: " + .data.configuration.parameters.db["#password"]' "$work/detail.json"
expect "$work/detail.json" '.data.version == 4 and (.data.configuration.parameters.db["#password"] | startswith("KBC::"))' \
  "the stored password should be a KBC:: cipher"
if grep -qF "$secret" "$work/secret.txt" "$work/detail.json" "$work/slow.json"; then
  fail "the plain-text password was printed"
fi

step "Safe write: the history, and a rollback"
kb config versions "${cfg[@]}"
kb config rollback "${cfg[@]}" --version 2 --change-description "Back to the reviewed settings"
detail
expect "$work/detail.json" '.data.version == 5 and .data.configuration.parameters.db.port == 443 and .data.configuration.parameters.db.warehouse == "REPORTING_WH"' \
  "the rollback should restore version 2's body as version 5"

# A development branch copies production's configurations; while it is the project's active
# branch, configuration commands work there. Production stays as it was.
step "Branches: try a change in a development branch"
kbj "$work/branch.json" branch create --project demo --name try-dev-warehouse
jq -r '.data.message' "$work/branch.json"
branch_id=$(jq -r '.data.branch_id' "$work/branch.json")
kb config update "${cfg[@]}" --set parameters.db.warehouse=DEV_WH
kb branch current --project demo
# Where a command ran is in the envelope's `targets`.
where='{branch: .targets[0].branch_name, source: .targets[0].branch_source, version: .data.version, warehouse: .data.configuration.parameters.db.warehouse}'
kbj "$work/detail.json" config detail "${cfg[@]}"
jq -c "$where" "$work/detail.json"
expect "$work/detail.json" ".targets[0].branch_id == $branch_id and .data.configuration.parameters.db.warehouse == \"DEV_WH\"" \
  "the change should be in the branch"
kb branch reset --project demo
kbj "$work/detail.json" config detail "${cfg[@]}"
jq -c "$where" "$work/detail.json"
expect "$work/detail.json" '.targets[0].branch_id == null and .data.version == 5 and .data.configuration.parameters.db.warehouse == "REPORTING_WH"' \
  "production should be unchanged"
kb branch delete --project demo --branch "$branch_id" --yes
"$bin/kbagent" --json branch list --project demo >"$work/branches.json"
expect "$work/branches.json" "[.. | objects | select(.id? == $branch_id or .branch_id? == $branch_id)] | length == 0" \
  "the branch should be gone"

# SQL over Storage tables: kbagent loads them into a temporary workspace, runs the SQL through
# the Query Service, prints the rows and deletes the workspace.
step "SQL: join two tables"
kb query --project demo --limit 5 --sql 'SELECT c.country, COUNT(*) AS orders, SUM(o.amount) AS revenue FROM "in.c-crm.orders" o JOIN "in.c-crm.customers" c ON c.id = o.customer_id GROUP BY 1 ORDER BY 3 DESC' |
  tee "$work/join.txt"
grep -Eq '^ *country +orders +revenue' "$work/join.txt" && [[ $(grep -Ec '^ *[A-Z]{2} +[0-9]+ +[0-9.]+$' "$work/join.txt") == 5 ]] ||
  fail "the join should print five countries with their orders and revenue"
step "SQL: a syntax error shows the database's message"
code=0
kbj "$work/sql-error.json" query --project demo --sql 'SELECT country, COUNT(* FROM "in.c-crm.customers"' || code=$?
jq '.error | {code, message, database_message: .details.database_message, workspace_deleted: .details.workspace_deleted}' "$work/sql-error.json"
echo "(exit code $code)"
[[ $code == 1 ]] || fail "a failed statement should exit 1, not $code"
expect "$work/sql-error.json" '.error.code == "QUERY_JOB_FAILED" and (.error.details.database_message | test("syntax error"))' \
  "the SQL error should carry the database's message"

# The permission firewall: --deny-writes (or KBAGENT_DENY=cli:write) refuses every command that
# is not a read, before any request; a --dry-run counts as a read. `permissions check` asks
# without running anything.
step "Firewall: ask first whether a write is allowed"
code=0
kbj "$work/check.json" --deny-writes permissions check config.update || code=$?
jq -c '.data | {operation, class, allowed, rule, origin}' "$work/check.json"
echo "(exit code $code)"
[[ $code == 6 ]] || fail "permissions check should exit 6 for a denied operation, not $code"
expect "$work/check.json" '.data.allowed == false and .data.rule == "cli:write"' "config.update should be denied"
step "Firewall: --deny-writes refuses a write (exit 6)"
code=0
kbj "$work/denied.json" --deny-writes config update "${cfg[@]}" --set parameters.db.port=445 || code=$?
jq '.error | {code, message}' "$work/denied.json"
echo "(exit code $code)"
[[ $code == 6 ]] || fail "a denied write should exit 6, not $code"
expect "$work/denied.json" '.error.code == "PERMISSION_DENIED"' "the write should be denied"
step "Firewall: ... and allows its --dry-run"
kb --deny-writes config update "${cfg[@]}" --set parameters.db.port=445 --dry-run
detail
expect "$work/detail.json" '.data.version == 5 and .data.configuration.parameters.db.port == 443' \
  "nothing should have been written under --deny-writes"

# Every Keboola API request of a run carries X-Conversation-ID, so the platform's logs tie
# the calls to the conversation that caused them.
step "Conversation id: on every request, every service"
curl -fsS -o /dev/null -X DELETE "$url/_emulator/requests"
kb --conversation-id demo-chat-42 query --project demo --sql 'SELECT COUNT(*) AS orders FROM "in.c-crm.orders"'
curl -fsS "$url/_emulator/requests" >"$work/requests.json"
echo
echo "\$ curl -s $url/_emulator/requests   # the emulator's request log"
jq -r '.[] | "\(.conversation_id)  \(.service)  \(.method) \(.path)"' "$work/requests.json"
expect "$work/requests.json" 'length > 0 and all(.[]; .conversation_id == "demo-chat-42") and ([.[].service] | index("query"))' \
  "every request should carry the conversation id"

echo
echo "Done: every step behaved as shown. The emulator stops now; its state was in memory only."
