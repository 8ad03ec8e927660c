#!/usr/bin/env bash
# Reruns the durability and wire-fault tests with larger counts and prints their figures
# (the numbers in docs/reliability.md). The defaults of the tests themselves keep CI fast.
#
#   scripts/reliability.sh                        # ROUNDS=10 KILLS=2000 WRITES=300 EDIT_ROUNDS=200
#   ROUNDS=50 KILLS=10000 scripts/reliability.sh  # longer
#   SEED=12345 scripts/reliability.sh             # replay the kill delays of an earlier run
#
# ROUNDS       rounds of 50 concurrent processes (PROCESSES to change the 50)
# KILLS        kbagent runs killed with SIGKILL at a random point
# WRITES       writes per writer thread while readers run
# EDIT_ROUNDS  rounds of two concurrent edits of the same project
set -euo pipefail
cd "$(dirname "$0")/.."

export REL_ROUNDS="${ROUNDS:-10}"
export REL_PROCESSES="${PROCESSES:-50}"
export REL_KILLS="${KILLS:-2000}"
export REL_WRITES="${WRITES:-300}"
export REL_EDIT_ROUNDS="${EDIT_ROUNDS:-200}"
if [[ -n "${SEED:-}" ]]; then export REL_SEED="$SEED"; fi

log=$(mktemp)
status=0
cargo test --locked -p kbagent --test cli -- --nocapture durability:: faults:: >"$log" 2>&1 || status=$?
# Parallel tests can interleave their output; pick the figures out wherever they start.
grep -oE '(concurrency|same-project edits|sigkill|readers|tls): .*|\| .* ms \||test result: .*' "$log" || true
if [[ $status -ne 0 ]]; then
    echo "--- tests failed; last lines of $log:" >&2
    tail -n 60 "$log" >&2
else
    rm -f "$log"
fi
exit "$status"
