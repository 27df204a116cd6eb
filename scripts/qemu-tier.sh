#!/usr/bin/env bash
# The real-hypervisor tier of the libvirt driver: boots tiny VMs (64 MiB, empty qcow2, no OS)
# under qemu through a libvirtd this script starts, and checks every step against virsh.
#
#   scripts/qemu-tier.sh                           # as root (CI), ~30 s once the packages are there
#   RUNTIMEAI_QEMU_FORCE_TCG=1 scripts/qemu-tier.sh  # prove the TCG path on a KVM machine
#
# Installs what is missing (libvirt-daemon, libvirt-daemon-driver-qemu, qemu-system-x86,
# qemu-utils, libvirt-clients), creates the libvirt-qemu user and kvm group when missing, starts
# virtlogd and libvirtd in the background, runs the tests marked Category=Qemu and stops the
# daemons it started (by pid). KVM is used when /dev/kvm works, else TCG (domain type 'qemu').
# Skips (exit 0, loudly) only when this machine cannot run libvirtd at all.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${RUNTIMEAI_QEMU_WORK:-/var/lib/runtimeai-qemu-tier}"
LOGS="$WORK/logs"
URI="qemu:///system"
STARTED_PIDS=()
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo -n"

say() { printf '[qemu-tier] %s\n' "$*"; }

skip() {
  printf '\n'
  printf '################################################################################\n'
  printf '###  QEMU TIER SKIPPED: %s\n' "$*"
  printf '###  The libvirt driver was NOT exercised against a real hypervisor on this machine.\n'
  printf '################################################################################\n\n'
  exit 0
}

# Prints the pid a daemon wrote to its pid file (waits up to 10 s for the file).
wait_pidfile() {
  local file=$1
  for _ in $(seq 1 50); do
    if [ -s "$file" ]; then cat "$file"; return; fi
    sleep 0.2
  done
}

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping daemon pid $pid"
      $SUDO kill "$pid" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && $SUDO kill -9 "$pid" 2>/dev/null
    fi
  done
}
trap cleanup EXIT

if [ -n "$SUDO" ] && ! sudo -n true 2>/dev/null; then
  skip "needs root (or password-less sudo) to install packages and run libvirtd"
fi

# 1. Packages
need=()
command -v libvirtd >/dev/null || need+=(libvirt-daemon)
[ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ] || need+=(libvirt-daemon-driver-qemu)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v virsh >/dev/null || need+=(libvirt-clients)
if [ "${#need[@]}" -gt 0 ]; then
  say "installing ${need[*]}"
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/tmp/qemu-tier-apt.log 2>&1; then
    tail -20 /tmp/qemu-tier-apt.log
    skip "could not install ${need[*]} (see /tmp/qemu-tier-apt.log)"
  fi
fi

# 2. Users and groups the Debian qemu driver expects
getent group kvm >/dev/null || { say "creating group kvm"; $SUDO groupadd --system kvm; }
if ! id libvirt-qemu >/dev/null 2>&1; then
  say "creating user libvirt-qemu"
  getent group libvirt-qemu >/dev/null || $SUDO groupadd --system libvirt-qemu
  $SUDO useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin \
    --gid libvirt-qemu --groups kvm libvirt-qemu
fi

# 3. KVM or TCG
DOMAIN_TYPE=qemu
if [ -n "${RUNTIMEAI_QEMU_FORCE_TCG:-}" ]; then
  say "RUNTIMEAI_QEMU_FORCE_TCG is set: not using KVM"
elif [ -c /dev/kvm ] && python3 -c 'import os,fcntl; fd=os.open("/dev/kvm", os.O_RDWR); fcntl.ioctl(fd, 0xAE00); os.close(fd)' 2>/dev/null; then
  # What udev's rule would do: the qemu user reaches /dev/kvm through the kvm group.
  if [ "$(stat -c %G /dev/kvm)" != kvm ] || [ "$(( 0$(stat -c %a /dev/kvm) & 060 ))" -ne 48 ]; then
    say "granting group kvm access to /dev/kvm (as udev would)"
    $SUDO chgrp kvm /dev/kvm && $SUDO chmod 0660 /dev/kvm
  fi
  DOMAIN_TYPE=kvm
else
  say "/dev/kvm is not usable here: using TCG (domain type 'qemu', slower)"
fi
say "accelerator: $DOMAIN_TYPE"

# 4. Daemons
$SUDO mkdir -p "$WORK" "$LOGS" /run/libvirt /var/lib/libvirt /var/log/libvirt/qemu /var/cache/libvirt
$SUDO chmod 0755 "$WORK"
if virsh -c "$URI" version >/dev/null 2>&1; then
  say "a libvirtd already answers at $URI: using it (and leaving it running)"
else
  if ! pgrep -x virtlogd >/dev/null; then
    $SUDO rm -f "$WORK/virtlogd.pid"
    $SUDO virtlogd --pid-file "$WORK/virtlogd.pid" >"$LOGS/virtlogd.log" 2>&1 &
    VIRTLOGD_PID=$(wait_pidfile "$WORK/virtlogd.pid")
    [ -n "$VIRTLOGD_PID" ] && STARTED_PIDS+=("$VIRTLOGD_PID") && say "started virtlogd (pid $VIRTLOGD_PID)"
  fi
  $SUDO rm -f "$WORK/libvirtd.pid"
  $SUDO libvirtd --pid-file "$WORK/libvirtd.pid" >"$LOGS/libvirtd.log" 2>&1 &
  LIBVIRTD_PID=$(wait_pidfile "$WORK/libvirtd.pid")
  if [ -n "$LIBVIRTD_PID" ]; then
    STARTED_PIDS+=("$LIBVIRTD_PID")
    say "started libvirtd (pid $LIBVIRTD_PID)"
  fi
  for _ in $(seq 1 100); do
    virsh -c "$URI" version >/dev/null 2>&1 && break
    [ -n "$LIBVIRTD_PID" ] && ! kill -0 "$LIBVIRTD_PID" 2>/dev/null && break
    sleep 0.2
  done
  if ! virsh -c "$URI" version >/dev/null 2>&1; then
    tail -20 "$LOGS/libvirtd.log"
    skip "libvirtd did not come up on this machine (log: $LOGS/libvirtd.log)"
  fi
