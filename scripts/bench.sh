#!/usr/bin/env bash
# The side-by-side figures of docs/performance.md in one run: RuntimeAI.Mcp against the Go peer
# (kubernetes-mcp-server-linux-amd64 from the npm registry), alternating start by start, then every
# benchmark project under bench/.
#   scripts/bench.sh            full run (7 pairs; the bench/ projects with their default sizes)
#   scripts/bench.sh --smoke    quick check (3 pairs; the bench/ projects with --smoke)
#   scripts/bench.sh --peer-only-figures   the side-by-side part only (skip bench/)
# Environment: PAIRS (start pairs, >= 7 for the published figure), PEER_VERSION (default 0.0.67),
# PEER_DIR (npm cache dir for the peer, default /tmp/runtimeai-peer), RUNTIMEAI_EXE (our binary).
# Our binary: the NativeAOT one from scripts/publish.sh when present, else the JIT build
# (dotnet build -c Release); the output says which.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

smoke=0
with_projects=1
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    --peer-only-figures) with_projects=0 ;;
    *) echo "bench.sh: unknown argument '$arg'; use --smoke or --peer-only-figures" >&2; exit 2 ;;
  esac
done
pairs="${PAIRS:-$([ "$smoke" = 1 ] && echo 3 || echo 7)}"
peer_version="${PEER_VERSION:-0.0.67}"
peer_dir="${PEER_DIR:-/tmp/runtimeai-peer}"
work="$(mktemp -d /tmp/runtimeai-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

command -v node >/dev/null || { echo "bench.sh: node is needed (the stdio probe is scripts/bench/mcp-stdio-probe.mjs)" >&2; exit 2; }

# --- our binary -----------------------------------------------------------------------------
aot="$root/artifacts/runtimeai-linux-x64/runtimeai"
jit="$root/src/RuntimeAI.Host/bin/Release/net10.0/runtimeai"
if [ -n "${RUNTIMEAI_EXE:-}" ]; then
  ours="$RUNTIMEAI_EXE"; build="given by RUNTIMEAI_EXE"
elif [ -x "$aot" ]; then
  ours="$aot"; build="NativeAOT (scripts/publish.sh)"
else
  dotnet build src/RuntimeAI.Host -c Release -nologo -v q -tl:off >/dev/null
  ours="$jit"; build="JIT (dotnet build -c Release; run scripts/publish.sh for the NativeAOT figure)"
fi

# --- the Go peer ------------------------------------------------------------------------------
peer="$peer_dir/node_modules/kubernetes-mcp-server-linux-amd64/bin/kubernetes-mcp-server-linux-amd64"
if [ ! -x "$peer" ] || ! grep -q "\"version\": \"$peer_version\"" "$peer_dir/node_modules/kubernetes-mcp-server-linux-amd64/package.json" 2>/dev/null; then
  npm install --silent --no-audit --no-fund --prefix "$peer_dir" "kubernetes-mcp-server-linux-amd64@$peer_version" >/dev/null
fi
# The peer refuses to start without a kubeconfig context; this one names a loopback port nothing
# listens on, so neither server reaches a cluster (both answer initialize and tools/list offline).
cat > "$work/kubeconfig" <<'KUBE'
apiVersion: v1
kind: Config
clusters: [{name: bench, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: bench, context: {cluster: bench, user: bench}}]
current-context: bench
users: [{name: bench, user: {token: bench}}]
KUBE

probe() { node "$root/scripts/bench/mcp-stdio-probe.mjs" "$@"; }
# Same configuration for both: the same kubeconfig, nothing else. Ours is also started on its
# embedded sandbox default (libvirt test:///default and KubeSim in process), reported apart.
run_ours() { probe "$ours" serve --data-dir "$work/data-$1" --autonomy autonomous --log-level warning --kubeconfig "$work/kubeconfig"; }
# A later session: the data dir exists (a stdio client such as Claude Desktop starts the server per
# session on the same data dir; only the first start creates the database and keys).
run_again() { probe "$ours" serve --data-dir "$work/data-again" --autonomy autonomous --log-level warning --kubeconfig "$work/kubeconfig"; }
run_sandbox() { probe "$ours" serve --data-dir "$work/sandbox-$1" --autonomy autonomous --log-level warning; }
run_peer() { probe "$peer" --kubeconfig "$work/kubeconfig"; }

