// The SPA's side of edge-mfa (docs/INTEGRATION.md): calls with the ticket, and the
// second step of a sign-in, from `assess` to an mfa_token for your backend. Plain
// fetch, no framework; the screens are yours (`ui`). tests/e2e/integration.test.mjs
// runs this file, with codes from oathtool and a software passkey for the screens.

/// An edge-mfa refusal: `status`, `code` (the problem's code, e.g. "unauthorized",
/// "rate_limited"), `retryAfter` (seconds, with 429).
export class EdgeMfaError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.detail ?? `edge-mfa answered ${status}`);
    this.status = status;
    this.code = problem?.code;
    this.retryAfter = retryAfter;
  }
}

/// The API for one user: `ticket` from your backend, `stepUp` an mfa_token of this
/// user for the calls that need one once the user has a factor.
export function edgeMfa({ base, tenant, ticket }) {
  async function call(method, path, body, stepUp) {
    const headers = { authorization: `Bearer ${ticket}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (stepUp) headers['x-mfa-token'] = stepUp;
    const response = await fetch(`${base}/v1/${tenant}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'include', // the remembered-device cookie
    });
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const retryAfter = Number(response.headers.get('retry-after')) || undefined;
      throw new EdgeMfaError(response.status, json, retryAfter);
    }
    return json;
  }
  return {
    assess: () => call('POST', '/assess'),
    enroll: (type, stepUp) => call('POST', '/enroll', { type }, stepUp),
    confirm: (enrollmentId, proof) => call('POST', `/enroll/${enrollmentId}/confirm`, proof),
    challenge: (factorId) => call('POST', '/challenge', { factor_id: factorId }),
    verify: (body) => call('POST', '/verify', body),
    redeem: (code, rememberDevice) => call('POST', '/backup-codes/redeem', { code, remember_device: Boolean(rememberDevice) }),
    factors: () => call('GET', '/factors'),
  };
}

/// The browser's WebAuthn calls with JSON in and out (WebAuthn Level 3's
/// parse…FromJSON and toJSON, as the demo page uses them).
export const browserPasskeys = {
  async create(options) {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
    return (await navigator.credentials.create({ publicKey })).toJSON();
  },
  async get(options) {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
    return (await navigator.credentials.get({ publicKey })).toJSON();
  },
};

/// The second step of a sign-in. Resolves to the mfa_token to send to your backend;
/// rejects with an EdgeMfaError (see the guide's "Errors") or on `deny`.
/// `ui`: chooseMethod(types) → "totp" | "webauthn"; firstCode(enrollment, wrong) →
/// the code the app shows after scanning enrollment.qr_svg; showBackupCodes(codes);
/// chooseFactor(factors, lockedFor) → one of `factors`, or { type: "backup_code" };
/// code(factor, wrong) → the code typed; passkeys (browserPasskeys in a browser);
/// rememberDevice (boolean).
export async function secondFactor(mfa, ui) {
  const assessed = await mfa.assess();
  switch (assessed.action) {
    case 'allow':
      return assessed.mfa_token; // acr "0": nobody was asked now (see mfa_method)
    case 'deny':
      throw new Error(`sign-in refused by the policy: ${assessed.reasons.join(', ')}`);
    case 'enroll':
      return enrollFirstFactor(mfa, ui);
    case 'challenge':
      return presentFactor(mfa, ui, assessed);
    default:
      throw new Error(`unknown action ${assessed.action}`);
  }
}

async function enrollFirstFactor(mfa, ui) {
  const type = await ui.chooseMethod(['totp', 'webauthn']);
  const enrollment = await mfa.enroll(type);
  const confirmed = type === 'webauthn'
    ? await mfa.confirm(enrollment.enrollment_id, { credential: await ui.passkeys.create(enrollment.public_key) })
    : await untilRight((wrong) => ui.firstCode(enrollment, wrong),
      (code) => mfa.confirm(enrollment.enrollment_id, { code }));
  if (confirmed.backup_codes) await ui.showBackupCodes(confirmed.backup_codes);
  // The first factor's confirm signs the user in: no verify after it (the same
  // code again would be refused as a replay).
  return confirmed.mfa_token;
}

async function presentFactor(mfa, ui, assessed) {
  // `locked`: too many wrong codes; codes work again in retry_after seconds.
  // Passkeys are never locked.
  const lockedFor = assessed.reasons.includes('locked') ? assessed.retry_after : 0;
  const factor = await ui.chooseFactor(assessed.factors, lockedFor);
  const rememberDevice = Boolean(ui.rememberDevice);
  if (factor.type === 'backup_code') {
    const redeemed = await untilRight((wrong) => ui.code(factor, wrong), (code) => mfa.redeem(code, rememberDevice));
    return redeemed.mfa_token;
  }
  const challenge = await mfa.challenge(factor.id);
  const verified = factor.type === 'webauthn'
    ? await mfa.verify({
      challenge_id: challenge.challenge_id,
      credential: await ui.passkeys.get(challenge.public_key),
      remember_device: rememberDevice,
    })
    : await untilRight((wrong) => ui.code(factor, wrong),
      (code) => mfa.verify({ challenge_id: challenge.challenge_id, code, remember_device: rememberDevice }));
  return verified.mfa_token;
}

/// Asks for a code until one is accepted: a wrong code (422) asks again; anything
/// else, such as 429 after too many wrong codes, goes to the caller.
async function untilRight(ask, send) {
  for (let wrong = false; ; wrong = true) {
    try {
      return await send(await ask(wrong));
    } catch (e) {
      if (e.code !== 'verification_failed') throw e;
    }
  }
}
