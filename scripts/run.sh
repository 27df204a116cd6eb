#!/usr/bin/env bash
# Starts RuntimeAI on the embedded default: Streamable HTTP on 127.0.0.1:7070 with the sandbox
# backends (libvirt's in-process test:///default driver and KubeSim, the Kubernetes API simulator with two
# vclusters and two KubeVirt VMs; no real VM or cluster is touched). Installs what it
# needs first. Extra arguments go to 'runtimeai serve', e.g. --autonomy copilot.
# The fast build: the NativeAOT binary from scripts/publish.sh when it is there and newer than
# every source file; otherwise the JIT build (dotnet build -c Release), which needs no publish step.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/deps.sh"
aot="$root/artifacts/runtimeai-linux-x64/runtimeai"
if [ -x "$aot" ] && [ -z "$(find "$root/src" -name '*.cs' -newer "$aot" -print -quit)" ]; then
  echo "run.sh: the NativeAOT binary $aot" >&2
  exec "$aot" serve --transport http --sandbox "$@"
fi
if [ -x "$aot" ]; then
  echo "run.sh: $aot is older than the sources; using the JIT build (run scripts/publish.sh to refresh it)" >&2
else
  echo "run.sh: the JIT build (bash scripts/publish.sh once for the NativeAOT binary, which starts faster)" >&2
fi
dotnet build "$root/src/RuntimeAI.Host" -c Release -nologo -v quiet >&2
exec "$root/src/RuntimeAI.Host/bin/Release/net10.0/runtimeai" serve --transport http --sandbox "$@"