echo "== side by side: $pairs alternating start pairs"
echo "machine: $(nproc) vCPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ours: $ours [$build]"
echo "peer: kubernetes-mcp-server-linux-amd64 $peer_version (default toolsets)"
# One discarded start each: page cache and the dotnet host's first-run work are not the figure.
run_ours warm >/dev/null; run_peer >/dev/null; run_sandbox warm >/dev/null; run_again >/dev/null
: > "$work/ours.jsonl"; : > "$work/peer.jsonl"; : > "$work/sandbox.jsonl"; : > "$work/again.jsonl"
for i in $(seq 1 "$pairs"); do
  if [ $((i % 2)) = 1 ]; then run_ours "$i" >> "$work/ours.jsonl"; run_peer >> "$work/peer.jsonl";
  else run_peer >> "$work/peer.jsonl"; run_ours "$i" >> "$work/ours.jsonl"; fi
  run_sandbox "$i" >> "$work/sandbox.jsonl"
  run_again >> "$work/again.jsonl"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
node - "$work/ours.jsonl" "$work/peer.jsonl" "$work/sandbox.jsonl" "$work/again.jsonl" <<'JS'
const fs = require("fs");
const read = (f) => fs.readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const [ours, peer, sandbox, again] = [read(process.argv[2]), read(process.argv[3]), read(process.argv[4]), read(process.argv[5])];
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const f = (x, d = 2) => Number(x).toFixed(d);
const initRatios = ours.map((o, i) => o.init_ms / peer[i].init_ms);
const rssRatios = ours.map((o, i) => o.rss_kib / peer[i].rss_kib);
console.log("start pairs (ms, ours/peer): " + ours.map((o, i) => `${f(o.init_ms, 0)}/${f(peer[i].init_ms, 0)}`).join(" "));
console.log("| measure | ours (median) | peer (median) | ratio ours/peer |");
console.log("|---|---|---|---|");
console.log(`| cold start to initialize answer, stdio (first start: empty data dir) | ${f(median(ours.map((o) => o.init_ms)), 0)} ms | ${f(median(peer.map((p) => p.init_ms)), 0)} ms | ${f(median(initRatios))} (median of ${ours.length} pairwise ratios) |`);
const againRatios = again.map((o, i) => o.init_ms / peer[i].init_ms);
console.log(`| start of a later session (data dir exists), same kubeconfig | ${f(median(again.map((o) => o.init_ms)), 0)} ms | ${f(median(peer.map((p) => p.init_ms)), 0)} ms | ${f(median(againRatios))} (median of ${again.length} ratios to the same pair's peer start) |`);
console.log(`| resident memory after tools/list | ${f(median(ours.map((o) => o.rss_kib)) / 1024, 1)} MiB | ${f(median(peer.map((p) => p.rss_kib)) / 1024, 1)} MiB | ${f(median(rssRatios))} |`);
console.log(`| ours on the sandbox default (KubeSim + libvirt test driver in process): start, memory | ${f(median(sandbox.map((o) => o.init_ms)), 0)} ms, ${f(median(sandbox.map((o) => o.rss_kib)) / 1024, 1)} MiB | | |`);
const [o, p] = [ours[0], peer[0]];
console.log(`| tools/list bytes per tool (compact JSON of the tools array) | ${o.bytes_per_tool} (${o.tools} tools, ${o.tools_list_bytes} B) | ${p.bytes_per_tool} (${p.tools} tools, ${p.tools_list_bytes} B) | ${f(o.bytes_per_tool / p.bytes_per_tool)} |`);
console.log(`| server instructions (sent once per session) | ${o.instructions_bytes} B | ${p.instructions_bytes} B | |`);
JS

