#!/usr/bin/env bash
# deploy-gate.sh RUNTIME_NAME [EXPECTED_STATE]
#
# A CI step that asks RuntimeAI whether a runtime is fit for a deploy: it finds the runtime by name
# (list_runtimes), reads it (get_runtime) and checks its state (default: running). Every call runs
# through the server's full governance pipeline as the API key's principal and is audited with the
# CI run in its reasoning.
#
# Environment:
#   RUNTIMEAI_API_KEY   required: a key made with 'runtimeai keys create --role viewer' (a secret of the CI system)
#   RUNTIMEAI           the runtimeai binary (default: runtimeai on PATH)
#   RUNTIMEAI_DATA_DIR, RUNTIMEAI_CONFIG, RUNTIMEAI_SANDBOX, ...  read by runtimeai itself
#
# Exit codes:
#   0  the runtime exists and is in the expected state
#   1  a tool refused or failed, the runtime is missing, or it is in another state
#   2  usage: missing argument, missing API key or jq, or runtimeai rejected the call as malformed
set -uo pipefail

RUNTIMEAI=${RUNTIMEAI:-runtimeai}
name=${1:-}
expected=${2:-running}
reason="CI ${GITHUB_REPOSITORY:-local}#${GITHUB_RUN_ID:-0}: deploy gate for ${name}"

if [[ -z "$name" ]]; then
  echo "usage: deploy-gate.sh RUNTIME_NAME [EXPECTED_STATE]" >&2
  exit 2
fi
if [[ -z "${RUNTIMEAI_API_KEY:-}" ]]; then
  echo "deploy-gate: RUNTIMEAI_API_KEY is not set; create one with 'runtimeai keys create --name ci --role viewer' and store it as a CI secret" >&2
  exit 2
fi
if ! command -v jq >/dev/null; then
  echo "deploy-gate: jq is required to read runtimeai's JSON output; install jq" >&2
  exit 2
fi

# runtimeai call: 0 ok, 1 the tool answered with an error (refused, not found, failed), 2 bad usage.
call() {
  local tool=$1 args=$2 out rc
  out=$("$RUNTIMEAI" call "$tool" --args "$args" --reasoning "$reason")
  rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "deploy-gate: $tool failed (runtimeai exit $rc)" >&2
    exit $(( rc == 1 ? 1 : 2 ))
  fi
  printf '%s' "$out"
}

runtimes=$(call list_runtimes '{"page_size": 200}') || exit $?
id=$(jq -r --arg n "$name" '.items[] | select(.name == $n) | .id' <<<"$runtimes" | head -n 1)
if [[ -z "$id" ]]; then
  echo "deploy-gate: no runtime named '$name' is visible to this key" >&2
  exit 1
fi

runtime=$(call get_runtime "{\"runtime_id\": \"$id\"}") || exit $?
state=$(jq -r '.state' <<<"$runtime")
if [[ "$state" != "$expected" ]]; then
  echo "deploy-gate: runtime '$name' ($id) is $state, expected $expected" >&2
  exit 1
fi

echo "deploy-gate: runtime '$name' ($id) is $state"
