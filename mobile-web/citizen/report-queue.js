// The citizens' outbox: reports wait here (IndexedDB `kudakyar-reports`)
// until the server has them, so a report made without network is sent later
// from the page or, with no page open, from the service worker (report-sw.js).
//
// Stores:
// - `queue`: { id, report, photo (Blob | null), queued_at, state, error? }
//   state `pending` (sent when possible) or `failed` (the server refused it
//   for a reason retrying cannot fix; shown to the reporter with its message).
// - `sent`: { id, receipt_code, received_at } — the reporter's own receipts,
//   so the status page can list them.
//
// Sending is safe to repeat: the server keys a report by its client id and
// answers a retry with the first receipt (the photo is stored downscaled once,
// so a retry sends the same bytes). One sync at a time across the page and
// the service worker (Web Locks).

const DB_NAME = 'kudakyar-reports';
const LOCK = 'kudakyar-reports-sync';
export const SYNC_TAG = 'kudakyar-reports';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let opened;
function db() {
  opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore('queue', { keyPath: 'id' });
      req.result.createObjectStore('sent', { keyPath: 'id' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opened;
}

async function store(name, mode = 'readonly') {
  return (await db()).transaction(name, mode).objectStore(name);
}

/** Queues a report (and its already downscaled photo). */
export async function enqueue(report, photo) {
  const item = { id: report.id, report, photo: photo || null, queued_at: Date.now(), state: 'pending' };
  await request((await store('queue', 'readwrite')).put(item));
  return item;
}

export async function queued() {
  return request((await store('queue')).getAll());
}

export async function receipts() {
  return request((await store('sent')).getAll());
}

/**
 * Sends every pending report. `solve(challenge, difficulty)` finds a
 * proof-of-work nonce when the server asks for one. Returns
 * `{ sent: [receipt…], failed: [item…], waiting: n }`; `waiting` counts the
 * reports kept for later (no network, server busy or limiting).
 */
export async function sendAll(solve) {
  const run = async () => {
    const result = { sent: [], failed: [], waiting: 0 };
    for (const item of await queued()) {
      if (item.state !== 'pending') continue;
      const outcome = await sendOne(item, solve);
      if (outcome.receipt) {
        const tx = (await db()).transaction(['queue', 'sent'], 'readwrite');
        tx.objectStore('sent').put({ id: item.id, receipt_code: outcome.receipt.receipt_code, received_at: outcome.receipt.received_at });
        tx.objectStore('queue').delete(item.id);
        await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
        result.sent.push(outcome.receipt);
      } else if (outcome.problem) {
        const failed = { ...item, state: 'failed', error: outcome.problem };
        await request((await store('queue', 'readwrite')).put(failed));
        result.failed.push(failed);
      } else {
        result.waiting += 1;
        // The server limits this address for a while: the rest would be refused too.
        if (outcome.stop) break;
      }
    }
    return result;
  };
  return navigator.locks ? navigator.locks.request(LOCK, run) : run();
}

async function post(report, photo) {
  if (photo) {
    const form = new FormData();
    form.append('report', new Blob([JSON.stringify(report)], { type: 'application/json' }));
    form.append('photo', photo, 'photo');
    return fetch('/api/v1/sightings', { method: 'POST', body: form });
  }
  return fetch('/api/v1/sightings', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(report),
  });
}

/** `{receipt}`, `{problem}` (give up) or `{}` / `{stop: true}` (try later). */
async function sendOne(item, solve) {
  let report = item.report;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    let res;
    try {
      res = await post(report, item.photo);
    } catch {
      return { stop: true }; // no network
    }
    if (res.status === 200 || res.status === 201) return { receipt: await res.json() };
    const problem = await res.json().catch(() => null);
    // Past the soft limit the server asks for a proof-of-work stamp. The
    // stamp is not part of the report's identity, so the retry with it is
    // still the same report.
    if (res.status === 422 && problem?.errors?.proof && attempt === 0 && solve) {
      try {
        const challenge = await (await fetch('/api/v1/sightings/challenge')).json();
        const nonce = await solve(challenge.challenge, challenge.difficulty);
        report = { ...item.report, proof: { challenge: challenge.challenge, nonce } };
        continue;
      } catch {
        return { stop: true };
      }
    }
    if (res.status === 429) return { stop: true };
    if (res.status === 408 || res.status >= 500) return {};
    return { problem: problem || { status: res.status, detail: res.statusText } };
  }
  return {};
}
