// The outbox's IndexedDB database (`kudakyar-outbox`), shared by the page
// and the service worker (see outbox.js for what an item holds).
//
// Version 2 added the `meta` store: the bearer token and the id of the user
// it belongs to, so that the service worker can sync with no page open (and
// only that user's items). The upgrade keeps the queued items. The store
// also keeps what the worker needs to title a push (push.js: the UI
// language and the labels of notifications).

const DB_NAME = 'kudakyar-outbox';
const ITEMS = 'items';
const META = 'meta';

let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 2);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(ITEMS)) db.createObjectStore(ITEMS, { keyPath: 'id' });
        if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
      };
      req.onsuccess = () => {
        // Another context (a newer page or worker) wants to upgrade: let it.
        req.result.onversionchange = () => {
          req.result.close();
          dbPromise = null;
        };
        resolve(req.result);
      };
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

/** Runs `fn(store)` in a transaction and resolves with the last request's result. */
async function tx(store, mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const t = db.transaction(store, mode);
    let result;
    let req;
    try {
      req = fn(t.objectStore(store));
    } catch (err) {
      // A request refused at once (e.g. a value that cannot be cloned):
      // nothing of the transaction may stay, not even the requests before.
      t.abort();
      reject(err);
      return;
    }
    if (req) req.onsuccess = () => { result = req.result; };
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

export const allItems = () => tx(ITEMS, 'readonly', (s) => s.getAll());
export const getItem = (id) => tx(ITEMS, 'readonly', (s) => s.get(id));
export const putItem = (item) => tx(ITEMS, 'readwrite', (s) => s.put(item));
/** Stores several items in one transaction (all or none). */
export const putItems = (items) =>
  tx(ITEMS, 'readwrite', (s) => {
    for (const item of items) s.put(item);
  });

/** Removes the items with these ids, in one transaction. */
export const deleteItems = (ids) =>
  tx(ITEMS, 'readwrite', (s) => {
    for (const id of ids) s.delete(id);
  });

export const readToken = () => tx(META, 'readonly', (s) => s.get('token')).then((t) => t ?? null);
export const readUser = () => tx(META, 'readonly', (s) => s.get('user')).then((u) => u ?? null);
/** Stores (or, with `null`, deletes) the token and its user together. */
export const writeToken = (token, user) =>
  tx(META, 'readwrite', (s) => {
    if (!token) {
      s.delete('user');
      return s.delete('token');
    }
    s.put(user ?? null, 'user');
    return s.put(token, 'token');
  });

/** A value of the `meta` store (`null` when absent). */
export const readMeta = (key) => tx(META, 'readonly', (s) => s.get(key)).then((v) => v ?? null);
export const writeMeta = (key, value) => tx(META, 'readwrite', (s) => s.put(value, key));
