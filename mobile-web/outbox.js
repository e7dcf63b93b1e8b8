// The offline outbox: every write the worker makes is stored here first, in
// IndexedDB, and sent to the server by a sync loop when the network allows.
//
// Plain JS rather than Rust: IndexedDB, Blob storage, FormData and fetch are
// browser APIs that would cost many kilobytes of wasm bindings for no gain.
// The wasm app (src/outbox.rs) imports this file through wasm-bindgen, which
// copies it next to the glue (`snippets/…/outbox.js`); the precache list of
// the service worker includes it.
//
// Items (object store `items`, key `id` = the client UUID sent to the server):
//   { id, kind: 'registration', label, child: JSON string (NewChild with `id`),
//     photo, left, right: Blob | null, photo_id: UUID,
//     state: 'pending' | 'conflict' | 'failed' | 'done',
//     stage: 'child' | 'photo' (what is still to send),
//     created_at, attempts, error, result }
//   { id, kind: 'encounter', label, child_id, body: JSON string, ... }
// Photos and iris captures stay blobs in IndexedDB until uploaded; a done
// item keeps only its result (the blobs are dropped to free the phone).
//
// Sending is idempotent: every create carries the client id, so a retry after
// a lost answer gets 200 with the stored record instead of a second record.
// 200/201 → done. 409 (the id was used with other data) → `conflict`, kept
// and shown with the server's stored record, never retried by itself. Other
// 4xx → `failed`, shown, retried only when the worker asks. Network errors,
// 429 and 5xx → stay pending, retried on the `online` event and periodically.
// 401 → the sync stops until the app gives a new token (the queue is kept).

const DB_NAME = 'kudakyar-outbox';
const STORE = 'items';
const RETRY_MS = 15_000;

let dbPromise = null;
let token = null;
let listener = null;
let syncing = false;
let again = false;
let lastSync = null; // ms of the last sync that reached the server
let lastError = null; // { kind: 'network' | 'unauthorized' | 'server', status }

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

