import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/spec.js';
import { loadContract } from './contract.js';

// Prints how many documented (operationId, status) pairs the contract tests exercised, from the
// per-process records the harness appends, and which ones no test reached.
const dir = join(projectRoot(), '.tmp', 'contract-coverage');
const seen = new Set<string>();
for (const file of readdirSync(dir)) {
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean)) {
    const { spec, operationId, status } = JSON.parse(line) as { spec: string; operationId: string; status: number };
    seen.add(`${spec} ${operationId} ${status}`);
  }
}
let documented = 0;
let covered = 0;
const missing: string[] = [];
for (const spec of ['dockrev', 'supervisor'] as const) {
  for (const op of loadContract(spec).operations.values()) {
    for (const status of Object.keys(op.responses)) {
      documented += 1;
      if (seen.has(`${spec} ${op.operationId} ${status}`)) covered += 1;
      else missing.push(`${op.operationId} ${status}`);
    }
  }
}
console.log(`contract coverage: ${covered} of ${documented} documented (operationId, status) pairs exercised`);
if (missing.length > 0) console.log(`not exercised: ${missing.join(', ')}`);
if (process.argv.includes('--reset')) rmSync(dir, { recursive: true, force: true });
