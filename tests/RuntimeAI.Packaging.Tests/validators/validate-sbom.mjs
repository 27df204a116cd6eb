// Validates a CycloneDX JSON document against the schema of the spec version it declares, with the
// CycloneDX library's strict validator. Prints "valid" and exits 0, or prints each error and exits 1.
import { readFileSync } from 'node:fs';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';

const text = readFileSync(process.argv[2], 'utf8');
const declared = JSON.parse(text).specVersion;
const version = Object.values(Spec.Version).find(v => v === declared);
if (version === undefined) {
  console.log(`specVersion ${declared} is not one the CycloneDX library knows`);
  process.exit(1);
}
const errors = await new Validation.JsonStrictValidator(version).validate(text);
if (errors === null) {
  console.log(`valid CycloneDX ${version}`);
} else {
  console.log(JSON.stringify(errors, null, 1));
  process.exit(1);
}
