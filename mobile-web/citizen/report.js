// The citizens' report page (report.html): a report in a few taps, without an
// account. What it does, in order:
// - the position comes from the phone's GPS (the reporter presses a button:
//   no permission prompt on arrival), or from a point placed on a map
//   (picker.js, loaded only if the reporter opens the map);
// - the photo is downscaled on the phone (the workers' app's own code) and
//   the report goes to the outbox (report-queue.js) before anything is sent,
//   so nothing is lost when the network is missing or fails midway;
// - the outbox is sent now, on the `online` event, every 30 s while the page
//   is open, and by the service worker's Background Sync when it is closed;
// - when the server asks for a proof-of-work stamp, a Web Worker finds it;
// - the receipt code is shown and kept; /report/status shows the state of a
//   code (the reporter's own codes are listed).
// Persian is in the page; English is applied from the table below.
import { downscalePhoto } from '__PHOTO_JS__';
import { SYNC_TAG, enqueue, queued, receipts, sendAll } from '__QUEUE_JS__';

const POW_WORKER = '/__POW_WORKER_JS__';
const PICKER = '__PICKER_JS__';
const SW = '/report-sw.js';
const RETRY_MS = 30_000;

const EN = {
  title: 'Report a working child',
  lead: 'Saw a child working in the street? Report it without an account; the county welfare team checks and follows up.',
  where: 'Where?',
  locate: 'Use my current location',
  position_none: 'No position yet.',
  pick: 'or pick it on a map', pick_centre: 'Use the point in the middle of the map',
  who: 'How many children, how old?',
  count: 'Number of children',
  ages: 'Approximate age (any that apply)',
  age_0_5: 'Under 6', age_6_11: '6 to 11', age_12_14: '12 to 14', age_15_17: '15 to 17',
  sex: 'Boy or girl?', sex_male: 'Boy', sex_female: 'Girl', sex_unknown: "Don't know",
  activity: 'What was the child doing?', activity_none: 'Not chosen',
  work_street_vending: 'Street vending', work_begging: 'Begging', work_waste_picking: 'Waste picking',
  work_car_window_washing: 'Car window washing', work_selling_flowers_or_poems: 'Selling flowers or poems',
  work_porter: 'Porter', work_street_music: 'Street music', work_shoe_shining: 'Shoe shining', work_other: 'Other',
  description: 'Description (optional)',
  photo_legend: 'Photo (optional)', photo: 'A photo of the place, if it is safe to take',
  contact: 'Contact (optional)', phone: 'Your phone number', consent: 'The team may call me back about this report.',
  send: 'Send report',
  privacy_title: 'What happens to your report?',
  privacy_1: "The report goes to the welfare team of that county. A social worker visits the place and, if the child needs help, brings them to services.",
  privacy_2: 'We keep no name, IP address or device information of yours. A phone number is kept only with your consent and deleted after 90 days. Location data inside the photo is removed before it is stored.',
  privacy_3: 'You can report without internet: the report stays on your phone and is sent when you are online.',
  done_title: 'Your report was received', done_code: 'Your tracking code:',
  done_keep: 'Keep this code to see what happened to the report.', another: 'Another report',
  queued_title: 'The report is saved on your phone',
  queued_text: 'There is no internet. The report is sent on its own when you are online; its tracking code will show here.',
  status_title: 'Follow a report', status_code: 'Tracking code', status_check: 'See status',
  staff: 'Staff sign-in',
};
const MESSAGES = {
  fa: {
    locating: 'در حال یافتن موقعیت…',
    located: (m) => `موقعیت ثبت شد (دقت حدود ${m} متر).`,
    map_loading: 'در حال باز کردن نقشه…',
    map_tap: 'روی نقشه جایی را که کودک را دیدید بزنید.',
    picked: (lat, lng) => `نقطهٔ روی نقشه ثبت شد: ${lat}، ${lng}`,
    map_offline: 'نقشه بدون اینترنت باز نمی‌شود؛ از موقعیت فعلی خود استفاده کنید.',
    no_position: 'برای ارسال، موقعیت لازم است: دکمهٔ «استفاده از موقعیت فعلی من» را بزنید و اجازه دهید.',
    denied: 'مرورگر اجازهٔ دسترسی به موقعیت را نداد. در تنظیمات مرورگر اجازه دهید و دوباره بزنید.',
    count: 'تعداد باید از ۱ تا ۵۰ باشد.',
    consent: 'برای نگه داشتن شماره، تیک موافقت را بزنید؛ یا شماره را خالی بگذارید.',
    sending: 'در حال ارسال…',
    proof: 'در حال آماده‌سازی ارسال (چند ثانیه)…',
    failed: 'گزارش پذیرفته نشد: ',
    received: 'دریافت شد؛ به‌زودی بررسی می‌شود.',
    being_followed_up: 'در حال پیگیری توسط تیم شهرستان.',
    closed: 'پیگیری انجام شد و گزارش بسته شد.',
    unknown_code: 'این کد پیدا نشد. کد را دوباره بررسی کنید.',
    busy: 'تعداد درخواست‌ها زیاد است؛ کمی بعد دوباره امتحان کنید.',
    offline: 'اینترنت در دسترس نیست.',
    waiting: 'در انتظار اینترنت',
    lang: 'English',
  },
  en: {
    locating: 'Finding your position…',
    located: (m) => `Position recorded (about ${m} m accurate).`,
    map_loading: 'Opening the map…',
    map_tap: 'Tap the map where you saw the child.',
    picked: (lat, lng) => `Point on the map recorded: ${lat}, ${lng}`,
    map_offline: 'The map needs the internet; use your current location instead.',
    no_position: 'A position is needed: press “Use my current location” and allow it.',
    denied: 'The browser did not allow the location. Allow it in the browser settings and try again.',
    count: 'The number must be from 1 to 50.',
    consent: 'To keep your number, tick the consent box; or leave the number empty.',
    sending: 'Sending…',
    proof: 'Preparing to send (a few seconds)…',
    failed: 'The report was not accepted: ',
    received: 'Received; it will be checked soon.',
    being_followed_up: 'Being followed up by the county team.',
    closed: 'Followed up and closed.',
    unknown_code: 'No report has this code. Check the code again.',
    busy: 'Too many requests; try again a little later.',
    offline: 'There is no internet.',
    waiting: 'waiting for internet',
    lang: 'فارسی',
  },
};

