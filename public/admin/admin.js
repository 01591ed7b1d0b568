// The tenant admin's console: the admin routes of docs/API.md, same origin, no
// framework. Every value from the API (user ids, messages, details) is untrusted:
// the DOM is built with createElement and text nodes only, never with HTML strings.
const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------
// Session: tenant id and admin key, for this tab only (sessionStorage), never in a
// URL and never logged.

const STORE = 'edge-mfa-admin';
const TENANT_ID = /^[a-z0-9-]{1,63}$/;
let session = null;

function storedSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(STORE));
    return s && TENANT_ID.test(s.tenant) && typeof s.key === 'string' && s.key ? s : null;
  } catch {
    return null;
  }
}

/// Thrown when a 401 ended the session: the sign-in form already says why.
class SignedOut extends Error {}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------------------
// API calls. The admin key goes in the Authorization header only.

function queryString(params = {}) {
  const kept = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  const qs = new URLSearchParams(kept.map(([k, v]) => [k, String(v)])).toString();
  return qs ? `?${qs}` : '';
}

/// The problem's detail (or title) of an error answer, if it has one.
async function problemText(response) {
  try {
    const p = await response.json();
    return p?.detail || p?.title || null;
  } catch {
    return null;
  }
}

async function request(method, path, { query, body, raw, accept = 'application/json', signal } = {}) {
  if (!session) throw new SignedOut();
  const headers = { authorization: `Bearer ${session.key}`, accept: `${accept}, application/problem+json` };
  let payload;
  if (raw !== undefined || body !== undefined) {
    payload = raw ?? JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  let response;
  try {
    // No cookies (the device cookie is not the admin's business) and no redirects
    // (nothing should redirect an API call carrying the key).
    response = await fetch(`/v1/${session.tenant}/admin/${path}${queryString(query)}`, {
      method, headers, body: payload, signal, credentials: 'omit', cache: 'no-store', redirect: 'error',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The service could not be reached. Check the connection and try again.');
  }
  if (response.status === 401) {
    const why = await problemText(response);
    const wasSignedIn = !$('app').hidden;
    endSession(`The service refused the admin key${why ? `: ${why}` : ''}.${wasSignedIn ? ' Sign in again.' : ''}`);
    throw new SignedOut();
  }
  if (!response.ok) {
    throw new ApiError(response.status, (await problemText(response)) ?? `The service answered ${response.status}.`);
  }
  return response;
}

const getJson = async (path, options) => (await request('GET', path, options)).json();
const userPath = (user) => `users/${encodeURIComponent(user)}`;

/// Runs `fn`, showing its failure in `alert` (a role="alert" element next to the
/// action). A click while the same action is still running is ignored.
async function attempt(alert, fn, button) {
  if (button?.getAttribute('aria-disabled') === 'true') return;
  // aria-disabled rather than disabled: a disabled button would drop the focus.
  button?.setAttribute('aria-disabled', 'true');
  if (alert) alert.textContent = '';
  try {
    await fn();
  } catch (e) {
    if (e instanceof SignedOut || e.name === 'AbortError') return;
    // The problem's detail verbatim, or a check of ours that failed before sending.
    if (alert) alert.textContent = e.message || String(e);
  } finally {
    button?.removeAttribute('aria-disabled');
  }
}

// ---------------------------------------------------------------------------
// DOM helpers.

/// createElement with attributes and children (strings become text nodes).
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') node.addEventListener(name, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

let ids = 0;
const uid = (prefix) => `${prefix}-${++ids}`;

/// An empty value: a dash to the eye, a word to a screen reader.
const none = (word = 'none') => el('span', {}, el('span', { 'aria-hidden': 'true', class: 'muted' }, '—'), el('span', { class: 'sr-only' }, word));

const badge = (text, kind = '') => el('span', { class: `badge ${kind}`.trim() }, text);

// ---------------------------------------------------------------------------
// Times: Unix seconds, shown in the browser's locale and time zone, with a
// relative hint ("3 minutes ago", "in 2 hours").

const nowSeconds = () => Math.floor(Date.now() / 1000);
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const preciseDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const UNITS = [['year', 31536000], ['month', 2592000], ['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];

function fromNow(t) {
  const delta = t - nowSeconds();
  const [unit, size] = UNITS.find(([, s]) => Math.abs(delta) >= s) ?? ['second', 1];
  return relative.format(Math.round(delta / size), unit);
}

function when(t, { precise = false, hint = true, empty = 'none' } = {}) {
  if (typeof t !== 'number') return none(empty);
  const date = new Date(t * 1000);
  const time = el('time', { datetime: date.toISOString() }, (precise ? preciseDateTime : dateTime).format(date));
  // The hint may wrap to its own line; the date itself does not break.
  return hint ? el('span', {}, time, ' ', el('span', { class: 'ago' }, `(${fromNow(t)})`)) : time;
}

// ---------------------------------------------------------------------------
// Sign-in and sign-out.

async function startSession(tenant, key) {
  session = { tenant, key };
  const info = await getJson('tenant');
  // Stored only once the service accepted the key.
  sessionStorage.setItem(STORE, JSON.stringify(session));
  $('tenant-name').textContent = info.name ?? tenant;
  $('tenant-shown').textContent = tenant;
  $('signin').hidden = true;
  $('whoami').hidden = false;
  $('app').hidden = false;
  show('users');
}

/// Forgets the key and everything shown with it; `message` explains why on the
/// sign-in form (a 401: the key was rotated, or the tenant deleted).
function endSession(message = '') {
  session = null;
  sessionStorage.removeItem(STORE);
  for (const view of Object.values(views)) view.abort?.();
  if ($('user-dialog').open) $('user-dialog').close();
  for (const id of ['users-rows', 'help-list', 'audit-rows', 'user-body']) $(id).replaceChildren();
  for (const id of ['tenant-name', 'tenant-shown', 'policy-version', 'help-summary']) $(id).textContent = '';
  clearTenant();
  for (const node of document.querySelectorAll('[role="alert"], [role="status"]')) node.textContent = '';
  $('policy-text').value = '';
  policyDirty = false;
  $('app').hidden = true;
  $('whoami').hidden = true;
  $('signin').hidden = false;
  $('signin-alert').textContent = message;
  $($('tenant-id').value ? 'admin-key' : 'tenant-id').focus();
}

$('signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const tenant = $('tenant-id').value.trim();
  const key = $('admin-key').value.trim();
  const alert = $('signin-alert');
  if (!TENANT_ID.test(tenant)) {
    alert.textContent = 'A tenant id is 1 to 63 lowercase letters, digits and hyphens.';
    $('tenant-id').focus();
    return;
  }
  if (!key) {
    alert.textContent = 'Enter the admin key.';
    $('admin-key').focus();
    return;
  }
  const button = event.submitter ?? event.target.querySelector('button');
  attempt(alert, async () => {
    try {
      await startSession(tenant, key);
      $('admin-key').value = '';
    } catch (e) {
      if (e instanceof SignedOut) throw e;
      session = null;
      throw new Error(`Sign-in failed: ${e.message}`);
    }
  }, button);
});

$('sign-out').addEventListener('click', () => endSession('Signed out.'));

// ---------------------------------------------------------------------------
// Navigation: a nav of buttons; the current one has aria-current="page".

let current = null;

function show(name) {
  current = name;
  for (const button of document.querySelectorAll('nav button[data-view]')) {
    if (button.dataset.view === name) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  for (const [view, { section }] of Object.entries(views)) $(section).hidden = view !== name;
  views[name].load();
}

for (const button of document.querySelectorAll('nav button[data-view]')) {
  button.addEventListener('click', () => show(button.dataset.view));
}

/// A list that loads page by page: a new load aborts the one in flight, so a slow
/// answer to an older filter can never overwrite a newer one.
function pager({ fetchPage, clear, render, more, busy, alert }) {
  const state = { controller: null, next: null, count: 0, query: null };
  async function load({ again = false, query } = {}) {
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    if (!again) {
      state.query = query;
      state.next = null;
      state.count = 0;
      clear();
    }
    busy(true);
    $(more).hidden = true;
    await attempt($(alert), async () => {
      const page = await fetchPage(state.query, again ? state.next : undefined, controller.signal);
      state.count += render(page);
      state.next = page.next ?? null;
    });
    if (controller.signal.aborted) return;
    busy(false, state);
    $(more).hidden = !state.next;
  }
  return { state, load, abort: () => state.controller?.abort() };
}

// ---------------------------------------------------------------------------
// Users.

const STATE_KIND = { enrolled: 'ok', bypassed: 'warn', expired: 'bad', grace: 'warn', not_enrolled: '' };

function usersQuery() {
  return { state: $('users-state').value, method: $('users-method').value, q: $('users-q').value.trim() };
}

/// "status locked, method totp, search "ali"": what the list is filtered by.
function describeFilters(query, labels) {
  return Object.entries(labels)
    .filter(([key]) => query[key])
    .map(([key, label]) => `${label} ${key === 'q' || key === 'user' ? `“${query[key]}”` : query[key]}`)
    .join(', ');
}

const userButton = (user) => el('button', { type: 'button', class: 'link', click: () => openUser(user) }, user);

function statusCell(u) {
  const cell = el('td', { class: 'status-cell' });
  const state = u.enrollment?.state ?? 'unknown';
  cell.append(badge(state, STATE_KIND[state] ?? ''));
  if (typeof u.locked_until === 'number' && u.locked_until > nowSeconds()) cell.append(' ', badge('locked', 'bad'));
  if (u.requirement?.required) cell.append(' ', badge('required by admin'));
  if (typeof u.enrollment?.deadline === 'number') {
    cell.append(el('div', { class: 'hint' }, deadlineLabel(state), when(u.enrollment.deadline, { hint: false })));
  }
  return cell;
}

/// What an enrollment's deadline means: the end of a bypass, or of the period to enroll in.
function deadlineLabel(state) {
  return state === 'bypassed' ? 'bypass ends ' : state === 'expired' ? 'was due ' : 'enroll by ';
}

function userRow(u) {
  return el('tr', {},
    el('th', { scope: 'row' }, userButton(u.user)),
    statusCell(u),
    el('td', {}, u.methods?.length ? u.methods.join(', ') : none()),
    el('td', {}, when(u.last_mfa_at, { empty: 'never' })),
    el('td', {}, u.locked_until > nowSeconds() ? when(u.locked_until) : none('not locked')),
    el('td', {}, u.bypass_until > nowSeconds() ? when(u.bypass_until) : none('no bypass')),
    el('td', {}, when(u.first_seen, { hint: false, empty: 'never' })),
  );
}

const USER_FILTERS = { state: 'status', method: 'method', q: 'search' };

const usersList = pager({
  fetchPage: (query, cursor, signal) => getJson('users', { query: { ...query, limit: 50, cursor }, signal }),
  clear: () => $('users-rows').replaceChildren(),
  render: (page) => {
    const users = page.users ?? [];
    $('users-rows').append(...users.map(userRow));
    return users.length;
  },
  more: 'users-more',
  busy: (loading, state) => {
    $('users-table').setAttribute('aria-busy', String(loading));
    if (loading) {
      $('users-caption').textContent = 'Users: loading…';
      return;
    }
    // The caption says what is shown, so it also tells when a filter has applied.
    const filters = describeFilters(state.query, USER_FILTERS);
    $('users-caption').textContent = `Users: ${state.count} shown${filters ? ` (${filters})` : ''}${state.next ? ', more to load' : ''}`;
  },
  alert: 'users-alert',
});

$('users-state').addEventListener('change', () => usersList.load({ query: usersQuery() }));
$('users-method').addEventListener('change', () => usersList.load({ query: usersQuery() }));
let searchTimer;
$('users-q').addEventListener('input', () => {
  // Wait for a pause in typing rather than asking on every key.
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => usersList.load({ query: usersQuery() }), 300);
});
$('users-filters').addEventListener('submit', (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  usersList.load({ query: usersQuery() });
});
$('users-more').addEventListener('click', () => usersList.load({ again: true }));

/// The cursor of an RFC 8288 `Link: <…>; rel="next"` header. Only the cursor is
/// taken: the request stays ours, to our own path.
function nextCursor(link) {
  const target = link?.match(/<([^>]*)>\s*;\s*rel="?next"?/)?.[1];
  return target ? new URL(target, location.origin).searchParams.get('cursor') : null;
}

const CSV_PAGE = 500;
const CSV_MAX_PAGES = 200;

/// Every page of the users CSV as one file: the API pages CSV as it pages JSON (the
/// next page in its Link header), each page with the header line.
async function usersCsv(query) {
  const parts = [];
  let cursor;
  for (let page = 0; page < CSV_MAX_PAGES; page++) {
    const response = await request('GET', 'users', { query: { ...query, format: 'csv', limit: CSV_PAGE, cursor }, accept: 'text/csv' });
    const text = await response.text();
    parts.push(page === 0 ? text : text.slice(text.indexOf('\n') + 1));
    cursor = nextCursor(response.headers.get('link'));
    if (!cursor) return { blob: new Blob(parts, { type: 'text/csv' }), complete: true };
  }
  return { blob: new Blob(parts, { type: 'text/csv' }), complete: false };
}

// The CSV goes through fetch (the key in a header), then a Blob saved through an
// object URL: a plain link would need the key in its URL.
$('users-csv').addEventListener('click', (event) => attempt($('users-alert'), async () => {
  const { blob, complete } = await usersCsv(usersQuery());
  if (!complete) $('users-alert').textContent = `The file holds the first ${CSV_PAGE * CSV_MAX_PAGES} users only.`;
  const url = URL.createObjectURL(blob);
  const stamp = new Date().toISOString().slice(0, 10);
  const link = el('a', { href: url, download: `${session.tenant}-users-${stamp}.csv`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}, event.currentTarget));

// ---------------------------------------------------------------------------
// One user's detail, in a modal dialog.

const detail = { user: null, changed: false };

function facts(rows) {
  return el('dl', { class: 'facts' }, ...rows.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]));
}

function smallTable(caption, headers, rows, empty) {
  if (!rows.length) return el('p', { class: 'muted' }, empty);
  return el('div', { class: 'table-wrap' },
    el('table', {},
      el('caption', {}, caption),
      el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c, i) => (i === 0 ? el('th', { scope: 'row' }, c) : el('td', {}, c))))))));
}

