// The Approver (docs/PUSH.md): this phone approves sign-ins with number matching.
// `#activate=<link>` sets it up (a WebAuthn credential of this origin and a Web
// Push subscription); `#approve=<approval>` (from a notification) answers one,
// signed by that credential over SHA-256("edge-mfa approval" 0 id 0 answer).

const $ = (id) => document.getElementById(id);
const SECTIONS = ['idle', 'activate', 'activated', 'approve', 'answered'];
const encoder = new TextEncoder();

const b64url = {
  encode(bytes) {
    let text = '';
    for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  },
  decode(text) {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const raw = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  },
};

/// The fragment's JSON handle: `{t, u, e, c}` (activation) or `{t, u, a}` (approval).
function handle(kind) {
  const prefix = `#${kind}=`;
  if (!location.hash.startsWith(prefix)) return null;
  try {
    return JSON.parse(new TextDecoder().decode(b64url.decode(location.hash.slice(prefix.length))));
  } catch {
    return null;
  }
}

function show(section) {
  for (const id of SECTIONS) $(id).hidden = id !== section;
  const heading = $(section).querySelector('h1');
  heading?.focus();
}

function say(text) {
  $('status').textContent = text;
}

async function call(tenant, route, body) {
  const response = await fetch(`/v1/${encodeURIComponent(tenant)}/approver/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(answer.detail || `the service answered ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return answer;
}

/// PublicKeyCredentialCreationOptions from their JSON (WebAuthn L3 §5.4), by the
/// browser where it can, else by hand.
function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return {
    ...json,
    challenge: b64url.decode(json.challenge),
    user: { ...json.user, id: b64url.decode(json.user.id) },
    excludeCredentials: (json.excludeCredentials ?? []).map((c) => ({ ...c, id: b64url.decode(c.id) })),
  };
}

/// RegistrationResponseJSON / AuthenticationResponseJSON (WebAuthn L3 §5.1).
function credentialJSON(credential) {
  if (typeof credential.toJSON === 'function') return credential.toJSON();
  const r = credential.response;
  const response = r.attestationObject
    ? { clientDataJSON: b64url.encode(r.clientDataJSON), attestationObject: b64url.encode(r.attestationObject), transports: r.getTransports?.() ?? [] }
    : {
        clientDataJSON: b64url.encode(r.clientDataJSON),
        authenticatorData: b64url.encode(r.authenticatorData),
        signature: b64url.encode(r.signature),
        userHandle: r.userHandle ? b64url.encode(r.userHandle) : null,
      };
  return {
    id: credential.id,
    rawId: b64url.encode(credential.rawId),
    type: credential.type,
    response,
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

async function activate(link) {
  let options;
  try {
    options = await call(link.t, 'activation', { user: link.u, enrollment_id: link.e, activation_code: link.c });
  } catch (e) {
    say(e.status === 410 ? 'This link has expired or was already used: ask the sign-in page for a new one.' : `Setting up failed: ${e.message}`);
    return show('idle');
  }
  for (const el of document.querySelectorAll('.app')) el.textContent = options.app;
  $('activate-account').textContent = link.u;
  show('activate');
  $('activate-button').onclick = async () => {
    $('activate-button').disabled = true;
    try {
      if ((await Notification.requestPermission()) !== 'granted') {
        throw new Error('notifications are needed to hear of sign-ins');
      }
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: b64url.decode(options.application_server_key),
      });
      const credential = await navigator.credentials.create({ publicKey: creationOptions(options.public_key) });
      await call(link.t, 'activate', {
        user: link.u,
        enrollment_id: link.e,
        activation_code: link.c,
        credential: credentialJSON(credential),
        subscription: subscription.toJSON(),
        name: $('device-name').value.trim() || undefined,
      });
      // The link is spent: keep it out of the history.
      history.replaceState(null, '', location.pathname);
      say('');
      show('activated');
    } catch (e) {
      say(`Setting up failed: ${e.message}`);
      $('activate-button').disabled = false;
    }
  };
}

