#!/usr/bin/env bash
# Publishes runtimeai as a NativeAOT binary (linux-x64; fast cold start for stdio clients that
# spawn the server per session) into artifacts/runtimeai-linux-x64/ with a SHA256SUMS file.
# The JIT build (dotnet build / scripts/run.sh) stays the development build.
#   scripts/publish.sh           publish (a few minutes: the AOT compiler runs)
#   scripts/publish.sh --check   publish, verify the checksums, then run the AOT binary tests
#                                (tests/RuntimeAI.Host.Tests AotBinaryTests: initialize, tools/list,
#                                a tool call and the schema firewall over stdio)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
rid="linux-x64"
out="$root/artifacts/runtimeai-$rid"
staging="$root/artifacts/publish-$rid"

rm -rf "$staging" "$out"
dotnet publish src/RuntimeAI.Host -c Release -r "$rid" -p:PublishAot=true -tl:off -nologo -v minimal -o "$staging"
mkdir -p "$out"
# The binary and the native SQLite library it loads; symbols and XML docs stay out of the artifact.
cp "$staging/runtimeai" "$out/"
cp "$staging"/*.so "$out/"
(cd "$out" && sha256sum runtimeai ./*.so | sed 's| \./| |' > SHA256SUMS)
rm -rf "$staging"
echo "published $out:"
cat "$out/SHA256SUMS"

if [ "${1:-}" = "--check" ]; then
  (cd "$out" && sha256sum --check --quiet SHA256SUMS)
  RUNTIMEAI_AOT_BINARY="$out/runtimeai" dotnet test tests/RuntimeAI.Host.Tests -nologo --filter "FullyQualifiedName~AotBinaryTests"
fi
