// Writes docs/scenario.schema.json, the published JSON Schema of scenario files, from the
// contract's TypeBox schema (run after the build: npm run schema:scenario).
// test/control/scenarios/scenario-file.test.ts fails when the file and the schema drift apart.
import { writeFileSync } from 'node:fs';
import { ScenarioSchema } from '../dist/electron/scenario-spec.js';

const schema = { $schema: 'http://json-schema.org/draft-07/schema#', ...JSON.parse(JSON.stringify(ScenarioSchema)) };
writeFileSync(new URL('../docs/scenario.schema.json', import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);
console.log('wrote docs/scenario.schema.json');
