#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests: `postgres.sh start [dir]` installs PostgreSQL via
# apt if it is missing, creates a cluster in a temp directory (as the postgres user when run as
# root: initdb refuses root), starts it on a free loopback port with trust auth limited to
# 127.0.0.1, and prints its connection string on stdout. `postgres.sh stop <dir>` stops it and
# removes the directory. Nothing listens beyond loopback; nothing survives stop.
set -euo pipefail
cmd="${1:-}"
find_bin() {
  for v in 17 16 15; do [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ] && { echo "/usr/lib/postgresql/$v/bin"; return; }; done
  return 1
}
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    bin="$(find_bin || true)"
    if [ -z "$bin" ]; then
      echo "postgres.sh: installing PostgreSQL 15 (apt)" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15 >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15 >&2; }
      bin="$(find_bin)" || { echo "postgres.sh: PostgreSQL binaries not found after apt install" >&2; exit 1; }
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    dir="${2:-$(mktemp -d /tmp/runtimeai-pg.XXXXXX)}"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U runtimeai --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    port="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=200" start >&2 \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U runtimeai runtimeai
    echo "$dir" >"$dir/.dir"
    echo "Host=127.0.0.1;Port=$port;Username=runtimeai;Database=runtimeai;Pooling=true"
    echo "postgres.sh: cluster in $dir (stop with: scripts/postgres.sh stop $dir)" >&2
    ;;
  stop)
    dir="${2:?usage: postgres.sh stop <dir>}"
    bin="$(find_bin)"
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    [ -f "$dir/.dir" ] && rm -rf "$dir"
    ;;
  *)
    echo "usage: postgres.sh start [dir]   # prints the connection string" >&2
    echo "       postgres.sh stop <dir>" >&2
    exit 2
    ;;
esac