function requirementText(r) {
  if (!r?.required) return 'Not required by an admin';
  const text = el('span', {}, badge('required by admin'));
  if (typeof r.set_at === 'number') text.append(' since ', when(r.set_at, { hint: false }));
  if (typeof r.deadline === 'number') text.append('; enroll by ', when(r.deadline));
  return text;
}

function userDetail(u) {
  const now = nowSeconds();
  const state = u.enrollment?.state ?? 'unknown';
  return [
    u.seen === false ? el('p', { class: 'notice' }, 'edge-mfa has not had a request from this user yet.') : null,
    facts([
      ['Enrollment', el('span', {}, badge(state, STATE_KIND[state] ?? ''),
        typeof u.enrollment?.deadline === 'number' ? ` ${deadlineLabel(state)}` : '',
        typeof u.enrollment?.deadline === 'number' ? when(u.enrollment.deadline) : null)],
      ['Last MFA', when(u.last_mfa_at, { empty: 'never' })],
      ['Lockout', u.locked_until > now ? el('span', {}, badge('locked', 'bad'), ' until ', when(u.locked_until)) : 'Not locked'],
      ['Bypass', u.bypass_until > now ? el('span', {}, badge('bypassed', 'warn'), ' until ', when(u.bypass_until)) : 'No bypass'],
      ['Requirement', requirementText(u.requirement)],
      ['Backup codes left', String(u.backup_codes_remaining ?? 0)],
      ['First seen', when(u.first_seen, { empty: 'never' })],
    ]),
    el('h3', {}, 'Factors'),
    smallTable('Factors', ['Name', 'Type', 'Added', 'Last used'],
      (u.factors ?? []).map((f) => [f.name || f.id, f.type, when(f.created_at, { hint: false }), when(f.last_used_at, { empty: 'never' })]),
      'No factors.'),
    el('h3', {}, 'Remembered devices'),
    smallTable('Remembered devices', ['Label', 'Added', 'Last used', 'Expires'],
      (u.trusted_devices ?? []).map((d) => [d.label || d.id, when(d.created_at, { hint: false }), when(d.last_used_at, { empty: 'never' }), when(d.expires_at)]),
      'No remembered devices.'),
  ].filter(Boolean);
}

