#!/usr/bin/env bash
# Starts RuntimeAI on the embedded default: Streamable HTTP on 127.0.0.1:7070 with the sandbox
# backends (libvirt's in-process test:///default driver and KubeSim, the Kubernetes API simulator with two
# vclusters and two KubeVirt VMs; no real VM or cluster is touched). Installs what it
# needs first. Extra arguments go to 'runtimeai serve', e.g. --autonomy copilot.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/deps.sh"
dotnet build "$root/src/RuntimeAI.Host" -c Release -nologo -v quiet >&2
exec "$root/src/RuntimeAI.Host/bin/Release/net10.0/runtimeai" serve --transport http --sandbox "$@"
