/**
 * Runs every benchmark, one after the other, each in its own process (so one cannot skew the
 * memory figures of the next). The figures each prints are what `bench/RESULTS.md` records.
 *
 *   pnpm bench              all of them
 *   pnpm bench drawing cme  only those whose file name starts with one of the words
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  'drawing.ts',
  'http-client-cost.ts',
  'cme-ticket-expiry.ts',
  'http-enqueue.ts',
  'batch-enqueue.ts',
  'batch-cancel.ts',
  'fairness.ts',
  'redis-memory.ts',
  'pending-100k.ts',
  'cluster-throughput.ts',
];
const wanted = process.argv.slice(2);
const selected = BENCHES.filter(
  (file) => wanted.length === 0 || wanted.some((word) => file.startsWith(word)),
);
if (selected.length === 0) {
  console.error(`no benchmark matches ${wanted.join(', ')}; known: ${BENCHES.join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const file of selected) {
  console.log(`\n## ${file}\n`);
  const path = fileURLToPath(new URL(file, import.meta.url));
  const run = spawnSync(process.execPath, [path], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.error(`${file} exited with ${run.status ?? run.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