async function renderUser() {
  const body = $('user-body');
  body.setAttribute('aria-busy', 'true');
  await attempt($('user-alert'), async () => {
    const u = await getJson(userPath(detail.user));
    body.replaceChildren(...userDetail(u));
  });
  body.setAttribute('aria-busy', 'false');
}

function openUser(user) {
  detail.user = user;
  detail.changed = false;
  $('user-title').textContent = user;
  $('user-body').replaceChildren();
  $('user-status').textContent = '';
  $('user-alert').textContent = '';
  $('bypass-minutes').value = '60';
  $('enrollment-days').value = '7';
  if (!$('user-dialog').open) $('user-dialog').showModal();
  renderUser();
}

$('user-close').addEventListener('click', () => $('user-dialog').close());
$('user-dialog').addEventListener('close', () => {
  // The list behind may show what an action just changed.
  if (detail.changed && session && current !== 'policy') views[current].load();
});

/// A whole number in [min, max] from a number input, or an error naming its label.
function wholeNumber(input, min, max) {
  const n = Number(input.value);
  if (!Number.isInteger(n) || n < min || n > max) {
    const label = document.querySelector(`label[for="${input.id}"]`)?.textContent ?? 'The value';
    throw new Error(`${label} must be a whole number from ${min} to ${max}.`);
  }
  return n;
}

