#!/usr/bin/env bash
# A scripted assistant session: the questions a kubectl-ai style assistant asks when a user says
# "something is off with the web pod in the dev vcluster", answered through runtimeai's observe
# tools (the same tools, pipeline and audit trail kubectl-ai reaches over MCP with mcp.yaml).
#
#   RUNTIMEAI=/opt/runtimeai/runtimeai RUNTIMEAI_DATA_DIR=./data bash samples/kubectl-ai/session.sh [VCLUSTER]
#
# Runs against the sandbox (KubeSim, a Kubernetes API simulator) unless RUNTIMEAI_SANDBOX=false
# and the server's config names real clusters. Needs jq. Exit codes: 0 answered; 1 a question got
# no answer (the message says which); 2 bad usage or configuration.
set -euo pipefail
runtimeai="${RUNTIMEAI:-runtimeai}"
vcluster="${1:-dev}"
export RUNTIMEAI_SANDBOX="${RUNTIMEAI_SANDBOX:-true}"
command -v jq >/dev/null || { echo "session: jq is needed to read runtimeai's JSON (apt-get install jq)" >&2; exit 2; }
command -v "$runtimeai" >/dev/null || { echo "session: $runtimeai not found; set RUNTIMEAI to the binary" >&2; exit 2; }

reason="kubectl-ai session: why is the web pod in $vcluster misbehaving"
errors="$(mktemp)"; trap 'rm -f "$errors"' EXIT
call() { # tool json -> structured result on stdout; on failure runtimeai's error on stderr and its exit code
  # A few tries: a cluster that is still starting (in the sandbox, each call starts a new simulated
  # world whose vclusters take a moment to answer) is retried; a refusal is final after the last try.
  local attempt out code
  for attempt in 1 2 3 4 5; do
    code=0
    out="$("$runtimeai" call "$1" --args "$2" --reasoning "$reason" 2>"$errors")" || code=$?
    if [ "$code" -eq 0 ]; then printf '%s\n' "$out"; return 0; fi
    [ "$code" -eq 2 ] && break   # bad arguments or configuration: retrying does not help
    sleep 1
  done
  grep -v '^runtimeai: SANDBOX' "$errors" | tail -3 >&2
  echo "$out" | jq -r '.error? // empty' >&2 2>/dev/null || true
  return "$code"
}
ask() { echo; echo "Q: $*"; }

ask "Which vclusters are there?"
runtimes="$(call list_runtimes '{"type":"vcluster"}')"
echo "$runtimes" | jq -r '.items[] | "A: vcluster \(.name) (\(.id)) is \(.state)"'
id="$(echo "$runtimes" | jq -r --arg n "$vcluster" '.items[] | select(.name == $n) | .id')"
[ -n "$id" ] || { echo "session: no vcluster named '$vcluster'" >&2; exit 1; }

ask "What runs in $vcluster, namespace apps?"
pods="$(call list_resources "{\"runtime_id\":\"$id\",\"kind\":\"pods\",\"namespace\":\"apps\"}")"
echo "$pods" | jq -r '.columns as $c | .rows[] | "A: pod " + ([$c, .] | transpose | map("\(.[0])=\(.[1])") | join(" "))'
pod="$(echo "$pods" | jq -r '.rows[0][0] // empty')"
[ -n "$pod" ] || { echo "session: no pod in $vcluster/apps" >&2; exit 1; }

ask "What does the pod $pod look like?"
call get_resource "{\"runtime_id\":\"$id\",\"kind\":\"pod\",\"name\":\"$pod\",\"namespace\":\"apps\"}" \
  | jq -r '.yaml' | awk '
      /^  containers:/ { in_c = 1 }
      in_c && /^    image:/ { print "A: image " $2; in_c = 0 }
      /^  phase:/ { print "A: phase " $2 }
      /^    restartCount:/ { print "A: restarts " $2 }'

ask "Anything notable in its log?"
call get_logs "{\"runtime_id\":\"$id\",\"pod\":\"$pod\",\"namespace\":\"apps\",\"grep\":\"notice|error|warn\"}" \
  | jq -r '"A: \(.matched) matching line(s), \(.omitted) other(s)", (.lines[] | "A: log \(.)")'

# vcluster syncs each pod to its host cluster as NAME-x-NAMESPACE-x-VCLUSTER in the vcluster's
# namespace, where the scheduling and container events are recorded. The backend ref names both:
# vcluster:CONTEXT#NAMESPACE/NAME.
ask "What happened to it (its events on the host cluster)?"
ref="$(echo "$runtimes" | jq -r --arg n "$vcluster" '.items[] | select(.name == $n) | .backend.ref')"
context="${ref#vcluster:}"; context="${context%%#*}"
namespace="${ref#*#}"; namespace="${namespace%/*}"
call get_events "{\"runtime_id\":\"cluster:$context\",\"related_resource\":\"pod/$namespace/$pod-x-apps-x-$vcluster\"}" \
  | jq -r '"A: \(.items | length) event(s) of pod/\($ns)/\($p) on cluster:\($ctx)", (.items | reverse | .[] | "A: event \(.type) \(.reason): \(.message)")' \
      --arg ns "$namespace" --arg p "$pod-x-apps-x-$vcluster" --arg ctx "$context"
