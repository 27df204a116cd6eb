#!/usr/bin/env bash
# Builds everything a release of runtimeai ships, into one directory (default artifacts/package/):
#   runtimeai.VERSION.nupkg                   the .NET tool package (dotnet tool install runtimeai)
#   runtimeai-VERSION-linux-x64.tar.gz        the self-contained NativeAOT binary (+ its native SQLite
#                                             library and a SHA256SUMS of its own), from scripts/publish.sh
#   runtimeai-VERSION-airgap-linux-x64.tar.gz  the air-gapped bundle (runtimeai bundle: binary, SBOM,
#                                             catalog, samples, docs, deploy/, install.sh, SHA256SUMS)
#   runtimeai-VERSION.cdx.json                CycloneDX SBOM of the build (the CycloneDX dotnet tool)
#   server.json                               the MCP registry entry (package: the NuGet tool, stdio)
#   manifest.json                             the MCPB bundle manifest (binary server, stdio, the tools)
#   SHA256SUMS                                sha256 of every file above
#
#   scripts/package.sh                 everything (the AOT link takes minutes on 2 cores)
#   scripts/package.sh --fast          everything but the NativeAOT archive and bundle: what CI tests
#                                      (tests/RuntimeAI.Packaging.Tests runs this itself)
#   scripts/package.sh --check         everything, then the packaging tests against it, the AOT
#                                      archive tests included
#   --output DIR                       write there instead of artifacts/package
#
# The tool package and the SBOM come from one Release build kept apart from the tree's bin/ and
# obj/ (--artifacts-path): a test run can package without overwriting the build other tests use.
# RUNTIMEAI_MCP_NAME overrides the registry name (default io.github.runtimeai/runtimeai).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

fast=0; check=0; out="$root/artifacts/package"
while [ $# -gt 0 ]; do
  case "$1" in
    --fast) fast=1 ;;
    --check) check=1 ;;
    --output) [ $# -ge 2 ] || { echo "package.sh: --output needs a directory" >&2; exit 2; }; out="$2"; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$fast" = 1 ] && [ "$check" = 1 ]; then
  echo "package.sh: --check tests the NativeAOT archive, which --fast does not build; use one of them" >&2; exit 2
fi
command -v jq >/dev/null || { echo "package.sh: jq is missing; run scripts/deps.sh" >&2; exit 1; }

mkdir -p "$out"; out="$(cd "$out" && pwd)"
build="$(mktemp -d)"; trap 'rm -rf "$build"' EXIT
rm -f "$out"/runtimeai.*.nupkg "$out"/runtimeai-*.tar.gz "$out"/runtimeai-*.cdx.json "$out"/server.json "$out"/manifest.json "$out"/SHA256SUMS

version="$(dotnet msbuild src/RuntimeAI.Host -getProperty:Version -nologo)"
commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
mcp_name="${RUNTIMEAI_MCP_NAME:-io.github.runtimeai/runtimeai}"
echo "package: runtimeai $version (commit $commit) -> $out"

echo "-- tool package"
dotnet pack src/RuntimeAI.Host -c Release --artifacts-path "$build" -o "$out" -tl:off -nologo -v quiet -p:UseSharedCompilation=true
[ -f "$out/runtimeai.$version.nupkg" ] || { echo "package.sh: dotnet pack did not write runtimeai.$version.nupkg" >&2; exit 1; }

echo "-- SBOM (CycloneDX)"
cdx="$root/.tools/cyclonedx"
[ -x "$cdx/dotnet-CycloneDX" ] || dotnet tool install CycloneDX --version 6.3.1 --tool-path "$cdx" >/dev/null
# The assets files of the pack's restore (under $build/obj) are what was built; no second restore.
"$cdx/dotnet-CycloneDX" src/RuntimeAI.Host/RuntimeAI.Host.csproj --recursive --disable-package-restore \
  --base-intermediate-output-path "$build" --output "$out" --filename "runtimeai-$version.cdx.json" \
  --output-format Json --set-name runtimeai --set-version "$version" >"$build/cyclonedx.log" 2>&1 \
  || { cat "$build/cyclonedx.log" >&2; exit 1; }

if [ "$fast" = 0 ]; then
  echo "-- NativeAOT archive (linux-x64)"
  bash scripts/publish.sh
  stage="$build/runtimeai-$version-linux-x64"
  cp -r artifacts/runtimeai-linux-x64 "$stage"
  tar -C "$build" -czf "$out/runtimeai-$version-linux-x64.tar.gz" "runtimeai-$version-linux-x64"
  echo "-- air-gapped bundle (runtimeai bundle, by the NativeAOT binary)"
  artifacts/runtimeai-linux-x64/runtimeai bundle --output "$out/runtimeai-$version-airgap-linux-x64.tar.gz" \
    --source "$root" --sbom "$out/runtimeai-$version.cdx.json"
fi

echo "-- server.json, manifest.json"
catalog="$root/tools-catalog"
tools="$(jq -c '[.tools[].file]' "$catalog/index.json" | jq -r '.[]' \
  | while read -r f; do jq -c '{name, description}' "$catalog/$f"; done | jq -sc 'sort_by(.name)')"
description="MCP server that lets AI agents operate VMs and virtual clusters through one governance pipeline."
jq -n --arg commit "$commit" --arg name "$mcp_name" --arg version "$version" --arg description "$description" '{
  "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
  name: $name, title: "RuntimeAI", description: $description, version: $version,
  packages: [{
    registryType: "nuget", registryBaseUrl: "https://api.nuget.org/v3/index.json",
    identifier: "runtimeai", version: $version, runtimeHint: "dnx",
    transport: { type: "stdio" },
    packageArguments: [
      { type: "positional", value: "serve" },
      { type: "named", name: "--transport", value: "stdio" }
    ],
    environmentVariables: [
      { name: "RUNTIMEAI_AUTONOMY", description: "Autonomy level: advisor (default), copilot, guardian or autonomous.", isRequired: false, default: "advisor" },
      { name: "RUNTIMEAI_SANDBOX", description: "true: serve the sandbox (libvirt test driver and KubeSim, simulators) instead of real backends.", isRequired: false },
      { name: "RUNTIMEAI_KUBECONFIG", description: "Kubeconfig files for the vCluster and KubeVirt backends, comma-separated FILE[#CONTEXT].", isRequired: false }
    ]
  }],
  _meta: { "io.modelcontextprotocol.registry/publisher-provided": { commit: $commit, build: "tool package (jit); NativeAOT archive for linux-x64" } }
}' >"$out/server.json"