const $ = (id) => document.getElementById(id);
const persian = {};
document.querySelectorAll('[data-t]').forEach((el) => { persian[el.dataset.t] = el.textContent; });
let lang = localStorage.getItem('kudakyar-lang') === 'en' ? 'en' : 'fa';
const say = (key, ...args) => {
  const m = MESSAGES[lang][key];
  return typeof m === 'function' ? m(...args) : m;
};
const number = (n) => new Intl.NumberFormat(lang === 'fa' ? 'fa-IR' : 'en-US').format(n);

function applyLanguage() {
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === 'fa' ? 'rtl' : 'ltr';
  const table = lang === 'en' ? EN : persian;
  document.querySelectorAll('[data-t]').forEach((el) => {
    if (table[el.dataset.t]) el.textContent = table[el.dataset.t];
  });
  const other = lang === 'fa' ? 'en' : 'fa';
  $('lang').textContent = MESSAGES[lang].lang;
  $('lang').lang = other;
  document.title = `${table.title} — ${lang === 'fa' ? 'کودک‌یار' : 'Kudakyar'}`;
}

// A token this phone keeps, so the server's limits can hold per device as
// well as per address (many phones share one carrier address).
function deviceToken() {
  let token = localStorage.getItem('kudakyar-device');
  if (!token) {
    token = crypto.randomUUID();
    localStorage.setItem('kudakyar-device', token);
  }
  return token;
}

let position = null;

function locate() {
  const out = $('position');
  if (!navigator.geolocation) {
    out.textContent = say('denied');
    return;
  }
  out.textContent = say('locating');
  navigator.geolocation.getCurrentPosition(
    (p) => {
      position = { lat: p.coords.latitude, lng: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy) };
      out.textContent = say('located', number(position.accuracy_m));
      showError('lat', null);
    },
    () => { out.textContent = say('denied'); },
    { enableHighAccuracy: true, timeout: 30_000, maximumAge: 60_000 },
  );
}

/** The map picker, opened on demand; the point placed replaces any GPS fix. */
let picker = null;
async function openPicker() {
  const out = $('position');
  $('picker').hidden = false;
  if (picker) return;
  out.textContent = say('map_loading');
  const degrees = (x) => new Intl.NumberFormat(lang === 'fa' ? 'fa-IR' : 'en-US',
    { minimumFractionDigits: 5, maximumFractionDigits: 5, useGrouping: false }).format(x);
  try {
    const { open } = await import(PICKER);
    picker = await open($('picker-map'), position, (lat, lng) => {
      // Placed by hand: no accuracy is claimed.
      position = { lat, lng };
      out.textContent = say('picked', degrees(lat), degrees(lng));
      showError('lat', null);
    });
    out.textContent = say('map_tap');
  } catch (err) {
    console.warn('map picker', err);
    $('picker').hidden = true;
    out.textContent = say('map_offline');
  }
}

function showError(field, message) {
  const el = $(`error-${field}`) || $('error-form');
  el.hidden = !message;
  el.textContent = message || '';
}

function clearErrors() {
  document.querySelectorAll('.error').forEach((el) => { el.hidden = true; el.textContent = ''; });
}

/** The server's problem, shown beside the fields it names. */
function showProblem(problem) {
  const errors = problem?.errors || {};
  const fields = Object.keys(errors);
  if (fields.length === 0) {
    showError('form', say('failed') + (problem?.detail || problem?.title || ''));
    return;
  }
  for (const field of fields) {
    const el = $(`error-${field}`);
    (el ? (m) => showError(field, m) : (m) => showError('form', `${field}: ${m}`))(errors[field].join(' '));
  }
}

