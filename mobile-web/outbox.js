// The offline outbox: every write the worker makes is stored here first, in
// IndexedDB, and sent to the server by a sync loop when the network allows.
//
// Plain JS rather than Rust: IndexedDB, Blob storage, FormData and fetch are
// browser APIs that would cost many kilobytes of wasm bindings for no gain.
// The wasm app (src/outbox.rs) imports this file through wasm-bindgen, which
// copies it next to the glue (`snippets/…/outbox.js`); the service worker
// (sw.js, a module worker) imports the same file to sync with no page open,
// so nothing here may assume a `window`.
//
// Items (object store `items`, key `id`): one write each, with
//   { id, kind, label, child_id, user, state, stage, created_at, seq,
//     attempts, error, result, resolved } and, by kind:
//   'registration': child (NewChild JSON, id = item id), decision, photo,
//                   left, right (Blob | null), photo_id
//   'iris':         left, right → POST /children/{child_id}/iris
//   'photo':        photo (id = item id) → POST /children/{child_id}/photos
//   'json', 'encounter': method, path, body (JSON string)
// state: 'pending' | 'conflict' | 'failed' | 'done'; stage: 'child' | 'photo'
// | 'done' (what a registration still has to send; 'child' for the others).
// Photos and iris captures stay blobs until uploaded. A done item keeps only
// what the list needs and nothing personal (see `strip`): no body, label,
// blob or candidate name stays on a shared phone once the server has it.
// Store `meta` keeps the bearer token and its user for the service worker.
//
// One queue per user: every item carries the id of the user who queued it
// (`user`); only that user's items are listed and sent, so nobody sends
// another's work under their own name. Items from before this field belong
// to the first user who logs in (as do items queued while no user was known).
// Logging out deletes that user's sent items
// (`outboxLogout`); unsent ones stay for their author's next login (the app
// asks before logging out with unsent work).
//
// Sending is idempotent: every create carries a client id, so a retry after a
// lost answer gets 200 with the stored record instead of a second record.
// 200/201 → done. 409 → `conflict`, kept with the server's `stored` record and
// `conflicts` ([{field, stored, yours}] for a PATCH), never retried by itself
// (outboxResolve settles it). Other 4xx → `failed`, retried when the worker
// asks (a registration whose iris capture was refused can be sent without it,
// outboxSendWithoutIris). Network errors, 408, 429 and 5xx are temporary:
// the item stays pending and the sync is retried on the `online` event,
// periodically (15 s, doubled after each failed try up to 5 min) and by
// Background Sync. 401 → the sync stops until the app gives a new token (the
// queue is kept). Items waiting on a registration that failed or is in
// conflict are reported with `blocked_by`.

import { downscalePhoto } from './outbox-photo.js';
import { allItems, deleteItems, getItem, putItem, putItems, readToken, readUser, writeToken } from './outbox-store.js';

export const SYNC_TAG = 'kudakyar-outbox';
const RETRY_MS = 15_000;
/** The longest wait between periodic tries after temporary failures. */
const MAX_RETRY_MS = 300_000;
/** Requests in flight at once: the server handles them in parallel, and a
 *  phone's connection carries a few at a time well (HTTP/1.1 allows 6). */
let concurrency = 6;
/** At most this often a status report during a sync, plus REPORT_MS_PER_ITEM
 *  for each item the last report listed: a report reads and serialises the
 *  whole queue and the page redraws its list, so with 1,000 items reports
 *  every 250 ms would take the main thread from the sync itself (what that
 *  costs: BENCHMARKS.md, "The PWA's sync"). A handful of items is still
 *  reported within a quarter of a second. */
const REPORT_MS = 250;
const REPORT_MS_PER_ITEM = 2;

let token = null;
let user = null; // the id of the user the token belongs to
let retryMs = RETRY_MS; // the periodic sync's current interval (backoff)
let nextTry = 0; // ms: the periodic sync waits until then
let listener = null;
let syncing = false;
let again = false;
let seq = 0;
let lastSync = null; // ms of the last sync that reached the server
let lastError = null; // { kind: 'network' | 'unauthorized' | 'server', status }
let reportTimer = null;
let reports = 0;
/** How many items the last report listed (see REPORT_MS_PER_ITEM). */
let reportedItems = 0;
let syncRequest = null; // a Background Sync request under way
const inWorker = typeof window === 'undefined';
// Tells the other contexts (the page, the service worker) that the queue
// changed, so a page shows what a background sync did.
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(SYNC_TAG) : null;