// Each action: the call, then a short confirmation for the status region.
const USER_ACTIONS = {
  'act-unlock': async (u) => {
    await request('POST', `${userPath(u)}/unlock`);
    return `Unlocked ${u}`;
  },
  'act-bypass': async (u) => {
    const minutes = wholeNumber($('bypass-minutes'), 1, 10080);
    const r = await (await request('POST', `${userPath(u)}/bypass`, { body: { minutes } })).json();
    return `MFA bypassed for ${u} until ${dateTime.format(new Date(r.bypass_until * 1000))}`;
  },
  'act-end-bypass': async (u) => {
    await request('DELETE', `${userPath(u)}/bypass`);
    return `Bypass ended for ${u}`;
  },
  'act-clear-devices': async (u) => {
    await request('DELETE', `${userPath(u)}/devices`);
    return `Cleared the remembered devices of ${u}`;
  },
  'act-reset': async (u) => {
    if (!window.confirm(`Reset MFA for ${u}? All their factors, backup codes and remembered devices are deleted, and they enroll again at their next sign-in.`)) return null;
    await request('POST', `${userPath(u)}/reset`);
    return `Reset MFA for ${u}`;
  },
  'act-require': async (u) => {
    const days = wholeNumber($('enrollment-days'), 1, 365);
    await request('PUT', `${userPath(u)}/requirement`, { body: { required: true, enrollment_days: days } });
    return `MFA required for ${u}, within ${days} day${days === 1 ? '' : 's'}`;
  },
  'act-lift': async (u) => {
    await request('PUT', `${userPath(u)}/requirement`, { body: { required: false } });
    return `Requirement lifted for ${u}`;
  },
};

