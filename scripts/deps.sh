#!/usr/bin/env bash
# Installs what building, running and testing RuntimeAI need on a fresh Debian machine, and says
# exactly what is missing when it cannot. Idempotent; quiet when everything is there.
set -euo pipefail
need_apt=()
[ -e /usr/lib/x86_64-linux-gnu/libvirt.so.0 ] || ldconfig -p 2>/dev/null | grep -q 'libvirt.so.0 ' || need_apt+=(libvirt0)
command -v virsh >/dev/null || need_apt+=(libvirt-clients)
command -v npm >/dev/null || need_apt+=(npm)
# The REST docs test runs docs/api.md as written (curl, jq); the CI sample uses jq.
command -v curl >/dev/null || need_apt+=(curl)
command -v jq >/dev/null || need_apt+=(jq)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "runtimeai deps: missing Debian packages: ${need_apt[*]}; run: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  echo "runtimeai deps: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! command -v kubectl >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq kubectl >/dev/null 2>&1 || true
  fi
  command -v kubectl >/dev/null || echo "runtimeai deps: kubectl not found (the KubeSim kubectl tier needs it); install kubectl from your distribution or the Kubernetes apt repository" >&2
fi
command -v dotnet >/dev/null || { echo "runtimeai deps: the .NET 10 SDK is missing; install it (https://dot.net) and re-run" >&2; exit 1; }
