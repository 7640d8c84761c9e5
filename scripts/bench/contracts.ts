/**
 * `pnpm bench contracts [--count N]`: cost of the contract checks on the send path of one decision
 * (`residence-decided`, annex 46): schema validation with the validator compiled once at start-up, against
 * the baseline of compiling the schema for each message; and validation plus the four recipients'
 * projections. Also the start-up cost of `loadContracts()` (read, check and compile everything).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSchemaCompiler, loadContracts } from '@passerelle/contracts';
import { machineLine } from './_util.js';

const arg = process.argv.indexOf('--count');
const COUNT = arg > 0 ? Number(process.argv[arg + 1]) : 20_000;
const NAIVE_COUNT = Math.max(20, Math.round(COUNT / 200));
const root = fileURLToPath(new URL('../../', import.meta.url));
const payload: unknown = JSON.parse(
  readFileSync(`${root}schemas/examples/residence-decided.v1/valid-annex-46-first-ict.json`, 'utf8'),
);

const loadStart = performance.now();
const contracts = await loadContracts({ root });
const loadMs = performance.now() - loadStart;

function rate(count: number, run: () => void): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) run();
  return count / ((performance.now() - start) / 1000);
}

// Baseline: a fresh compiler and compilation per message, what a validator built on demand would pay.
const common = contracts.definitions()[0]!.schema;
const schema = contracts.schemas().find((s) => s.type === 'residence-decided')!.schema;
const naiveRate = rate(NAIVE_COUNT, () => {
  const ajv = createSchemaCompiler();
  ajv.addSchema(common);
  if (!ajv.compile(schema)(payload)) throw new Error('baseline: example does not validate');
});
const validateRate = rate(COUNT, () => contracts.validate('residence-decided', 1, payload));
const kinds = ['regional-authority', 'consular-post', 'commune', 'portal'] as const;
const fullRate = rate(COUNT, () => {
  contracts.validate('residence-decided', 1, payload);
  for (const kind of kinds) contracts.project('residence-decided', kind, payload);
});

console.log(`### Contract checks (\`pnpm bench contracts --count ${COUNT}\`)

${new Date().toISOString().slice(0, 10)}, ${await machineLine()}; payload: \`residence-decided\` annex 46 example.

| | messages | rate |
|---|---:|---:|
| baseline: compile the schema for each message (ajv 2020, strict) | ${NAIVE_COUNT} | ${Math.round(naiveRate)} messages/s |
| \`validate\` with the validator compiled once at start-up | ${COUNT} | ${Math.round(validateRate)} messages/s |
| \`validate\` + 4 recipients' \`project\` | ${COUNT} | ${Math.round(fullRate)} messages/s |

Compiled once / compiled per message: **${Math.round(validateRate / naiveRate)}×**.
\`loadContracts()\` at start-up (${contracts.types().length} types: read, check, compile): ${loadMs.toFixed(0)} ms.
`);
