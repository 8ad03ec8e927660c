#!/usr/bin/env bash
# Storage transfer figures (release build) against the emulator seeded with a large table:
# peak resident memory and throughput of `storage download-table`, `file-download`,
# `upload-table` and `file-upload`, next to curl moving the same bytes over the same object
# protocol (Azure Blob Storage imitation). Prints the figures; asserts nothing.
#
#   scripts/bench_storage.sh                 # needs hyperfine, GNU time, curl, jq
#   ROWS=200000 RUNS=5 scripts/bench_storage.sh
#   PYTHON_KBAGENT=/path/to/kbagent scripts/bench_storage.sh   # also time the Python tool
#
# Targets on a 2-core machine: peak RSS <= 25 MiB whatever the table size; throughput within
# 2x of curl for the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
runs=${RUNS:-3}

for tool in hyperfine curl jq; do
  command -v "$tool" >/dev/null || { echo "$tool is required (apt-get install $tool)" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "GNU time is required: apt-get install time" >&2; exit 1; }

cargo build --release --locked --quiet -p kbagent -p keboola-emulator
bin=$PWD/target/release
work=$(mktemp -d)
cleanup() { [[ -n "${emu_pid:-}" ]] && kill "$emu_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin/keboola-emulator" --projects 1 --seed-rows "$rows" --quiet >"$work/ready.json" &
emu_pid=$!
for _ in $(seq 1200); do [[ -s "$work/ready.json" ]] && break; sleep 0.1; done
url=$(jq -r .url "$work/ready.json")
token=$(jq -r '.projects[0].tokens.admin' "$work/ready.json")
export KBAGENT_CONFIG_DIR="$work/config"
printf '%s' "$token" | "$bin/kbagent" --json project add --project bench --url "$url" --token-stdin >/dev/null
kb="$bin/kbagent --json"
api() { curl -sf -H "X-StorageApi-Token: $token" "$@"; }

# One export gives the reference CSV and a sliced file for the raw transfers.
$kb storage download-table --table-id in.c-crm.orders --output "$work/orders.csv" >"$work/export.json"
csv_bytes=$(stat -c %s "$work/orders.csv")
export_file=$(jq -r .data.file_id "$work/export.json")
api "$url/v2/storage/files/$export_file?federationToken=1" >"$work/file.json"
conn=$(jq -r .absCredentials.SASConnectionString "$work/file.json")
endpoint=$(sed 's/.*BlobEndpoint=\([^;]*\).*/\1/' <<<"$conn")
sas=$(sed 's/.*SharedAccessSignature=//' <<<"$conn")
# Slice URLs: azure://<account host>/<container>/<blob>, resolved against BlobEndpoint.
curl -sf "$(jq -r .url "$work/file.json")" |
  jq -r --arg ep "$endpoint" --arg sas "$sas" \
    '.entries[].url | sub("^azure://[^/]*/"; $ep + "/") + "?" + $sas' >"$work/slices.txt"
gz_bytes=0
while read -r u; do gz_bytes=$((gz_bytes + $(curl -sf "$u" | wc -c))); done <"$work/slices.txt"

cat >"$work/curl_get.sh" <<EOF
#!/usr/bin/env bash
while read -r u; do curl -sf "\$u"; done <"$work/slices.txt" >"$work/curl.gz"
EOF
# What download-table does, in curl: export-async, poll the job, the file with its
# credentials, every slice through gunzip, after the header line.
cat >"$work/curl_export.sh" <<EOF
#!/usr/bin/env bash
set -e
api() { curl -sf -H "X-StorageApi-Token: $token" "\$@"; }
job=\$(api -X POST -H 'Content-Type: application/json' -d '{"gzip":true}' "$url/v2/storage/tables/in.c-crm.orders/export-async" | jq -r .id)
until [ "\$(api "$url/v2/storage/jobs/\$job" | tee "$work/job.json" | jq -r .status)" = success ]; do sleep 0.02; done
f=\$(api "$url/v2/storage/files/\$(jq -r .results.file.id "$work/job.json")?federationToken=1")
conn=\$(jq -r .absCredentials.SASConnectionString <<<"\$f")
ep=\$(sed 's/.*BlobEndpoint=\([^;]*\).*/\1/' <<<"\$conn"); sas=\$(sed 's/.*SharedAccessSignature=//' <<<"\$conn")
{ head -n 1 "$work/orders.csv"
  curl -sf "\$(jq -r .url <<<"\$f")" | jq -r --arg ep "\$ep" --arg sas "\$sas" '.entries[].url | sub("^azure://[^/]*/"; \$ep + "/") + "?" + \$sas' |
    while read -r u; do curl -sf "\$u"; done | gunzip; } >"$work/curl_export.csv"
EOF
cat >"$work/curl_get_gunzip.sh" <<EOF
#!/usr/bin/env bash
while read -r u; do curl -sf "\$u"; done <"$work/slices.txt" | gunzip >"$work/curl.csv"
EOF
# A prepared file to PUT into, as the upload baseline (one Put Blob of the whole CSV).
cat >"$work/curl_put.sh" <<EOF
#!/usr/bin/env bash
set -e
f=\$(curl -sf -H "X-StorageApi-Token: $token" -X POST "$url/v2/storage/files/prepare" \
  -d name=orders.csv -d federationToken=1 -d sizeBytes=$csv_bytes)
conn=\$(jq -r .absUploadParams.absCredentials.SASConnectionString <<<"\$f")
ep=\$(sed 's/.*BlobEndpoint=\([^;]*\).*/\1/' <<<"\$conn")
sas=\$(sed 's/.*SharedAccessSignature=//' <<<"\$conn")
c=\$(jq -r .absUploadParams.container <<<"\$f"); b=\$(jq -r .absUploadParams.blobName <<<"\$f")
curl -sf -X PUT -H 'x-ms-blob-type: BlockBlob' -H 'x-ms-version: 2019-12-12' \
  --data-binary @"$work/orders.csv" "\$ep/\$c/\$b?\$sas" >/dev/null
EOF
chmod +x "$work"/*.sh

echo "kbagent $("$bin/kbagent" --version | cut -d' ' -f2); $rows rows: $((csv_bytes / 1048576)) MiB CSV, $((gz_bytes / 1048576)) MiB gzipped in $(wc -l <"$work/slices.txt") slices; $(nproc) cores"
hyperfine --warmup 1 --runs "$runs" -N --export-json "$work/down.json" \
  "$bin/kbagent --json storage download-table --table-id in.c-crm.orders --output $work/kb.csv" \
  "$work/curl_export.sh" \
  "$bin/kbagent --json storage file-download --file-id $export_file --output $work/kb.gz" \
  "$work/curl_get_gunzip.sh" \
  "$work/curl_get.sh"
cmp -s "$work/kb.csv" "$work/orders.csv" || echo "WARNING: two downloads of the table differ"
cmp -s "$work/curl_export.csv" "$work/orders.csv" || echo "WARNING: curl's export differs from download-table's"
cmp -s "$work/kb.gz" "$work/curl.gz" || echo "WARNING: file-download and curl got different bytes"
cmp -s "$work/curl.csv" <(tail -n +2 "$work/orders.csv") || echo "WARNING: curl|gunzip differs from the table's rows"

hyperfine --runs "$runs" -N --export-json "$work/up.json" \
  "$bin/kbagent --json storage file-upload --file $work/orders.csv" \
  "$work/curl_put.sh" \
  "$bin/kbagent --json storage upload-table --table-id in.c-crm.orders --file $work/orders.csv"

echo
echo "Throughput (median; CSV bytes for tables, transferred bytes for files):"
report() { # file, label, bytes per run, for each benchmark in order
  local f=$1; shift
  paste <(grep -o '"median": [0-9.e-]*' "$f" | awk '{print $2}') <(printf '%s\n' "$@") |
    while IFS=$'\t' read -r secs spec; do
      label=${spec%@*}; bytes=${spec##*@}
      awk -v s="$secs" -v b="$bytes" -v l="$label" \
        'BEGIN {printf "  %-44s %7.2f s  %7.1f MiB/s\n", l, s, b / 1048576 / s}'
    done
}
report "$work/down.json" \
  "download-table (export job + fetch + gunzip)@$csv_bytes" \
  "curl: export job + fetch + gunzip@$csv_bytes" \
  "file-download (the export's slices, raw)@$gz_bytes" \
  "curl slices | gunzip > file@$csv_bytes" \
  "curl slices > file (raw)@$gz_bytes"
report "$work/up.json" \
  "file-upload@$csv_bytes" \
  "curl prepare + PUT@$csv_bytes" \
  "upload-table (upload + import job)@$csv_bytes"

echo
echo "Peak resident memory (GNU time):"
peak() {
  local label=$1; shift
  kib=$( { /usr/bin/time -f '%M' "$@" >/dev/null; } 2>&1 | tail -n 1)
  awk -v k="$kib" -v l="$label" 'BEGIN {printf "  %-28s %6d KiB (%.1f MiB)\n", l, k, k / 1024}'
}
peak "download-table" "$bin/kbagent" --json storage download-table --table-id in.c-crm.orders --output "$work/kb.csv"
peak "download-table --output -" "$bin/kbagent" storage download-table --table-id in.c-crm.orders --output -
peak "file-download" "$bin/kbagent" --json storage file-download --file-id "$export_file" --output "$work/kb.gz"
peak "upload-table" "$bin/kbagent" --json storage upload-table --table-id in.c-crm.orders --file "$work/orders.csv"
peak "upload-table --gzip" "$bin/kbagent" --json storage upload-table --table-id in.c-crm.orders --file "$work/orders.csv" --gzip
peak "file-upload" "$bin/kbagent" --json storage file-upload --file "$work/orders.csv"

if [[ -n "${PYTHON_KBAGENT:-}" ]]; then
  # The Python tool accepts only https stacks: a second emulator, with TLS, the same table.
  echo
  echo "Python kbagent, the same download:"
  "$bin/keboola-emulator" --projects 1 --seed-rows "$rows" --quiet --tls --cert-dir "$work/certs" >"$work/tls.json" &
  tls_pid=$!
  trap 'kill "$tls_pid" 2>/dev/null || true; cleanup' EXIT
  for _ in $(seq 1200); do [[ -s "$work/tls.json" ]] && break; sleep 0.1; done
  export SSL_CERT_FILE="$work/certs/ca.pem"
  tls_url=$(jq -r .url "$work/tls.json")
  tls_token=$(jq -r '.projects[0].tokens.admin' "$work/tls.json")
  pycfg="$work/pyconfig"
  py() { "$PYTHON_KBAGENT" --json --config-dir "$pycfg" "$@"; }
  printf '%s\n' "$tls_token" | py project add --project bench --url "$tls_url" --token-stdin >/dev/null
  KBAGENT_CONFIG_DIR="$work/config-tls" "$bin/kbagent" --json project add --project bench --url "$tls_url" --token-stdin <<<"$tls_token" >/dev/null
  if py storage download-table --project bench --table-id in.c-crm.orders --output "$work/py.csv" >"$work/py.json" 2>&1; then
    KBAGENT_CONFIG_DIR="$work/config-tls" hyperfine --runs "$runs" -N \
      "$PYTHON_KBAGENT --json --config-dir $pycfg storage download-table --project bench --table-id in.c-crm.orders --output $work/py.csv" \
      "$bin/kbagent --json storage download-table --table-id in.c-crm.orders --output $work/kb.csv"
    peak "python download-table" "$PYTHON_KBAGENT" --json --config-dir "$pycfg" storage download-table --project bench --table-id in.c-crm.orders --output "$work/py.csv"
  else
    echo "  the Python tool did not download: $(jq -r '.error.message // empty' "$work/py.json" 2>/dev/null | cut -c1-200)"
  fi
fi