/** Requests in flight at once (default 6); for `cargo xtask bench-sync`. */
export function outboxSetConcurrency(n) {
  concurrency = Math.max(1, n | 0);
}

/** A new client id (UUID v4). */
export function newId() {
  return crypto.randomUUID();
}

/** Now, as RFC 3339 (UTC). */
export function nowIso() {
  return new Date().toISOString();
}

/**
 * The phone's position as JSON `{lat, lng, accuracy}`; rejects when the
 * worker refused it or no fix came within 20 s. GPS needs no network.
 */
export function currentPosition() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(new Error('no geolocation'));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve(JSON.stringify({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy: p.coords.accuracy })),
      (err) => reject(new Error(err.message)),
      { enableHighAccuracy: true, timeout: 20_000, maximumAge: 60_000 },
    );
  });
}

const byAge = (a, b) => a.created_at - b.created_at || (a.seq ?? 0) - (b.seq ?? 0);

/** Where an item goes; older encounter items carry neither field. */
function target(item) {
  switch (item.kind) {
    case 'registration':
      return ['POST', item.left || item.right ? '/api/v1/registrations' : '/api/v1/children'];
    case 'iris':
      return ['POST', `/api/v1/children/${item.child_id}/iris`];
    case 'photo':
      return ['POST', `/api/v1/children/${item.child_id}/photos`];
    default:
      return [item.method ?? 'POST', item.path ?? `/api/v1/children/${item.child_id}/encounters`];
  }
}

/**
 * What the sync learns about items (sent, failed, in conflict) is written in
 * batches: one IndexedDB transaction per item cost the page more than its
 * request did (`cargo xtask bench-sync`: about a third of the main thread's
 * time at 1,000 records). Batches are written one after another, each with
 * what was saved until its turn came. A crash before a batch is stored means
 * its items are sent again, as a crash between an answer and its write
 * always did: the server's writes are idempotent (creates by client id, an
 * update already applied is a no-op). A batch that fails goes back into the
 * next one, so the sync's wait in `saved` sees the failure and stops.
 */
const unsaved = new Map();
let writing = Promise.resolve(); // the newest batch's write
let batchOpen = false; // a batch is waiting for its turn: saves join it

function save(item) {
  unsaved.set(item.id, item);
  startBatch();
}

function startBatch() {
  if (batchOpen) return;
  batchOpen = true;
  writing = writing
    .catch(() => {}) // an earlier batch's failure was its waiters' to hear
    .then(async () => {
      batchOpen = false;
      const batch = [...unsaved.values()];
      unsaved.clear();
      try {
        await putItems(batch);
      } catch (err) {
        // Kept for the next batch, unless saved again meanwhile.
        for (const item of batch) if (!unsaved.has(item.id)) unsaved.set(item.id, item);
        throw err;
      }
    });
  writing.catch(() => {}); // heard through `saved`, not as unhandled
}

/**
 * Resolves once every item saved so far is stored (not those saved later);
 * rejects if that failed. Items left over from a failed batch are tried again.
 */
function saved() {
  if (unsaved.size) startBatch();
  return writing;
}

/** Tells the app what the queue looks like now (a JSON string, see src/outbox.rs). */
async function report() {
  if (reportTimer) {
    clearTimeout(reportTimer);
    reportTimer = null;
  }
  if (!listener) return;
  // Reports overlap (each awaits IndexedDB): only the newest one is told.
  const generation = ++reports;
  const all = await saved()
    .catch(() => {}) // the sync reports a failed save; the list shows what is stored
    .then(allItems)
    .catch(() => []);
  if (generation !== reports) return;
  const items = all.filter(mine);
  reportedItems = items.length;
  items.sort(byAge);
  const byId = new Map(items.map((i) => [i.id, i]));
  const status = {
    pending: items.filter((i) => i.state === 'pending').length,
    syncing,
    online: navigator.onLine,
    last_sync: lastSync,
    error: lastError,
    items: items.map((i) => {
      const [method, path] = target(i);
      return {
        id: i.id,
        kind: i.kind,
        label: i.label ?? '', // a sent item keeps none
        state: i.state,
        method,
        path,
        child_id: i.child_id ?? null,
        // What the worker wrote, for building a replacement after a 409.
        body: i.state === 'conflict' ? (i.body ?? i.child ?? null) : null,
        // A failed registration with captures can be sent without them.
        has_iris: Boolean(i.left || i.right),
        blocked_by: blocker(i, byId)?.id ?? null,
        resolved: i.resolved ?? false,
        error: i.error ?? null,
        result: i.result ?? null,
      };
    }),
  };
  listener(JSON.stringify(status));
}

