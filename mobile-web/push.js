// Web Push on this phone, for the page (the notification settings, through
// src/push.rs) and for the service worker (sw.js imports the handlers below).
//
// The page turns push on: permission, `pushManager.subscribe` with the
// server's VAPID key, and the subscription handed back to Rust, which sends
// it to the server. Each outcome is one word, so the settings screen can say
// what went wrong: 'unsupported' (no service worker, Push API or
// Notification in this browser), 'denied' (the user or the browser refused
// the permission) or 'unreachable' (the browser's push service did not
// answer: in Iran, Google's service behind Chromium's pushes often cannot
// be reached, while the inbox and SMS still work).
//
// The worker shows each push from the server's privacy-minimal payload
// (`kudakyar_api::notifications::PushPayload`: a kind and a subject id,
// never a name or a place). Its title is the kind's label in the user's
// language: the page stores every label in both languages in IndexedDB
// (`kudakyar-outbox`, store `meta`, which the worker already reads for the
// outbox's token) and the UI language at each start; before that, Persian.
//
// Every result crosses to Rust as a string (a cast of another JS value
// cannot run in the code loaded on demand: see mobile-web/README.md).

import { readMeta, readToken, writeMeta } from './outbox-store.js';

const LANG_KEY = 'lang';
const TEXTS_KEY = 'push-texts';
/** How long to wait for the app's service worker to be active. */
const WORKER_WAIT_MS = 10_000;
/** How long to wait for the browser's push service (often blocked in Iran). */
const SUBSCRIBE_WAIT_MS = 30_000;
/** The app's name in Persian: the title when no label was stored yet. */
const FALLBACK_TITLE = 'کودک\u200cیار';

/** Remembers the UI language for the worker (`fa` or `en`). */
export function pushSetLanguage(lang) {
  writeMeta(LANG_KEY, lang).catch((err) => console.warn('push language', err));
}

/**
 * Stores the labels the worker titles pushes with: JSON `{kinds: {kind:
 * [fa, en]}, other: [fa, en], digest: [fa, en]}` (`other` for a kind
 * without a label; `{}` in `digest` is the count).
 */
export function pushSetTexts(json) {
  return writeMeta(TEXTS_KEY, JSON.parse(json));
}

function supported() {
  return 'serviceWorker' in navigator && 'PushManager' in self && 'Notification' in self;
}

/** The app's active worker registration, or null when none comes in time. */
function registration() {
  const late = new Promise((resolve) => setTimeout(() => resolve(null), WORKER_WAIT_MS));
  return Promise.race([navigator.serviceWorker.ready, late]);
}

/** 'unsupported', 'denied', 'on' (this browser holds a subscription) or 'off'. */
export async function pushState() {
  if (!supported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  const reg = await registration();
  if (!reg) return 'unsupported';
  return (await reg.pushManager.getSubscription()) ? 'on' : 'off';
}

/**
 * Asks for the permission and subscribes with `vapidKey` (base64url).
 * Resolves with `{"subscription": PushSubscription.toJSON()}` or
 * `{"error": "unsupported" | "denied" | "unreachable"}`, as JSON.
 */
export async function pushSubscribe(vapidKey) {
  const fail = (error) => JSON.stringify({ error });
  if (!supported()) return fail('unsupported');
  if ((await Notification.requestPermission()) !== 'granted') return fail('denied');
  const reg = await registration();
  if (!reg) return fail('unsupported');
  const options = { userVisibleOnly: true, applicationServerKey: fromBase64url(vapidKey) };
  const subscribe = async () => {
    try {
      return await reg.pushManager.subscribe(options);
    } catch (err) {
      // Subscribed before with another server key (the server's key was
      // replaced): that subscription must go before a new one can be made.
      if (err.name !== 'InvalidStateError') throw err;
      await (await reg.pushManager.getSubscription())?.unsubscribe();
      return reg.pushManager.subscribe(options);
    }
  };
  const attempt = subscribe();
  const timer = new Promise((resolve) => setTimeout(() => resolve(null), SUBSCRIBE_WAIT_MS));
  try {
    const sub = await Promise.race([attempt, timer]);
    if (sub) return JSON.stringify({ subscription: sub.toJSON() });
    // A blocked push service may never answer: give up, and undo a
    // subscription that arrives after all (the server would not know it).
    attempt.then((s) => s.unsubscribe()).catch(() => {});
    return fail('unreachable');
  } catch (err) {
    console.warn('push subscribe', err);
    return fail(err.name === 'NotAllowedError' ? 'denied' : 'unreachable');
  }
}

/** Unsubscribes this browser; resolves with the endpoint it had, or ''. */
export async function pushUnsubscribe() {
  if (!supported()) return '';
  const reg = await registration();
  const sub = await reg?.pushManager.getSubscription();
  if (!sub) return '';
  const endpoint = sub.endpoint;
  await sub.unsubscribe().catch((err) => console.warn('push unsubscribe', err));
  return endpoint;
}

/**
 * Logging out: this browser's subscription is removed on the server (with
 * the `token` while it still works; none when the session already ended)
 * and in the browser, so whoever uses the phone next gets none of these
 * pushes.
 */
export async function pushForget(token) {
  if (!supported()) return;
  const sub = await (await navigator.serviceWorker.getRegistration())?.pushManager.getSubscription();
  if (!sub) return;
  if (token) {
    await fetch('/api/v1/push/subscriptions', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: sub.endpoint }),
    }).catch((err) => console.warn('push forget', err));
  }
  await sub.unsubscribe().catch((err) => console.warn('push unsubscribe', err));
}