/** Runs `fn(store)` in a transaction and resolves with the last request's result. */
async function tx(mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    let result;
    const req = fn(t.objectStore(STORE));
    if (req) req.onsuccess = () => { result = req.result; };
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

const allItems = () => tx('readonly', (s) => s.getAll());
const putItem = (item) => tx('readwrite', (s) => s.put(item));

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

/** Tells the app what the queue looks like now (a JSON string, see src/outbox.rs). */
async function report() {
  if (!listener) return;
  const items = await allItems().catch(() => []);
  items.sort((a, b) => a.created_at - b.created_at);
  const status = {
    pending: items.filter((i) => i.state === 'pending').length,
    syncing,
    online: navigator.onLine,
    last_sync: lastSync,
    error: lastError,
    items: items.map((i) => ({
      id: i.id,
      kind: i.kind,
      label: i.label,
      state: i.state,
      error: i.error ?? null,
      result: i.result ?? null,
    })),
  };
  listener(JSON.stringify(status));
}

/**
 * Starts the outbox: `onStatus(json)` is called with the queue's state now and
 * after every change; sync runs when the network returns and every 15 s.
 */
export function outboxStart(onStatus) {
  listener = onStatus;
  window.addEventListener('online', () => { report(); outboxSync(); });
  window.addEventListener('offline', () => report());
  setInterval(() => outboxSync(), RETRY_MS);
  report();
}

/** The bearer token to send with; `null` (logged out) pauses the sync. */
export function outboxSetToken(value) {
  token = value ?? null;
  if (token && lastError?.kind === 'unauthorized') lastError = null;
  outboxSync();
}

/** Queues a child registration; resolves once it is safely stored. */
export async function outboxEnqueueRegistration(label, childJson, photo, left, right) {
  const child = JSON.parse(childJson);
  await enqueue({
    id: child.id,
    kind: 'registration',
    label,
    child: childJson,
    photo: photo ?? null,
    left: left ?? null,
    right: right ?? null,
    photo_id: photo ? newId() : null,
  });
}

/** Queues an encounter (`NewEncounter` JSON with its client `id`) for a child. */
export async function outboxEnqueueEncounter(label, childId, bodyJson) {
  const body = JSON.parse(bodyJson);
  await enqueue({ id: body.id, kind: 'encounter', label, child_id: childId, body: bodyJson });
}

/** Stores a new item, pending from its first stage, and starts a sync. */
async function enqueue(fields) {
  await putItem({
    ...fields,
    state: 'pending',
    stage: 'child',
    created_at: Date.now(),
    attempts: 0,
    error: null,
    result: null,
  });
  await report();
  outboxSync();
}

/** The worker asked to retry an item that failed: back to pending, then sync. */
export async function outboxRetry(id) {
  const item = await tx('readonly', (s) => s.get(id));
  if (item && item.state !== 'done') {
    item.state = 'pending';
    item.error = null;
    await putItem(item);
  }
  lastError = null;
  await report();
  outboxSync();
}

/** Sends what is pending, one item at a time, oldest first. */
export async function outboxSync() {
  if (syncing) {
    again = true;
    return;
  }
  if (!token || !navigator.onLine) return;
  syncing = true;
  await report();
  try {
    do {
      again = false;
      const items = (await allItems()).filter((i) => i.state === 'pending');
      items.sort((a, b) => a.created_at - b.created_at);
      for (const item of items) {
        const outcome = await send(item);
        if (outcome === 'stop') break;
        await report();
      }
    } while (again && token && navigator.onLine);
  } catch (err) {
    lastError = { kind: 'network', status: null };
    console.warn('outbox sync', err);
  } finally {
    syncing = false;
    await report();
  }
}

/** Sends one item; 'stop' when the rest should wait (offline, logged out). */
async function send(item) {
  item.attempts += 1;
  try {
    if (item.kind === 'registration') {
      if (item.stage === 'child') {
        const res = item.left || item.right ? await postRegistration(item) : await postChild(item);
        if (!(await settle(item, res, (body) => summary(body)))) return verdict(item, res);
        item.stage = 'photo';
      }
      if (item.stage === 'photo' && item.photo) {
        const form = new FormData();
        form.append('id', item.photo_id);
        form.append('photo', item.photo, 'photo');
        const res = await call(`/api/v1/children/${item.id}/photos`, { method: 'POST', body: form });
        if (!(await settle(item, res, null))) return verdict(item, res);
      }
    } else if (item.kind === 'encounter') {
      const res = await call(`/api/v1/children/${item.child_id}/encounters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: item.body,
      });
      if (!(await settle(item, res, () => ({})))) return verdict(item, res);
    }
  } catch (err) {
    // fetch itself failed: no network, or the server is down.
    lastError = { kind: 'network', status: null };
    await putItem(item);
    return 'stop';
  }
  item.state = 'done';
  item.stage = 'done';
  item.photo = item.left = item.right = null;
  item.error = null;
  lastSync = Date.now();
  lastError = null;
  await putItem(item);
  return 'ok';
}

const call = (path, init) =>
  fetch(path, {
    ...init,
    headers: { accept: 'application/json, application/problem+json', authorization: `Bearer ${token}`, ...(init.headers || {}) },
  });

function postChild(item) {
  return call('/api/v1/children', { method: 'POST', headers: { 'content-type': 'application/json' }, body: item.child });
}

function postRegistration(item) {
  const form = new FormData();
  form.append('child', item.child);
  form.append('decision', 'unreviewed');
  if (item.left) form.append('left', item.left, 'left');
  if (item.right) form.append('right', item.right, 'right');
  return call('/api/v1/registrations', { method: 'POST', body: form });
}

/** What the worker needs from a create's answer (a Child or a Registration). */
function summary(body) {
  const child = body.child ?? body;
  return {
    registry_code: child.registry_code ?? null,
    identity: child.identity ?? 'confirmed',
    candidates: (body.matches?.candidates ?? []).map((c) => ({
      registry_code: c.registry_code,
      name: [c.given_name, c.family_name].filter(Boolean).join(' '),
      distance: c.distance,
    })),
  };
}

/** True on 200/201 (recording the result); false leaves `verdict` to decide. */
async function settle(item, res, toResult) {
  if (res.status !== 200 && res.status !== 201) return false;
  lastSync = Date.now();
  if (toResult) {
    const body = await res.json().catch(() => ({}));
    item.result = toResult(body);
  }
  await putItem(item);
  return true;
}

/** Files a non-2xx answer: conflict, failure, or wait and retry. */
async function verdict(item, res) {
  const problem = await res.json().catch(() => null);
  const error = { status: res.status, detail: problem?.detail ?? null, stored: problem?.stored ?? null };
  if (res.status === 401) {
    lastError = { kind: 'unauthorized', status: 401 };
    item.error = error;
    await putItem(item);
    return 'stop';
  }
  if (res.status === 409) {
    item.state = 'conflict';
  } else if (res.status === 429 || res.status >= 500) {
    lastError = { kind: 'server', status: res.status };
    item.error = error;
    await putItem(item);
    return 'stop';
  } else {
    item.state = 'failed';
  }
  item.error = error;
  lastSync = Date.now();
  await putItem(item);
  return 'ok';
}
