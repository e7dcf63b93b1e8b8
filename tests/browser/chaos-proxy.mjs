// A fault-injecting HTTP proxy on loopback, between the PWA in Chromium and
// the real server, for the sync chaos runs (sync-chaos.test.mjs and
// `cargo xtask chaos`, both through chaos.mjs).
//
// The page is loaded from the proxy's address, so every request the app makes
// goes through it. Reads, the login and the event stream pass untouched (and
// streamed, so the event stream works). Each write to the API (any method but
// GET and HEAD under /api/, the login aside) meets, by independent draws of a
// seeded generator, so that a run can be repeated:
//   - a delay of 1–5 s before anything else (`delay`);
//   - a dropped request (`requestDrop`): the connection is closed, the server
//     never hears of it;
//   - a duplicate (`duplicate`): the request goes to the server twice at
//     once, as a retrying middlebox would send it, and the first answer is
//     the one passed on;
//   - a dropped response (`responseDrop`): the server did the write, the
//     connection is closed before the answer reaches the phone.
// While the server is down (a restart), a write is answered 502 as a reverse
// proxy in front of a stopped server answers.
//
// Faults start off: `setFaults(true)` once the page is set up.

import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** A small seeded generator (mulberry32): the same seed, the same faults. */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The faults of the chaos run. */
export const FAULTS = { requestDrop: 0.2, responseDrop: 0.2, duplicate: 0.1, delay: 0.1, delayMs: [1000, 5000] };

/** Headers that describe one connection, not the message: never forwarded as they are. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade'];

/**
 * Starts the proxy in front of `upstream` (`http://127.0.0.1:PORT`).
 * Resolves to `{url, stats, setFaults(on), stop()}`; `stats` counts what
 * the faults did.
 */
export async function startChaosProxy(upstream, { seed = 1, faults = FAULTS } = {}) {
  const random = seeded(seed);
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const stats = { writes: 0, delayed: 0, requestsDropped: 0, duplicated: 0, responsesDropped: 0, serverDown: 0 };
  let faulty = false;

  const options = (req) => ({
    host: target.hostname,
    port: target.port,
    method: req.method,
    path: req.url,
    headers: req.headers,
    agent,
  });

  /** One copy of a buffered request to the server: its whole answer. */
  const send = (req, body) =>
    new Promise((resolve, reject) => {
      const out = http.request(options(req), (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      out.on('error', reject);
      out.end(body);
    });

  /** Streams a request through untouched (reads, the login, the event stream). */
  const pass = (req, res) => {
    const out = http.request(options(req), (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(out);
  };

  const isWrite = (req) =>
    faulty && !['GET', 'HEAD'].includes(req.method) && req.url.startsWith('/api/') && !req.url.startsWith('/api/v1/auth/');

  const server = http.createServer(async (req, res) => {
    if (!isWrite(req)) return pass(req, res);
    stats.writes += 1;
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    // Every draw is made for every write, in one order, so that a seed
    // gives the same faults whatever happened before.
    const [delayRoll, delayPick, dropRoll, duplicateRoll, lossRoll] = [random(), random(), random(), random(), random()];
    if (delayRoll < faults.delay) {
      stats.delayed += 1;
      const [low, high] = faults.delayMs;
      await sleep(low + delayPick * (high - low));
    }
    if (dropRoll < faults.requestDrop) {
      stats.requestsDropped += 1;
      return req.socket.destroy();
    }
    const copies = duplicateRoll < faults.duplicate ? 2 : 1;
    if (copies === 2) stats.duplicated += 1;
    const answers = await Promise.allSettled(Array.from({ length: copies }, () => send(req, body)));
    const first = answers[0];
    if (first.status === 'rejected') {
      stats.serverDown += 1;
      res.writeHead(502, { 'content-type': 'text/plain' });
      return res.end('the server is not answering');
    }
    if (lossRoll < faults.responseDrop) {
      stats.responsesDropped += 1;
      return req.socket.destroy();
    }
    const headers = Object.fromEntries(Object.entries(first.value.headers).filter(([k]) => !HOP_BY_HOP.includes(k)));
    headers['content-length'] = String(first.value.body.length);
    res.writeHead(first.value.status, headers);
    res.end(first.value.body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setFaults(on) {
      faulty = on;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}