function fromBase64url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

// --- In the service worker ---------------------------------------------------

const ID = /^[0-9a-f-]{36}$/i;

/** The app's path for a push's subject (as src/route.rs reads it), else the inbox. */
export function pushTarget(payload) {
  const id = String(payload?.subject_id ?? '');
  if (payload?.kind !== 'digest' && ID.test(id)) {
    if (payload.subject_type === 'sighting') return `/triage/${id}`;
    if (payload.subject_type === 'child') return `/child/${id}`;
  }
  return '/inbox';
}

/**
 * The notification a push shows: `{title, options}`. `texts` and `lang`
 * are what the page stored (either may be missing: then Persian, and the
 * app's name when no label is known).
 */
export function pushNotification(payload, texts, lang) {
  const column = lang === 'en' ? 1 : 0;
  const pick = (pair) => (Array.isArray(pair) ? pair[column] : undefined);
  const digest = payload.kind === 'digest';
  let title = pick(digest ? texts?.digest : texts?.kinds?.[payload.kind] ?? texts?.other) ?? FALLBACK_TITLE;
  if (digest) title = title.replace('{}', Number(payload.digest_count ?? 0).toLocaleString(column ? 'en' : 'fa'));
  return {
    title,
    options: {
      lang: column ? 'en' : 'fa',
      dir: column ? 'ltr' : 'rtl',
      icon: '/icon-192.png',
      // One notification per subject (a new one about the same report
      // replaces the old), one digest at a time.
      tag: digest ? 'kudakyar-digest' : `kudakyar-${payload.subject_type}-${payload.subject_id}`,
      renotify: true,
      requireInteraction: Boolean(payload.critical),
      data: { url: pushTarget(payload), notification_id: payload.notification_id ?? null },
    },
  };
}

/** The `push` event: shows the notification (always one: `userVisibleOnly`). */
export async function pushShow(worker, data) {
  let payload = {};
  try {
    payload = data?.json() ?? {};
  } catch (err) {
    console.warn('push payload', err);
  }
  const [texts, lang] = await Promise.all([readMeta(TEXTS_KEY), readMeta(LANG_KEY)]).catch(() => [null, null]);
  const { title, options } = pushNotification(payload, texts, lang);
  await worker.registration.showNotification(title, options);
}

/**
 * The `notificationclick` event: marks the notification read (as opening
 * it in the inbox does) and brings the app to its subject — a window of
 * the app if one is open, a new one otherwise.
 */
export async function pushOpen(worker, notification) {
  notification.close();
  const url = new URL(notification.data?.url ?? '/inbox', worker.location.origin).href;
  const id = notification.data?.notification_id;
  const token = await readToken().catch(() => null);
  if (token && Number.isInteger(id)) {
    fetch(`/api/v1/notifications/${id}/read`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
      .catch((err) => console.warn('push read', err));
  }
  const windows = await worker.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const app = windows.find((w) => !new URL(w.url).pathname.startsWith('/report'));
  if (app) {
    await app.focus();
    // `navigate` only works on a window this worker controls.
    const moved = await app.navigate(url).catch(() => null);
    if (moved) return;
  }
  await worker.clients.openWindow(url);
}

/**
 * The `pushsubscriptionchange` event (the browser replaced or dropped the
 * subscription): subscribes again with the same server key and tells the
 * server, with the token the outbox keeps; the old endpoint is removed.
 * Logged out, or the push service unreachable: nothing (the inbox and SMS
 * still work, and the settings screen shows push as off).
 */
export async function pushResubscribe(worker, oldSub, newSub) {
  const token = await readToken();
  if (!token) return;
  const call = (method, path, body) =>
    fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: body && JSON.stringify(body),
    });
  let key = oldSub?.options?.applicationServerKey;
  if (!key) {
    const res = await call('GET', '/api/v1/push/vapid-key');
    if (!res.ok) return;
    key = fromBase64url((await res.json()).public_key);
  }
  const sub = newSub ?? (await worker.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }));
  const { endpoint, keys } = sub.toJSON();
  await call('POST', '/api/v1/push/subscriptions', { endpoint, keys });
  if (oldSub?.endpoint && oldSub.endpoint !== endpoint) {
    await call('DELETE', '/api/v1/push/subscriptions', { endpoint: oldSub.endpoint });
  }
}