/** Is this item the logged-in user's? */
const mine = (item) => user !== null && item.user === user;

/**
 * The registration `item` waits on when that one was refused (failed or in
 * conflict) before creating the child: nothing about the child can go until
 * the worker settles it.
 */
function blocker(item, byId) {
  const parent = item.child_id && item.child_id !== item.id ? byId.get(item.child_id) : null;
  return parent?.kind === 'registration' && parent.stage === 'child' && (parent.state === 'failed' || parent.state === 'conflict')
    ? parent
    : null;
}

/** What a done item keeps: what the list shows, nothing about the child. */
const KEEP = new Set(['id', 'kind', 'child_id', 'user', 'state', 'stage', 'created_at', 'seq', 'attempts', 'resolved', 'result', 'method', 'path']);

/** Drops a done item's body, label and blobs (names, national code, phone, GPS, notes). */
function strip(item) {
  for (const key of Object.keys(item)) if (!KEEP.has(key)) delete item[key];
  item.error = null;
  if (item.result?.candidates) {
    // Other children's names stay on the server: the code finds the record.
    item.result.candidates = item.result.candidates.map(({ registry_code, distance }) => ({ registry_code, distance }));
  }
  return item;
}

/** A report soon, one per interval at most (many changes in a burst). */
function reportSoon() {
  if (listener && !reportTimer) {
    reportTimer = setTimeout(report, REPORT_MS + REPORT_MS_PER_ITEM * reportedItems);
  }
}

/**
 * Starts the outbox in the page: `onStatus(json)` is called with the queue's
 * state now and after every change; sync runs when the network returns and
 * every 15 s.
 */
export function outboxStart(onStatus) {
  listener = onStatus;
  self.addEventListener('online', () => { report(); outboxSync(); });
  self.addEventListener('offline', () => report());
  if (channel) channel.onmessage = () => reportSoon();
  setInterval(() => {
    if (Date.now() >= nextTry) outboxSync();
  }, RETRY_MS);
  report();
}

/**
 * The bearer token to send with and the id of its user, whose items alone
 * are listed and sent; `null` (logged out) pauses the sync. Kept in
 * IndexedDB too, for the service worker's background sync. A token whose
 * user is not known yet (a session being restored) sends nothing.
 */
export function outboxSetToken(value, userId) {
  token = value ?? null;
  user = token ? (userId ?? null) : null;
  if (token && lastError?.kind === 'unauthorized') lastError = null;
  const owner = user;
  writeToken(token, user)
    .then(() => owner && tidy(owner))
    .catch((err) => console.warn('outbox token', err))
    .then(() => {
      report();
      outboxSync();
    });
}

/**
 * Gives items queued before queues were per user to `owner`, and strips
 * done items stored before bodies were dropped.
 */
async function tidy(owner) {
  await saved();
  const fix = (await allItems()).filter((i) => i.user == null || (i.state === 'done' && (i.label !== undefined || i.body || i.child)));
  for (const item of fix) {
    if (item.user == null) item.user = owner;
    if (item.state === 'done') strip(item);
  }
  if (fix.length) await putItems(fix);
}

/**
 * Logging out: deletes the user's sent items from the phone and forgets the
 * token. Unsent items stay for the user's next login (the app asks first).
 */
export async function outboxLogout() {
  const leaving = user;
  await saved();
  const sent = (await allItems()).filter((i) => i.state === 'done' && i.user === leaving);
  await deleteItems(sent.map((i) => i.id));
  outboxSetToken(null);
}