for (const [id, action] of Object.entries(USER_ACTIONS)) {
  $(id).addEventListener('click', (event) => attempt($('user-alert'), async () => {
    $('user-status').textContent = '';
    const user = detail.user;
    const message = await action(user);
    if (message === null) return; // cancelled
    detail.changed = true;
    await renderUser();
    $('user-status').textContent = message;
  }, event.currentTarget));
}

// ---------------------------------------------------------------------------
// Help requests.

function resolveForm(r) {
  const [actionId, minutesId, noteId] = [uid('help-action'), uid('help-minutes'), uid('help-note')];
  const alert = el('p', { class: 'alert', role: 'alert' });
  const action = el('select', { id: actionId }, ...['none', 'bypass', 'reset'].map((a) => el('option', {}, a)));
  const minutes = el('input', { id: minutesId, type: 'number', inputmode: 'numeric', min: 1, max: 10080, step: 1, value: 60 });
  const minutesField = el('div', { class: 'field', hidden: true }, el('label', { for: minutesId }, 'Bypass minutes'), minutes);
  const note = el('input', { id: noteId, autocomplete: 'off', maxlength: 500 });
  action.addEventListener('change', () => { minutesField.hidden = action.value !== 'bypass'; });

  const form = el('form', { class: 'filters resolve', novalidate: true },
    el('div', { class: 'field' }, el('label', { for: actionId }, 'Action'), action),
    minutesField,
    el('div', { class: 'field grow' }, el('label', { for: noteId }, 'Note'), note),
    el('div', { class: 'field actions' }, el('button', { type: 'submit' }, 'Resolve')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    attempt(alert, async () => {
      const body = { action: action.value };
      if (action.value === 'bypass') body.minutes = wholeNumber(minutes, 1, 10080);
      if (note.value.trim()) body.note = note.value.trim();
      // Whoever has the password can ask as the user: both actions let the asker in.
      const check = 'Only if you have confirmed it is really them (a call to a number you already had, a manager who knows them).';
      if (action.value === 'reset' && !window.confirm(`Reset MFA for ${r.user}? All their factors, backup codes and remembered devices are deleted. ${check}`)) return;
      if (action.value === 'bypass' && !window.confirm(`Let ${r.user} in without MFA for ${body.minutes} minutes? ${check}`)) return;
      await request('POST', `help-requests/${encodeURIComponent(r.id)}/resolve`, { body });
      const did = { none: '', bypass: `, MFA bypassed for ${body.minutes} minutes`, reset: ', MFA reset' }[action.value];
      $('help-status').textContent = `Resolved the request from ${r.user}${did}`;
      // The request leaves an "open" list: keep the focus in the view, on its heading.
      $('help-title').focus();
      helpList.load({ query: helpList.state.query });
    }, event.submitter);
  });
  return el('div', {}, form, alert);
}