jq -n --arg version "$version" --arg description "$description" --argjson tools "$tools" '{
  manifest_version: "0.3", name: "runtimeai", display_name: "RuntimeAI", version: $version,
  description: $description,
  long_description: "Every VM or virtual cluster is a runtime with one lifecycle, exposed as MCP tools in four tiers (observe, analyse, recommend, execute). Every call passes a schema firewall, the autonomy gate, policy, a dry-run simulation, human approval when needed, and a hash-chained audit record.",
  author: { name: "RuntimeAI" },
  server: {
    type: "binary", entry_point: "runtimeai",
    mcp_config: {
      command: "${__dirname}/runtimeai",
      args: ["serve", "--transport", "stdio", "--autonomy", "${user_config.autonomy}"],
      env: {}
    }
  },
  user_config: {
    autonomy: { type: "string", title: "Autonomy level", description: "advisor (read-only), copilot (every change asks you), guardian or autonomous.", default: "copilot", required: false }
  },
  tools: $tools, tools_generated: false,
  keywords: ["libvirt", "kubevirt", "vcluster", "virtual machines", "governance"],
  compatibility: { platforms: ["linux"] }
}' >"$out/manifest.json"

(cd "$out" && sha256sum -- runtimeai.*.nupkg runtimeai-*.cdx.json server.json manifest.json $(ls runtimeai-*.tar.gz 2>/dev/null) > SHA256SUMS)
echo "package: done"
cat "$out/SHA256SUMS"

if [ "$check" = 1 ]; then
  (cd "$out" && sha256sum --check --quiet SHA256SUMS)
  RUNTIMEAI_PACKAGE_DIR="$out" dotnet test tests/RuntimeAI.Packaging.Tests -nologo
fi
