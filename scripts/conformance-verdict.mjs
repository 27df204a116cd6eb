// Reads the checks.json files the MCP conformance suite wrote and decides: every check must be
// SUCCESS (or SKIPPED/INFO), except the ones listed with a reason in expected-failures.json.
// An expected failure that now passes fails the run too, so a stale entry is removed when the SDK
// or the server fixes it. Prints one line per non-success check and a closing
// "conformance: N passed, N failed, N skipped".
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

// With --all-runs dirA,dirB (every run's output), an entry no scenario of any run ran is stale
// too: the check was renamed or removed, and the entry would hide nothing but itself.
// With --section NAME, the entries of that section of the file are expected failures too (e.g. the
// checks that need the suite's diagnostic tools, on the real server that has none).
const [outDir, baselinePath, ...rest] = process.argv.slice(2);
const option = (name) => { const i = rest.indexOf(name); return i >= 0 ? rest[i + 1] : undefined; };
const allRuns = option("--all-runs"), section = option("--section");
const baseline = JSON.parse(readFileSync(baselinePath, "utf8"));
const expected = { ...baseline.checks, ...(section ? baseline[section] : {}) };
const everyEntry = { ...baseline.checks, ...baseline.server_without_fixtures };
let passed = 0, failed = 0, skipped = 0, runs = 0;
const stillFailing = new Set(), nowPassing = new Set();
for (const run of readdirSync(outDir)) {
  const file = join(outDir, run, "checks.json");
  if (!existsSync(file)) continue;
  runs++;
  for (const check of JSON.parse(readFileSync(file, "utf8"))) {
    const label = `${run.replace(/-\d{4}-\d\d-\d\dT.*$/, "")} ${check.id}`;
    if (check.status === "SUCCESS" || check.status === "INFO") { passed++; if (expected[check.id]) nowPassing.add(check.id); continue; }
    if (check.status === "SKIPPED" || check.status === "WARNING") { skipped++; console.log(`  ${check.status.toLowerCase()}: ${label}`); continue; }
    if (expected[check.id]) { skipped++; stillFailing.add(check.id); console.log(`  expected failure: ${label} (${expected[check.id]})`); continue; }
    failed++;
    console.log(`  FAILED: ${label}: ${check.errorMessage ?? ""}`);
  }
}
for (const id of nowPassing) {
  if (stillFailing.has(id)) continue;
  failed++;
  console.log(`  FAILED: ${id} is listed in expected-failures.json but passes now: remove the entry`);
}
if (allRuns) {
  const seen = new Set();
  for (const dir of allRuns.split(",")) {
    if (!existsSync(dir)) continue;
    for (const run of readdirSync(dir)) {
      const file = join(dir, run, "checks.json");
      if (existsSync(file)) for (const check of JSON.parse(readFileSync(file, "utf8"))) seen.add(check.id);
    }
  }
  for (const id of Object.keys(everyEntry)) {
    if (seen.has(id)) continue;
    failed++;
    console.log(`  FAILED: ${id} is listed in expected-failures.json but no scenario ran it: remove the entry`);
  }
}
if (runs === 0) { console.log("conformance: no results found"); process.exit(1); }
console.log(`conformance: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