function helpItem(r) {
  const resolved = r.state === 'resolved';
  return el('li', {},
    el('article', { class: 'request', 'aria-label': `Help request from ${r.user}` },
      el('h3', {}, 'From ', userButton(r.user)),
      r.message ? el('blockquote', {}, r.message) : el('p', { class: 'muted' }, 'No message.'),
      // The reference the user was shown when they asked ("ask for help").
      el('p', { class: 'meta' }, badge(r.state, resolved ? 'ok' : 'warn'), ' filed ', when(r.created_at), ', reference ', el('code', {}, r.id)),
      resolved
        ? el('p', { class: 'meta' }, 'Resolved ', when(r.resolved_at),
          r.action ? `, action ${r.action}${r.minutes ? ` (${r.minutes} minutes)` : ''}` : '', r.note ? `, note: ${r.note}` : '')
        : resolveForm(r)));
}

const helpList = pager({
  fetchPage: (query, cursor, signal) => getJson('help-requests', { query: { ...query, cursor }, signal }),
  clear: () => $('help-list').replaceChildren(),
  render: (page) => {
    const requests = page.requests ?? [];
    $('help-list').append(...requests.map(helpItem));
    return requests.length;
  },
  more: 'help-more',
  busy: (loading, state) => {
    $('help-list').setAttribute('aria-busy', String(loading));
    if (loading) return;
    const which = state.query.state ? `${state.query.state} ` : '';
    $('help-summary').textContent = state.count === 0
      ? `No ${which}help requests.`
      : `${state.count} ${which}request${state.count === 1 ? '' : 's'} shown${state.next ? ', more to load' : ''}.`;
  },
  alert: 'help-alert',
});

$('help-state').addEventListener('change', () => {
  $('help-status').textContent = '';
  helpList.load({ query: { state: $('help-state').value } });
});
$('help-more').addEventListener('click', () => helpList.load({ again: true }));

// ---------------------------------------------------------------------------
// Audit log (oldest first, as the API pages it).

const EVENT_TYPES = [
  'tenant.created', 'tenant.updated', 'policy.updated', 'key.rotated', 'key.retired', 'webhook.updated',
  'assess.decided', 'enrollment.started', 'factor.enrolled', 'factor.renamed', 'factor.removed',
  'challenge.created', 'code.sent', 'verify.succeeded', 'verify.failed', 'backup_code.redeemed',
  'backup_codes.regenerated', 'lockout.started', 'user.unlocked', 'device.remembered', 'device.revoked',
  'devices.cleared', 'bypass.granted', 'bypass.ended', 'user.reset', 'user.erased', 'requirement.updated',
  'help_request.created', 'help_request.resolved', 'webhook.failed',
];
$('audit-type').append(...EVENT_TYPES.map((t) => el('option', {}, t)));