# --- inside a cluster: the same 500 pods listed by both servers -----------------------------------
# KubeSim (our Kubernetes API simulator, run by our binary) seeded with 500 pods in namespace bench;
# both servers get its kubeconfig. Bytes are whole JSON-RPC answer lines as the client reads them.
echo
echo "== inside a cluster: listing the same 500 pods in KubeSim (a simulator)"
{
  echo "nodes:"
  for n in 1 2 3; do echo "  - {name: node-$n, cpu: \"64\", memory: 256Gi, pods: 200}"; done
  echo "namespaces: [bench]"
  echo "objects:"
  for i in $(seq -w 0 499); do
    echo "  - {apiVersion: v1, kind: Pod, metadata: {name: web-$i, namespace: bench, labels: {app: web}}, spec: {containers: [{name: nginx, image: \"nginx:1.27\", resources: {requests: {cpu: 10m, memory: 16Mi}}}]}}"
  done
} > "$work/pods500.yaml"
"$ours" kubesim --seed "$work/pods500.yaml" --kubeconfig-out "$work/pods500.kubeconfig" 2>/dev/null &
kubesim_pid=$!
for _ in $(seq 1 100); do [ -s "$work/pods500.kubeconfig" ] && break; sleep 0.1; done
sleep 4 # the simulated kubelet starts the pods (PodStartDelay 2 s), so both servers see them Running
echo '{"observe_hosts": ["*"]}' > "$work/inside.json"
echo '{"observe_hosts": ["*"], "observe_max_bytes": 1048576}' > "$work/inside-big.json"
calls() { node "$root/scripts/bench/mcp-call-bytes.mjs" "$@"; }
list='{"runtime_id":"cluster:kubesim","kind":"pods","namespace":"bench","page_size":200}'
peer_list="$(calls --count web- pods_list_in_namespace '{"namespace":"bench"}' -- "$peer" --kubeconfig "$work/pods500.kubeconfig")"
ours_first="$(calls list_resources "$list" -- "$ours" serve --data-dir "$work/inside-1" --log-level warning --config "$work/inside.json" --kubeconfig "$work/pods500.kubeconfig")"
ours_all="$(calls --follow list_resources "$list" -- "$ours" serve --data-dir "$work/inside-2" --log-level warning --config "$work/inside.json" --kubeconfig "$work/pods500.kubeconfig")"
ours_big="$(calls --follow list_resources "$list" -- "$ours" serve --data-dir "$work/inside-3" --log-level warning --config "$work/inside-big.json" --kubeconfig "$work/pods500.kubeconfig")"
kill "$kubesim_pid" 2>/dev/null || true
node - "$peer_list" "$ours_first" "$ours_all" "$ours_big" <<'JS'
const [peer, first, all, big] = process.argv.slice(2).map((s) => JSON.parse(s));
for (const r of [peer, first, all, big]) if (r.is_error) { console.error("a call failed: " + JSON.stringify(r)); process.exit(1); }
const f = (x) => Number(x).toFixed(2);
console.log("| listing 500 pods (namespace bench) | calls | bytes | pods listed | ratio to the peer |");
console.log("|---|---|---|---|---|");
console.log(`| peer pods_list_in_namespace (one answer, table) | ${peer.calls} | ${peer.total_bytes} | ${peer.count} | 1.00 |`);
console.log(`| ours list_resources, first answer (8 KiB budget, says it cut) | 1 | ${first.total_bytes} | ${first.rows} | ${f(first.total_bytes / peer.total_bytes)} |`);
console.log(`| ours list_resources, every page (8 KiB budget) | ${all.calls} | ${all.total_bytes} | ${all.rows} | ${f(all.total_bytes / peer.total_bytes)} |`);
console.log(`| ours list_resources, every page (budget 1 MiB, page_size 200) | ${big.calls} | ${big.total_bytes} | ${big.rows} | ${f(big.total_bytes / peer.total_bytes)} |`);
if (all.rows !== 500 || peer.count !== 500) { console.error("both must list all 500 pods"); process.exit(1); }
if (all.total_bytes >= peer.total_bytes) { console.error("ours must be smaller than the peer for the same 500 pods"); process.exit(1); }
JS

[ "$with_projects" = 1 ] || exit 0

# --- every benchmark project under bench/ --------------------------------------------------------
for project in bench/*/; do
  name="$(basename "$project")"
  extra=()
  [ "$smoke" = 1 ] && extra+=(--smoke)
  case "$name" in
    RuntimeAI.Bench.Startup) extra+=(--exe "$ours") ;;
  esac
  echo
  echo "== $name ${extra[*]:-}"
  dotnet run -c Release --project "$project" -- "${extra[@]}"
done