function readForm() {
  const form = $('report');
  const count = Number(form.children_count.value);
  if (!Number.isInteger(count) || count < 1 || count > 50) return { field: 'children_count', message: say('count') };
  if (!position) return { field: 'lat', message: say('no_position') };
  const phone = form.reporter_phone.value.trim();
  if (phone && !form.phone_consent.checked) return { field: 'reporter_phone', message: say('consent') };
  const report = {
    id: crypto.randomUUID(),
    source: 'citizen',
    // Fixed now, so a report sent hours later still says when the child was seen.
    seen_at: new Date().toISOString(),
    ...position,
    children_count: count,
    age_bands: [...form.querySelectorAll('input[name=age_bands]:checked')].map((el) => el.value),
    phone_consent: Boolean(phone) && form.phone_consent.checked,
    device_token: deviceToken(),
  };
  const sex = form.querySelector('input[name=sex]:checked')?.value;
  if (sex) report.sex = sex;
  if (form.activity.value) report.activity = form.activity.value;
  const description = form.description.value.trim();
  if (description) report.description = description;
  if (phone) report.reporter_phone = phone;
  if (form.website.value) report.website = form.website.value;
  return { report };
}

let worker;
function solveInWorker(challenge, difficulty) {
  $('error-form').hidden = false;
  $('error-form').textContent = say('proof');
  worker ??= new Worker(POW_WORKER, { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => { $('error-form').hidden = true; resolve(e.data.nonce); };
    worker.onerror = reject;
    worker.postMessage({ challenge, difficulty });
  });
}

let pendingId = null;

async function sync() {
  const result = await sendAll(solveInWorker);
  const mine = pendingId && result.sent.find((r) => r.id === pendingId);
  if (mine) {
    pendingId = null;
    showDone(mine.receipt_code);
  }
  const refused = pendingId && result.failed.find((f) => f.id === pendingId);
  if (refused) {
    pendingId = null;
    show('report-view');
    showProblem(refused.error);
  }
  await listMine();
  return result;
}

function show(view) {
  for (const id of ['report-view', 'done-view', 'queued-view']) $(id).hidden = id !== view;
}

function showDone(code) {
  $('receipt-code').textContent = code;
  show('done-view');
  $('done-view').querySelector('h2').focus?.();
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  const { report, field, message } = readForm();
  if (!report) {
    showError(field, message);
    return;
  }
  const button = $('send');
  button.disabled = true;
  button.textContent = say('sending');
  try {
    const file = $('photo').files[0];
    const photo = file ? await downscalePhoto(file) : null;
    await enqueue(report, photo);
    pendingId = report.id;
    navigator.serviceWorker?.ready.then((reg) => reg.sync?.register(SYNC_TAG)).catch(() => {});
    const result = await sync();
    if (pendingId === report.id && result.waiting > 0) show('queued-view');
  } finally {
    button.disabled = false;
    button.textContent = (lang === 'en' ? EN : persian).send;
  }
}

async function checkStatus(code) {
  const out = $('status-result');
  const clean = code.trim().toUpperCase();
  if (!clean) return;
  try {
    const res = await fetch(`/api/v1/sightings/receipt/${encodeURIComponent(clean)}`);
    if (res.ok) out.textContent = `${clean}: ${say((await res.json()).state)}`;
    else if (res.status === 404) out.textContent = say('unknown_code');
    else if (res.status === 429) out.textContent = say('busy');
    else out.textContent = (await res.json().catch(() => ({}))).detail || res.statusText;
  } catch {
    out.textContent = say('offline');
  }
}

async function listMine() {
  const list = $('mine');
  list.replaceChildren();
  for (const r of await receipts()) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link';
    b.dir = 'ltr';
    b.textContent = r.receipt_code;
    b.addEventListener('click', () => { $('code').value = r.receipt_code; checkStatus(r.receipt_code); });
    li.append(b);
    list.append(li);
  }
  for (const q of await queued()) {
    const li = document.createElement('li');
    li.textContent = q.state === 'failed' ? say('failed') + (q.error?.detail || '') : `… ${say('waiting')}`;
    list.append(li);
  }
}

applyLanguage();
$('lang').addEventListener('click', () => {
  lang = lang === 'fa' ? 'en' : 'fa';
  localStorage.setItem('kudakyar-lang', lang);
  applyLanguage();
});
$('locate').addEventListener('click', locate);
$('pick').addEventListener('click', openPicker);
$('pick-centre').addEventListener('click', () => picker?.centre());
$('report').addEventListener('submit', submit);
$('another').addEventListener('click', () => {
  $('report').reset();
  position = null;
  $('position').textContent = (lang === 'en' ? EN : persian).position_none;
  show('report-view');
});
$('status').addEventListener('submit', (e) => { e.preventDefault(); checkStatus($('code').value); });
window.addEventListener('online', () => { sync(); });
setInterval(() => { if (navigator.onLine) sync(); }, RETRY_MS);

const asked = new URLSearchParams(location.search).get('code');
if (asked) {
  $('code').value = asked;
  checkStatus(asked);
}
if (location.pathname.startsWith('/report/status')) $('status-view').scrollIntoView();
sync();
// The page opens offline next time; scope /report only, apart from the
// workers' app and its worker at /.
navigator.serviceWorker?.register(SW, { scope: '/report', type: 'module' }).catch((err) => console.warn('service worker', err));
