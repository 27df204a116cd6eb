#!/usr/bin/env bash
# Fetches the official JSON-Schema-Test-Suite (npm package json-schema-test-suite, which carries
# the suite's draft3/draft4 JSON files) into .tools/json-schema-test-suite (gitignored).
# tests/RuntimeAI.Core.Tests/Schema/JsonSchemaTestSuiteTests.cs reads it and fails when it is absent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.tools/json-schema-test-suite"
version="0.0.10"
marker="$dest/node_modules/json-schema-test-suite/tests/draft4/type.json"

if [[ -f "$marker" ]] && grep -q "\"version\": \"$version\"" "$dest/node_modules/json-schema-test-suite/package.json"; then
  echo "json-schema-test-suite $version already present in $dest"
  exit 0
fi

command -v npm >/dev/null || { echo "npm is required: install Node.js (apt-get install nodejs npm) and rerun $0" >&2; exit 1; }
mkdir -p "$dest"
# A private package.json keeps npm from walking up into the repository.
[[ -f "$dest/package.json" ]] || echo '{ "name": "runtimeai-json-schema-test-suite", "private": true }' > "$dest/package.json"
npm install --prefix "$dest" --no-audit --no-fund --save-exact "json-schema-test-suite@$version" >&2
[[ -f "$marker" ]] || { echo "npm install finished but $marker is missing" >&2; exit 1; }
echo "json-schema-test-suite $version installed in $dest"