/**
 * Queues a child registration; resolves once it is safely stored. `decision`
 * is the registration's `decision` field: 'unreviewed' (nobody saw duplicate
 * candidates, e.g. offline) or 'new_child' (the worker saw them and said
 * this is another child). The photo is downscaled first; iris captures are
 * kept as they are (the iris engine needs every pixel).
 */
export async function outboxEnqueueRegistration(label, childJson, photo, left, right, decision) {
  const child = JSON.parse(childJson);
  const small = await downscalePhoto(photo ?? null);
  await enqueue({
    id: child.id,
    kind: 'registration',
    label,
    child_id: child.id,
    child: childJson,
    decision: decision || 'unreviewed',
    photo: small,
    left: left ?? null,
    right: right ?? null,
    photo_id: small ? newId() : null,
  });
}

/**
 * A registration refused because of its iris captures (e.g. 422, unusable):
 * drops the captures and sends the child's facts alone, so that what is
 * queued about the child can follow. Iris can be added later from the record.
 */
export async function outboxSendWithoutIris(id) {
  await saved();
  const item = await getItem(id);
  if (item?.kind === 'registration' && item.state === 'failed' && item.stage === 'child') {
    Object.assign(item, { left: null, right: null, state: 'pending', error: null });
    await putItem(item);
    changed();
  }
  lastError = null;
  await report();
  outboxSync();
}

/** Queues iris captures for an existing (or queued) child: «same child». */
export async function outboxEnqueueIris(label, childId, left, right) {
  await enqueue({ id: newId(), kind: 'iris', label, child_id: childId, left: left ?? null, right: right ?? null });
}

/** Queues a photo of a child, downscaled first, with its own client id. */
export async function outboxEnqueuePhoto(label, childId, photo) {
  await enqueue({ id: newId(), kind: 'photo', label, child_id: childId, photo: await downscalePhoto(photo) });
}

/**
 * Queues a JSON write (`method` to `path`, body a JSON string). The body's
 * `id`, when it has one, is the item's (the client id of a create). With a
 * `childId`, the write waits until that child's queued registration is sent.
 */
export async function outboxEnqueueJson(label, method, path, bodyJson, childId) {
  await enqueueJson('json', label, method, path, bodyJson, childId);
}

/** Queues an encounter (`NewEncounter` JSON with its client `id`) for a child. */
export async function outboxEnqueueEncounter(label, childId, bodyJson) {
  await enqueueJson('encounter', label, 'POST', `/api/v1/children/${childId}/encounters`, bodyJson, childId);
}

async function enqueueJson(kind, label, method, path, bodyJson, childId) {
  const { id } = JSON.parse(bodyJson);
  await enqueue({
    id: typeof id === 'string' && id ? id : newId(),
    kind,
    label,
    child_id: childId ?? null,
    method: method.toUpperCase(),
    path,
    body: bodyJson,
  });
}

/** Stores a new item, pending from its first stage, and starts a sync. */
async function enqueue(fields) {
  await putItem({
    ...fields,
    user,
    state: 'pending',
    stage: 'child',
    created_at: Date.now(),
    seq: seq++,
    attempts: 0,
    error: null,
    result: null,
  });
  reportSoon();
  requestBackgroundSync();
  outboxSync();
}

/** The worker asked to retry an item that failed: back to pending, then sync. */
export async function outboxRetry(id) {
  await saved();
  const item = await getItem(id);
  if (item && item.state !== 'done') {
    item.state = 'pending';
    item.error = null;
    await putItem(item);
  }
  lastError = null;
  await report();
  outboxSync();
}

/**
 * Settles a conflict. `null`: the worker keeps the server's values, the item
 * is done without being sent. A JSON string: it replaces the item's body (a
 * registration's child), e.g. a PATCH with the server's current version as
 * `base_version` and the values the worker chose, and is sent again.
 */
export async function outboxResolve(id, replacementJson) {
  await saved();
  const item = await getItem(id);
  if (!item || item.state === 'done') return;
  if (replacementJson == null) {
    strip(Object.assign(item, { state: 'done', stage: 'done', resolved: true }));
  } else {
    if (item.kind === 'registration') item.child = replacementJson;
    else item.body = replacementJson;
    item.state = 'pending';
    item.error = null;
  }
  await putItem(item);
  changed();
  await report();
  outboxSync();
}

