#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, builds Release, runs every xunit
# project (libvirt test driver, KubeSim with kubectl, the server over stdio/HTTP), the real qemu
# tier through libvirtd, the bench/ projects in their --smoke mode, and the official MCP
# conformance suite. Ends with one line
# "N passed, N failed, N skipped" computed from the TRX files and the conformance verdicts;
# exits non-zero on any failure or when no test ran.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
results="$root/TestResults"
rm -rf "$results"; mkdir -p "$results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

bash scripts/deps.sh || exit 1
bash scripts/fetch-json-schema-test-suite.sh >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
failures=0
extra_passed=0; extra_failed=0; extra_skipped=0

echo "== build (Release, with the test failpoints compiled in)"
dotnet build RuntimeAI.Mcp.sln -c Release -nologo -v quiet -p:UseSharedCompilation=true -p:RuntimeAiFailpoints=true || { echo "0 passed, 1 failed"; exit 1; }

# A throwaway PostgreSQL for the store contract tests and the server on PostgreSQL (stopped at exit).
pg_dir="$(mktemp -d /tmp/runtimeai-pg.XXXXXX)"
if RUNTIMEAI_TEST_POSTGRES="$(bash scripts/postgres.sh start "$pg_dir")"; then
  export RUNTIMEAI_TEST_POSTGRES; trap 'bash scripts/postgres.sh stop "$pg_dir"' EXIT
else
  echo "-- PostgreSQL did not start: its tests are skipped with the reason"; rm -rf "$pg_dir"
fi

echo "== unit, contract and end-to-end tests"
for project in tests/*/*.csproj; do
  name="$(basename "$project" .csproj)"
  echo "-- $name"
  dotnet test "$project" -c Release --no-build -nologo --filter "Category!=Qemu" \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" -v quiet || failures=$((failures + 1))
done

echo "== benchmark smoke runs (each bench/ project in its --smoke mode: seconds, one test each)"
for project in bench/*/*.csproj; do
  name="$(basename "$project" .csproj)"
  if dotnet run -c Release --no-build --project "$project" -- --smoke >"$results/$name.smoke.txt" 2>&1; then
    extra_passed=$((extra_passed + 1)); echo "-- $name: ok"
  else
    extra_failed=$((extra_failed + 1)); echo "-- $name: FAILED"; tail -5 "$results/$name.smoke.txt"
  fi
done

if [ -x scripts/qemu-tier.sh ] || [ -f scripts/qemu-tier.sh ]; then
  echo "== real hypervisor tier (libvirtd + qemu)"
  RESULTS_DIR="$results" CONFIGURATION=Release bash scripts/qemu-tier.sh || failures=$((failures + 1))
fi

echo "== MCP conformance suite (official, npm)"
conf_log="$results/conformance.txt"
bash scripts/conformance.sh "$root/src/RuntimeAI.Host/bin/Release/net10.0/runtimeai" 2>&1 | tee "$conf_log"
[ "${PIPESTATUS[0]}" -eq 0 ] || failures=$((failures + 1))
if line="$(grep -o 'conformance total: [0-9]* passed, [0-9]* failed, [0-9]* skipped' "$conf_log")"; then
  read -r p f s < <(echo "$line" | sed -E 's/conformance total: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped/\1 \2 \3/')
  extra_passed=$((extra_passed + p)); extra_failed=$((extra_failed + f)); extra_skipped=$((extra_skipped + s))
else
  extra_failed=$((extra_failed + 1))
fi

# Sum the counters of every TRX file (one per test project and tier).
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  # xunit.v3 leaves the Counters' notExecuted at 0 for Assert.Skip: count the skipped results instead.
  skipped=$((skipped + $(grep -o '<UnitTestResult [^>]*outcome="NotExecuted"' "$trx" | wc -l)))
done
passed=$((passed + extra_passed)); failed=$((failed + extra_failed)); skipped=$((skipped + extra_skipped))

# What failed and why, from the TRX files: the console logger at quiet verbosity prints only the names.
if [ "$failed" -gt 0 ] && command -v python3 >/dev/null; then
  echo "== failures"
  python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for trx in sorted(glob.glob(sys.argv[1] + "/*.trx")):
    for r in ET.parse(trx).getroot().iterfind(".//t:UnitTestResult", ns):
        if r.get("outcome") not in ("Failed", "Error", "Timeout", "Aborted"):
            continue
        message = r.findtext(".//t:ErrorInfo/t:Message", "", ns).strip()
        stack = r.findtext(".//t:ErrorInfo/t:StackTrace", "", ns).strip().splitlines()[:3]
        print("-- FAILED " + r.get("testName", "?"))
        print("\n".join(("   " + line) for line in (message[:4000].splitlines() + stack)))
PY
fi
if [ "$failed" -eq 0 ] && [ "$failures" -gt 0 ]; then failed=$failures; fi

echo "$passed passed, $failed failed, $skipped skipped"
if [ "$passed" -eq 0 ] || [ "$failed" -gt 0 ] || [ "$failures" -gt 0 ]; then exit 1; fi
exit 0