/// The challenge an answer signs: SHA-256("edge-mfa approval" 0 id 0 answer).
async function answerChallenge(approvalId, answer) {
  const parts = [encoder.encode('edge-mfa approval\0'), encoder.encode(approvalId), new Uint8Array([0]), encoder.encode(answer)];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

async function approval(link) {
  let view;
  try {
    view = await call(link.t, 'approval', { user: link.u, approval_id: link.a });
  } catch (e) {
    say(e.status === 410 ? 'This sign-in was already answered, or has expired.' : `Could not read the sign-in: ${e.message}`);
    return show('idle');
  }
  for (const el of document.querySelectorAll('.app')) el.textContent = view.app;
  $('when').textContent = new Date(view.created_at * 1000).toLocaleString();
  $('where').textContent = place(view.country);
  $('account').textContent = link.u;
  $('number').maxLength = view.digits;
  $('number').value = '';
  // A page that answered an approval before opens the next one ready.
  for (const b of document.querySelectorAll('#approve button')) b.disabled = false;
  show('approve');
  const answer = async (kind, number) => {
    for (const b of document.querySelectorAll('#approve button')) b.disabled = true;
    try {
      const challenge = await answerChallenge(link.a, kind === 'approve' ? number : kind);
      const credential = await navigator.credentials.get({
        publicKey: {
          challenge,
          rpId: view.rp_id,
          allowCredentials: [{ type: 'public-key', id: b64url.decode(view.credential_id) }],
          userVerification: 'required',
          timeout: 120000,
        },
      });
      const body = { user: link.u, approval_id: link.a, answer: kind, credential: credentialJSON(credential) };
      if (kind === 'approve') body.number = number;
      const { state } = await call(link.t, 'answer', body);
      history.replaceState(null, '', location.pathname);
      const texts = {
        approved: ['Approved', 'Go back to the sign-in page: it continues there.'],
        denied: ['Denied', 'The sign-in was refused.'],
        reported: ['Reported', 'The sign-in was refused, and the security team was told.'],
      };
      $('answered-title').textContent = texts[state][0];
      $('answered-text').textContent = texts[state][1];
      say('');
      show('answered');
    } catch (e) {
      // A number that is not the one shown (the signature was good): the sign-in is
      // refused. Any other refusal (a signature that did not verify) leaves the
      // approval waiting: say so, and let the user try again.
      if (e.status === 422 && /number/.test(e.message)) {
        $('answered-title').textContent = 'Not approved';
        $('answered-text').textContent = 'That is not the number on the sign-in page. The sign-in was refused: start it again there.';
        history.replaceState(null, '', location.pathname);
        say('');
        return show('answered');
      }
      say(`The answer failed: ${e.message}`);
      for (const b of document.querySelectorAll('#approve button')) b.disabled = false;
    }
  };
  $('approve-form').onsubmit = (event) => {
    event.preventDefault();
    answer('approve', $('number').value.replace(/\D/g, ''));
  };
  $('deny-button').onclick = () => answer('deny');
  $('report-button').onclick = () => answer('report');
}

/// A country as the platform told it: ISO 3166-1 alpha-2, or Cloudflare's `T1`
/// (the Tor network) and `XX` (unknown), which are no region to name.
function place(country) {
  if (!country || country === 'XX') return 'unknown';
  if (country === 'T1') return 'the Tor network';
  try {
    return new Intl.DisplayNames([navigator.language], { type: 'region' }).of(country) ?? country;
  } catch {
    return country;
  }
}

function route() {
  const activation = handle('activate');
  const pending = handle('approve');
  // What the link carries stays in this page's memory, not in its address.
  if (activation || pending) history.replaceState(null, '', location.pathname);
  if (activation) return activate(activation);
  if (pending) return approval(pending);
  say('');
  return show('idle');
}

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js', { scope: './' }).catch((e) => say(`This browser cannot run the Approver: ${e.message}`));
} else {
  say('This browser cannot run the Approver: it has no service workers.');
}
addEventListener('hashchange', route);
route();
