// Sync chaos, the short run of `cargo xtask test` (the full one is
// `cargo xtask chaos`): operations queued offline in the real outbox reach
// the real server through a proxy that drops 20% of the writes, drops 20% of
// the answers, sends 10% twice and holds 10% for 1–5 s, while the server is
// killed and started again halfway. Every operation must be on the server
// once: none lost, none doubled, none failed on the phone. On SQLite, and on
// a fresh PostgreSQL database when KUDAKYAR_TEST_POSTGRES_URL is set (always
// under CI=true). What runChaos does is in chaos.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { runChaos } from './chaos.mjs';
import * as h from './helpers.mjs';

const IN_CI = process.env.CI === 'true';

/** Runs the chaos and asserts what a good run is. */
async function chaos(name, postgres) {
  const result = await runChaos({ name, operations: 150, seed: 7, postgres });
  console.log(JSON.stringify(result));
  assert.deepEqual(result.failed, [], 'every item sent');
  assert.deepEqual(result.lost, [], 'nothing lost');
  assert.deepEqual(result.doubled, [], 'nothing doubled');
  assert.ok(result.restarted, 'the server was restarted mid-run');
  // The faults happened: a run without them proves nothing.
  for (const fault of ['requestsDropped', 'responsesDropped', 'duplicated', 'delayed']) {
    assert.ok(result.proxy[fault] > 0, `${fault}: ${JSON.stringify(result.proxy)}`);
  }
}

test('operations queued offline survive a faulty network and a server crash: none lost, none doubled (SQLite)', () =>
  chaos('sync-chaos', false));

test(
  'the same on PostgreSQL',
  { skip: !h.POSTGRES_URL && !IN_CI && 'KUDAKYAR_TEST_POSTGRES_URL is not set' },
  () => chaos('sync-chaos-postgres', true),
);
