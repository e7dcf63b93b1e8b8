// `cargo xtask chaos`: the full sync chaos run (chaos.mjs), 10,000
// operations by default (CHAOS_OPERATIONS), seed CHAOS_SEED (default 7), on
// SQLite, or on PostgreSQL with CHAOS_POSTGRES=1 (a fresh database on the
// server of KUDAKYAR_TEST_POSTGRES_URL).
// Prints one JSON line of figures; exits 1 when anything was lost, doubled
// or left unsent.

import { runChaos } from './chaos.mjs';

const operations = Number(process.env.CHAOS_OPERATIONS || 10_000);
const seed = Number(process.env.CHAOS_SEED || 7);
const postgres = process.env.CHAOS_POSTGRES === '1';
const result = await runChaos({ name: 'chaos', operations, seed, postgres });
const bad = result.lost.length + result.doubled.length + result.failed.length;
const shown = { ...result };
for (const key of ['lost', 'doubled', 'failed']) {
  shown[key] = result[key].length;
  if (result[key].length) console.error(`${key}:\n  ${result[key].slice(0, 50).join('\n  ')}`);
}
console.log(JSON.stringify(shown));
process.exit(bad ? 1 : 0);