/**
 * Asks the browser for a Background Sync (where it has one): it wakes the
 * service worker to sync once the network is back, even with no page open.
 * From the page only: in the worker, a failed `sync` event is retried by the
 * browser itself, with back-off. Requests in a burst share one call.
 */
function requestBackgroundSync() {
  if (inWorker || syncRequest) return;
  syncRequest = (async () => {
    const reg = await navigator.serviceWorker?.getRegistration();
    await reg?.sync?.register(SYNC_TAG);
  })()
    // Not fatal: the page syncs on `online` and every 15 s anyway.
    .catch((err) => console.warn('background sync', err))
    .finally(() => { syncRequest = null; });
}

function changed() {
  channel?.postMessage('changed');
}

/**
 * For the service worker's `sync` event: sends what is pending with the
 * token kept in IndexedDB. Rejects when the network failed, so the browser
 * retries later.
 */
export async function outboxBackgroundSync() {
  token = await readToken();
  user = token ? await readUser() : null;
  const outcome = await outboxSync();
  if (outcome === 'stopped' && lastError?.kind !== 'unauthorized') {
    throw new Error(`outbox: sync stopped (${lastError?.kind})`);
  }
  return outcome;
}

/**
 * Sends what is pending, oldest first, several at a time; resolves to
 * 'done', 'stopped' (network, server or session trouble), 'busy' (another
 * context is syncing) or 'idle' (no token or offline).
 */
export async function outboxSync() {
  if (syncing) {
    again = true;
    return 'busy';
  }
  if (!token || !user || !navigator.onLine) return 'idle';
  syncing = true;
  reportSoon();
  let outcome = 'done';
  try {
    // One sync at a time across the page and the service worker: both read
    // the same queue, and a doubled send, though harmless, wastes a phone's
    // bandwidth.
    const run = async (lock) => (lock === null ? 'busy' : syncPasses());
    outcome = navigator.locks
      ? await navigator.locks.request(SYNC_TAG, { ifAvailable: true }, run)
      : await syncPasses();
  } catch (err) {
    lastError = { kind: 'network', status: null };
    outcome = 'stopped';
    console.warn('outbox sync', err);
  } finally {
    syncing = false;
    changed();
    await report();
  }
  if (outcome === 'stopped' && lastError?.kind !== 'unauthorized') {
    // Temporary trouble: the periodic try backs off, doubling each time.
    nextTry = Date.now() + retryMs;
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    requestBackgroundSync();
  } else if (outcome === 'done') {
    retryMs = RETRY_MS;
    nextTry = 0;
  }
  return outcome;
}

async function syncPasses() {
  let outcome;
  do {
    again = false;
    outcome = await syncPass();
  } while (outcome === 'done' && again && token && user && navigator.onLine);
  return outcome;
}

/**
 * One pass over the pending items. Items about one child form a lane, sent
 * in order; lanes go in parallel, `concurrency` at a time. A write about a
 * child waits until that child's queued registration has created it.
 */