fi
virsh -c "$URI" version | sed 's/^/[qemu-tier]   /'
if ! virsh -c "$URI" capabilities | grep -q "<domain type='$DOMAIN_TYPE'"; then
  say "libvirt does not offer domain type '$DOMAIN_TYPE'; falling back to TCG"
  DOMAIN_TYPE=qemu
fi

# 5. The tests
export RUNTIMEAI_QEMU_URI="$URI"
export RUNTIMEAI_QEMU_DATADIR="$WORK/data"
export RUNTIMEAI_QEMU_DOMAIN_TYPE="$DOMAIN_TYPE"
say "running tests with Category=Qemu against $URI"
start=$(date +%s)
cd "$ROOT"
CONFIGURATION="${CONFIGURATION:-Debug}"
# Test builds keep the failpoints compiled in (as scripts/test.sh builds them): without the property a
# Release build recompiles RuntimeAI.Core without them and the replica takeover test cannot kill a replica.
FAILPOINTS=-p:RuntimeAiFailpoints=true
# With RESULTS_DIR (set by scripts/test.sh) the results also go to TRX files so CI counts them.
trx() { [ -n "${RESULTS_DIR:-}" ] && echo "--logger trx;LogFileName=$1.trx --results-directory $RESULTS_DIR"; }
dotnet build tests/RuntimeAI.Drivers.Libvirt.Tests -c "$CONFIGURATION" "$FAILPOINTS" -v q --nologo || { say "build failed"; exit 1; }
# shellcheck disable=SC2046
dotnet test tests/RuntimeAI.Drivers.Libvirt.Tests -c "$CONFIGURATION" --no-build --filter "Category=Qemu&Category!=QemuDaemonLoss" --logger "console;verbosity=normal" $(trx qemu-tier)
rc=$?

# 5b. One saga through the MCP boundary on the real hypervisor, cross-checked with virsh.
say "running the saga tier (tests/RuntimeAI.Host.Tests, Category=Qemu) against $URI"
dotnet build tests/RuntimeAI.Host.Tests -c "$CONFIGURATION" "$FAILPOINTS" -v q --nologo || { say "build failed"; exit 1; }
# shellcheck disable=SC2046
dotnet test tests/RuntimeAI.Host.Tests -c "$CONFIGURATION" --no-build --filter "Category=Qemu" --logger "console;verbosity=normal" $(trx qemu-tier-saga)
saga_rc=$?
[ "$rc" -eq 0 ] && rc=$saga_rc

# 6. The daemon going away mid-call: only against the libvirtd this script started (the test kills it).
if [ -n "${LIBVIRTD_PID:-}" ]; then
  say "running the daemon-loss test (kills libvirtd pid $LIBVIRTD_PID mid-call)"
  # shellcheck disable=SC2046
  RUNTIMEAI_LIBVIRTD_PID="$LIBVIRTD_PID" dotnet test tests/RuntimeAI.Drivers.Libvirt.Tests -c "$CONFIGURATION" --no-build \
    --filter "Category=QemuDaemonLoss" --logger "console;verbosity=normal" $(trx qemu-tier-daemon-loss)
  loss_rc=$?
  [ "$rc" -eq 0 ] && rc=$loss_rc
  # A fresh libvirtd re-attaches to the orphaned qemu process so it can be cleaned up properly.
  $SUDO rm -f "$WORK/libvirtd.pid"
  $SUDO libvirtd --pid-file "$WORK/libvirtd.pid" >>"$LOGS/libvirtd.log" 2>&1 &
  pid=$(wait_pidfile "$WORK/libvirtd.pid")
  [ -n "$pid" ] && STARTED_PIDS+=("$pid") && say "restarted libvirtd (pid $pid) to clean up"
  for _ in $(seq 1 100); do virsh -c "$URI" version >/dev/null 2>&1 && break; sleep 0.2; done
fi

# 7. Leave nothing behind: the tier's VMs and their disks.
for dom in $(virsh -c "$URI" list --all --name 2>/dev/null | grep '^rtq-'); do
  say "cleaning up leftover VM $dom"
  virsh -c "$URI" destroy "$dom" >/dev/null 2>&1
  virsh -c "$URI" undefine "$dom" --snapshots-metadata --managed-save --remove-all-storage >/dev/null 2>&1
done
for pool in runtimeai-qemu-tier runtimeai-bench; do
  if virsh -c "$URI" pool-info "$pool" >/dev/null 2>&1; then
    virsh -c "$URI" pool-destroy "$pool" >/dev/null 2>&1
    virsh -c "$URI" pool-undefine "$pool" >/dev/null 2>&1
  fi
done
say "qemu tier finished in $(( $(date +%s) - start ))s with exit code $rc"
if [ "$rc" -ne 0 ] && [ -f "$LOGS/libvirtd.log" ]; then
  say "last lines of libvirtd.log:"; tail -20 "$LOGS/libvirtd.log"
fi
exit "$rc"
