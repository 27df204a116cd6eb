#!/usr/bin/env bash
# The kubectl tier of KubeSim (a Kubernetes API simulator, not a cluster): runs the real kubectl as a child process
# against an in-process simulator for get (table, -o json/yaml/jsonpath), apply (client- and server-side),
# create/delete -f, scale, patch (strategic, merge, json), label, logs, get -w, top, rollout status, cordon,
# api-resources; then every step of the vCluster driver (create, pause, resume, rollout restart, scale, snapshot,
# delete with keep_data) checked with kubectl against the same simulator; prints every command with what it checked.
#
# kubectl comes from the machine. When it is missing, this script downloads the pinned release binary
# from dl.k8s.io into .ci-tools/bin (set KUBECTL_VERSION to change it).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v kubectl >/dev/null 2>&1; then
  version="${KUBECTL_VERSION:-v1.32.4}"
  echo "kubectl not found; downloading ${version} from dl.k8s.io"
  mkdir -p .ci-tools/bin
  curl -fsSL -o .ci-tools/bin/kubectl "https://dl.k8s.io/release/${version}/bin/linux/amd64/kubectl"
  chmod +x .ci-tools/bin/kubectl
  export PATH="$PWD/.ci-tools/bin:$PATH"
fi
echo "kubectl: $(command -v kubectl) ($(kubectl version --client 2>/dev/null | head -1))"

status=0
for project in RuntimeAI.KubeSim.Tests RuntimeAI.Drivers.Kubernetes.Tests; do
  dotnet test "tests/${project}" \
    --filter "FullyQualifiedName~${project}.Kubectl" \
    --logger "console;verbosity=detailed" 2>&1 \
    | grep -E '^\s+(\$ kubectl|checked:|    )|Passed |Failed |Total tests|Passed:|Failed:|error' \
    | sed -E 's/^\s+(\$ kubectl|checked:)/\1/'
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done
exit "$status"