async function syncPass() {
  await saved();
  const all = await allItems();
  const byId = new Map(all.map((i) => [i.id, i]));
  const lanes = new Map();
  // Only the logged-in user's items: another's would go under this token.
  const owner = user;
  for (const item of all.filter((i) => i.state === 'pending' && i.user === owner).sort(byAge)) {
    const key = item.child_id ?? item.id;
    if (!lanes.has(key)) lanes.set(key, []);
    lanes.get(key).push(item);
  }
  const queue = [...lanes.values()];
  let stopped = false;
  const ready = (item) => {
    const parent = item.child_id && item.child_id !== item.id ? byId.get(item.child_id) : null;
    return !parent || parent.kind !== 'registration' || parent.stage !== 'child';
  };
  const worker = async () => {
    while (!stopped && queue.length) {
      for (const item of queue.shift()) {
        if (stopped || user !== owner) return; // logged out meanwhile
        if (!ready(item)) continue;
        if ((await send(item)) === 'stop') stopped = true;
        reportSoon();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await saved();
  return stopped ? 'stopped' : 'done';
}

/** Sends one item; 'stop' when the rest should wait (offline, logged out). */
async function send(item) {
  item.attempts += 1;
  try {
    if (item.kind === 'registration') {
      if (item.stage === 'child') {
        const res = item.left || item.right ? await postRegistration(item) : await postJson('POST', '/api/v1/children', item.child);
        if (!(await settle(item, res, summary))) return verdict(item, res);
        item.stage = 'photo';
        // A crash during the photo's upload must not send the child again.
        if (item.photo) save(item);
      }
      if (item.stage === 'photo' && item.photo) {
        const res = await postPhoto(item.child_id, item.photo_id, item.photo);
        if (!(await settle(item, res, null))) return verdict(item, res);
      }
    } else if (item.kind === 'photo') {
      const res = await postPhoto(item.child_id, item.id, item.photo);
      if (!(await settle(item, res, () => null))) return verdict(item, res);
    } else if (item.kind === 'iris') {
      const form = captures(item);
      const res = await call(target(item)[1], { method: 'POST', body: form });
      if (!(await settle(item, res, (body) => ({ candidates: candidates(body) })))) return verdict(item, res);
    } else {
      const [method, path] = target(item);
      const res = await postJson(method, path, item.body);
      if (!(await settle(item, res, () => null))) return verdict(item, res);
    }
  } catch (err) {
    // fetch itself failed: no network, or the server is down.
    lastError = { kind: 'network', status: null };
    save(item);
    return 'stop';
  }
  strip(Object.assign(item, { state: 'done', stage: 'done' }));
  lastSync = Date.now();
  lastError = null;
  save(item);
  return 'ok';
}

const call = (path, init) =>
  fetch(path, {
    ...init,
    headers: { accept: 'application/json, application/problem+json', authorization: `Bearer ${token}`, ...(init.headers || {}) },
  });

const postJson = (method, path, body) => call(path, { method, headers: { 'content-type': 'application/json' }, body });

function postPhoto(childId, photoId, photo) {
  const form = new FormData();
  form.append('id', photoId);
  form.append('photo', photo, 'photo');
  return call(`/api/v1/children/${childId}/photos`, { method: 'POST', body: form });
}

function captures(item) {
  const form = new FormData();
  if (item.left) form.append('left', item.left, 'left');
  if (item.right) form.append('right', item.right, 'right');
  return form;
}

function postRegistration(item) {
  const form = captures(item);
  form.append('child', item.child);
  form.append('decision', item.decision || 'unreviewed');
  return call('/api/v1/registrations', { method: 'POST', body: form });
}

const candidates = (body) =>
  (body.matches?.candidates ?? []).map((c) => ({
    registry_code: c.registry_code,
    name: [c.given_name, c.family_name].filter(Boolean).join(' '),
    distance: c.distance,
  }));

/** What the worker needs from a create's answer (a Child or a Registration). */
function summary(body) {
  const child = body.child ?? body;
  return {
    registry_code: child.registry_code ?? null,
    identity: child.identity ?? 'confirmed',
    candidates: candidates(body),
  };
}

/**
 * True on 200/201, keeping what the worker needs of the answer in the item
 * (stored with it by `send`); false leaves `verdict` to decide.
 */
async function settle(item, res, toResult) {
  if (res.status !== 200 && res.status !== 201) return false;
  lastSync = Date.now();
  if (toResult) {
    const body = await res.json().catch(() => ({}));
    item.result = toResult(body);
  }
  return true;
}

/** Files a non-2xx answer: conflict, failure, or wait and retry. */
async function verdict(item, res) {
  const problem = await res.json().catch(() => null);
  item.error = {
    status: res.status,
    detail: problem?.detail ?? null,
    stored: problem?.stored ?? null,
    conflicts: problem?.conflicts ?? null,
  };
  // Temporary: the session (401), or the server busy, slow or down. A 408
  // is an upload the server gave up on: the same item is sent again.
  if (res.status === 401 || res.status === 408 || res.status === 429 || res.status >= 500) {
    lastError = res.status === 401 ? { kind: 'unauthorized', status: 401 } : { kind: 'server', status: res.status };
    save(item);
    return 'stop';
  }
  item.state = res.status === 409 ? 'conflict' : 'failed';
  lastSync = Date.now();
  save(item);
  return 'ok';
}