/// A datetime-local value ("2025-11-29T20:51", local time) as Unix seconds.
function localToUnix(value) {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  if (Number.isNaN(ms)) throw new Error(`“${value}” is not a date and time.`);
  return Math.floor(ms / 1000);
}

/// Unix seconds as a datetime-local value, in local time, to the minute.
function unixToLocal(t) {
  const d = new Date(t * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function auditQuery() {
  const since = localToUnix($('audit-from').value);
  // `until` is exclusive (docs/AUDIT.md): "To 20:51" reads to the end of that
  // minute, as the input shows no seconds.
  const to = localToUnix($('audit-to').value);
  const until = to === undefined ? undefined : to + 60;
  if (since !== undefined && until !== undefined && until <= since) throw new Error('“To” is before “From”.');
  return { since, until, user: $('audit-user').value.trim(), type: $('audit-type').value };
}

function auditRow(e) {
  const factor = e.factor ? `${e.factor.type}${e.factor.id ? ` (${e.factor.id})` : ''}` : null;
  const failed = ['failure', 'failed', 'denied', 'refused', 'error'].includes(e.outcome);
  return el('tr', {},
    el('th', { scope: 'row' }, when(e.at, { precise: true, hint: false })),
    el('td', {}, el('code', {}, e.type)),
    el('td', {}, e.actor ?? none()),
    el('td', {}, e.user ? userButton(e.user) : none()),
    el('td', {}, e.outcome ? badge(e.outcome, failed ? 'bad' : '') : none(), e.reason ? el('div', { class: 'hint' }, e.reason) : null),
    el('td', {}, factor ?? none()),
    el('td', {}, e.ip ?? none(), e.user_agent ? el('div', { class: 'hint ua' }, e.user_agent) : null),
    el('td', {}, e.country ?? none()),
    el('td', { class: 'json' }, e.detail && Object.keys(e.detail).length ? el('code', {}, JSON.stringify(e.detail)) : none()),
  );
}

const AUDIT_FILTERS = { user: 'user', type: 'type' };

const auditList = pager({
  fetchPage: (query, cursor, signal) => getJson('audit', { query: { ...query, limit: 100, cursor }, signal }),
  clear: () => $('audit-rows').replaceChildren(),
  render: (page) => {
    const events = page.events ?? [];
    $('audit-rows').append(...events.map(auditRow));
    return events.length;
  },
  more: 'audit-more',
  busy: (loading, state) => {
    $('audit-table').setAttribute('aria-busy', String(loading));
    if (loading) {
      $('audit-caption').textContent = 'Audit events: loading…';
      return;
    }
    const filters = describeFilters(state.query, AUDIT_FILTERS);
    $('audit-caption').textContent = `Audit events, oldest first: ${state.count} shown${filters ? ` (${filters})` : ''}${state.next ? ', more to load' : ''}`;
  },
  alert: 'audit-alert',
});

function loadAudit() {
  try {
    auditList.load({ query: auditQuery() });
  } catch (e) {
    $('audit-alert').textContent = e.message;
  }
}

$('audit-from').value = unixToLocal(nowSeconds() - 86400);
$('audit-filters').addEventListener('submit', (event) => {
  event.preventDefault();
  loadAudit();
});
$('audit-more').addEventListener('click', () => auditList.load({ again: true }));

// ---------------------------------------------------------------------------
// Policy: the JSON as stored, edited as text; the ETag is the tenant's version.

let policyDirty = false;
const versionOf = (response) => response.headers.get('etag')?.match(/\d+/)?.[0] ?? null;

function showPolicy(policy, version) {
  $('policy-text').value = JSON.stringify(policy, null, 2);
  $('policy-text').removeAttribute('aria-invalid');
  $('policy-version').textContent = version ? `Version ${version}` : '';
  policyDirty = false;
}

function loadPolicy({ force = false } = {}) {
  // Switching views must not throw away an edit in progress.
  if (policyDirty && !force) return;
  $('policy-status').textContent = '';
  attempt($('policy-alert'), async () => {
    const response = await request('GET', 'policy');
    showPolicy(await response.json(), versionOf(response));
  });
}

$('policy-text').addEventListener('input', () => { policyDirty = true; });
$('policy-reload').addEventListener('click', () => loadPolicy({ force: true }));
$('policy-save').addEventListener('click', (event) => attempt($('policy-alert'), async () => {
  $('policy-status').textContent = '';
  const text = $('policy-text').value;
  try {
    JSON.parse(text);
  } catch (e) {
    // Checked here so that a typo is explained at once and nothing is sent.
    $('policy-text').setAttribute('aria-invalid', 'true');
    throw new Error(`Not valid JSON: ${e.message}`);
  }
  let response;
  try {
    response = await request('PUT', 'policy', { raw: text });
  } catch (e) {
    if (e instanceof ApiError && e.status === 400) $('policy-text').setAttribute('aria-invalid', 'true');
    throw e;
  }
  const version = versionOf(response);
  showPolicy(await response.json(), version);
  $('policy-status').textContent = version ? `Policy saved (version ${version})` : 'Policy saved';
}, event.currentTarget));

// ---------------------------------------------------------------------------
// The tenant: its name, origins and audit retention (PATCH admin/tenant). The RP
// ID is shown, not edited here: changing it ends every passkey (API.md).

/// The tenant as last loaded: Save sends only what differs from it, and nothing
/// until a load for this session succeeded.
let tenantLoaded = null;

function clearTenant() {
  tenantLoaded = null;
  for (const id of ['tenant-field-name', 'tenant-field-origins', 'tenant-field-retention']) $(id).value = '';
  for (const id of ['tenant-rp', 'tenant-status', 'tenant-alert']) $(id).textContent = '';
}

function showTenant(t) {
  tenantLoaded = t;
  $('tenant-field-name').value = t.name;
  $('tenant-field-origins').value = t.origins.join('\n');
  $('tenant-field-retention').value = String(t.audit_retention_days);
  $('tenant-rp').textContent = `RP ID: ${t.rp_id}. Origins must be ${t.rp_id} or lie under it.`;
  $('tenant-name').textContent = t.name;
}

function loadTenant() {
  clearTenant();
  attempt($('tenant-alert'), async () => showTenant(await getJson('tenant')));
}

$('tenant-form').addEventListener('submit', (event) => {
  event.preventDefault();
  attempt($('tenant-alert'), async () => {
    $('tenant-status').textContent = '';
    if (!tenantLoaded) throw new Error('The tenant is not loaded: open the Tenant view again.');
    const origins = $('tenant-field-origins').value.split('\n').map((o) => o.trim()).filter(Boolean);
    const edited = {
      name: $('tenant-field-name').value.trim(),
      origins,
      audit_retention_days: Number($('tenant-field-retention').value),
    };
    // Only what changed here, so a change made elsewhere to another field stays.
    const body = Object.fromEntries(Object.entries(edited)
      .filter(([field, value]) => JSON.stringify(value) !== JSON.stringify(tenantLoaded[field])));
    if (Object.keys(body).length === 0) {
      $('tenant-status').textContent = 'Nothing changed';
      return;
    }
    const response = await request('PATCH', 'tenant', { body });
    showTenant(await response.json());
    $('tenant-status').textContent = 'Tenant saved';
  }, event.submitter);
});

// ---------------------------------------------------------------------------

const views = {
  users: { section: 'view-users', load: () => usersList.load({ query: usersQuery() }), abort: usersList.abort },
  help: { section: 'view-help', load: () => helpList.load({ query: { state: $('help-state').value } }), abort: helpList.abort },
  audit: { section: 'view-audit', load: loadAudit, abort: auditList.abort },
  policy: { section: 'view-policy', load: () => loadPolicy() },
  tenant: { section: 'view-tenant', load: loadTenant },
};

// A reload of the tab keeps the session (sessionStorage) but checks it again.
const stored = storedSession();
if (stored) {
  $('signin').hidden = true;
  attempt($('signin-alert'), async () => {
    try {
      await startSession(stored.tenant, stored.key);
    } catch (e) {
      if (!(e instanceof SignedOut)) {
        session = null;
        $('signin').hidden = false;
      }
      throw e;
    }
  });
}
