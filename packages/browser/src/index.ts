/**
 * @edge-mfa/browser — a typed client for edge-mfa's end-user API (docs/API.md,
 * "End user (ticket)"), for single-page apps and for Node 22 (global `fetch`).
 *
 *     const mfa = new EdgeMfa({ baseUrl: 'https://mfa.example.com', tenant: 'acme', ticket });
 *     const decision = await mfa.assess();
 *     if (decision.action === 'challenge') {
 *       const { mfa_token } = await mfa.verifyTotp(code);
 *       // send mfa_token to your backend
 *     }
 *
 * Every refusal is thrown as an {@link EdgeMfaError} carrying the RFC 9457 problem
 * (`code`, `status`, `detail`) and, on 429, `retryAfter` in seconds. The client
 * keeps no token anywhere: the ticket and the tokens it returns are the caller's.
 */

/** A factor type (API.md): `backup_code` is not enrolled but generated. */
export type Method = 'totp' | 'webauthn' | 'email' | 'sms' | 'backup_code' | 'push';

/** A factor as `assess` and `confirm` name it. */
export interface FactorRef {
  id: string;
  type: Method;
  name: string;
}

/** A factor as `GET factors` lists it; times are Unix seconds. */
export interface Factor extends FactorRef {
  created_at: number;
  /** `null` until the factor is first used. */
  last_used_at: number | null;
}

export type EnrollmentState = 'enrolled' | 'not_enrolled' | 'grace' | 'expired' | 'bypassed';

/** `POST assess`: what the SPA does next (docs/INTEGRATION.md "Action"). */
export interface Decision {
  action: 'allow' | 'challenge' | 'enroll' | 'deny';
  reasons: string[];
  factors: FactorRef[];
  enrollment: { state: EnrollmentState; deadline?: number };
  /** The tenant policy's methods: what to offer for sign-in. */
  allowed_methods: Method[];
  /** What this user can set up now: what to offer for enrollment. */
  enrollable_methods: Exclude<Method, 'backup_code'>[];
  /** The tenant policy's method to ask for first. */
  default_method: Method;
  /** Whether `rememberDevice` does anything, and for how many days. */
  remember_device: { enabled: boolean; days: number };
  /** With `allow`: a token with `acr` "0" (nobody was asked for a factor now). */
  mfa_token?: string;
  expires_in?: number;
  /** With the reason `locked`: seconds until codes are accepted again. */
  retry_after?: number;
}

/** Where a code went: the channel and the masked address. */
export interface Delivery {
  channel: 'email' | 'sms';
  to_masked: string;
}

export interface TotpEnrollment {
  enrollment_id: string;
  type: 'totp';
  /** RFC 4648 base32: the key to type in by hand. */
  secret: string;
  /** The `otpauth://totp/...` key URI the QR code holds. */
  otpauth_uri: string;
  /** The QR code as an SVG document. */
  qr_svg: string;
  expires_at: number;
}

export interface WebauthnEnrollment {
  enrollment_id: string;
  type: 'webauthn';
  /** PublicKeyCredentialCreationOptionsJSON (W3C WebAuthn L3 §5.1). */
  public_key: CreationOptionsJSON;
  expires_at: number;
}

export interface CodeEnrollment {
  enrollment_id: string;
  type: 'email' | 'sms';
  delivery: Delivery;
  expires_at: number;
}

/** `confirm`: the new factor; for the user's first factor, backup codes (shown
 * once) and an `mfa_token`, since the user just proved the factor. */
export interface Confirmed {
  factor: FactorRef;
  backup_codes?: string[];
  /** With the user's first factor: they just proved it, so no verify follows. */
  mfa_token?: string;
  expires_in?: number;
  /** As `Verified`'s: only where the policy sets `remember_device.token_in_body`. */
  device_token?: string;
}

export interface Challenge {
  challenge_id: string;
  type: Method;
  expires_at: number;
  /** PublicKeyCredentialRequestOptionsJSON, for `webauthn`. */
  public_key?: RequestOptionsJSON;
  delivery?: Delivery;
  /** `push`: the number to show; the user types it on the phone. */
  number?: string;
}

/** `POST enroll {"type": "push"}`: the link the phone opens to become an
 * Approver, and the same link as a QR code (SVG). */
export interface PushEnrollment {
  enrollment_id: string;
  type: 'push';
  activation_url: string;
  qr_svg: string;
  /** Unix seconds. */
  expires_at: number;
}

/** What a push approval asks of the page: show `number`. */
export interface PushOptions extends CallOptions {
  /** One phone of several; by default the user's one. */
  factorId?: string;
  /** Read at each ask, so a checkbox ticked while waiting counts. */
  rememberDevice?: boolean | (() => boolean);
  /** Milliseconds between asks (default 2000). */
  interval?: number;
  /** Called once the phone has been asked: show `number` to the user. */
  onNumber?: (number: string, challenge: Challenge) => void;
}

/** `verify` and `backup-codes/redeem`: the proof for the tenant's backend. */
export interface Verified {
  mfa_token: string;
  /** Seconds. */
  expires_in: number;
  /** Only where the tenant's policy sets `remember_device.token_in_body`; a
   * browser gets the HttpOnly cookie instead. */
  device_token?: string;
  /** `backup-codes/redeem`: unused codes left. */
  remaining?: number;
}

export interface Device {
  id: string;
  label: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
}

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the request (and a WebAuthn ceremony in progress). */
  signal?: AbortSignal;
}

/** Options of calls that change factors: once the user has a factor they need a
 * recent `mfa_token` (step-up, API.md). */
export interface StepUpOptions extends CallOptions {
  stepUp?: string;
}

/** The WebAuthn calls the client makes: the browser's `navigator.credentials` by
 * default; tests and other hosts pass their own. */
export interface CredentialsContainerLike {
  create(options: { publicKey: PublicKeyCredentialCreationOptions; signal?: AbortSignal }): Promise<unknown>;
  get(options: { publicKey: PublicKeyCredentialRequestOptions; signal?: AbortSignal }): Promise<unknown>;
}

export interface EdgeMfaOptions {
  /** edge-mfa's origin, e.g. `https://mfa.example.com`. */
  baseUrl: string;
  /** The tenant id. */
  tenant: string;
  /** The ticket from the tenant's backend, or a function that returns a fresh
   * one (tickets live at most 900 s). */
  ticket: string | (() => string | Promise<string>);
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Defaults to `include`, so the remembered-device cookie flows (API.md
   * "Browser rules"). */
  credentials?: RequestCredentials;
  /** Defaults to `navigator.credentials`. */
  webauthn?: CredentialsContainerLike;
}

/** An RFC 9457 problem answered by edge-mfa (`application/problem+json`). */
export class EdgeMfaError extends Error {
  /** The HTTP status; 0 when no answer came (`code` "unreachable"). */
  readonly status: number;
  /** API.md's error code: `invalid_request`, `rate_limited`, `step_up_required`,
   * ...; `unreachable` when no answer came. */
  readonly code: string;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  /** Seconds to wait, from `Retry-After` (429). */
  readonly retryAfter: number | undefined;

  constructor(status: number, problem: Partial<Record<'code' | 'type' | 'title' | 'detail', unknown>>, retryAfter?: number) {
    const text = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);
    const detail = text(problem.detail, `edge-mfa answered ${status}`);
    super(detail);
    this.name = 'EdgeMfaError';
    this.status = status;
    this.code = text(problem.code, status >= 500 ? 'internal' : 'unexpected');
    this.type = text(problem.type, 'about:blank');
    this.title = text(problem.title, '');
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

/** The end-user API of one tenant, as one user (the ticket's `sub`). */
export class EdgeMfa {
  readonly #base: string;
  readonly #tenant: string;
  readonly #ticket: EdgeMfaOptions['ticket'];
  readonly #fetch: typeof fetch;
  readonly #credentials: RequestCredentials;
  readonly #webauthn: CredentialsContainerLike | undefined;

  constructor(options: EdgeMfaOptions) {
    if (!options.baseUrl || !options.tenant || !options.ticket) {
      throw new TypeError('EdgeMfa needs baseUrl, tenant and ticket');
    }
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#tenant = options.tenant;
    this.#ticket = options.ticket;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#credentials = options.credentials ?? 'include';
    this.#webauthn = options.webauthn ?? (globalThis as { navigator?: { credentials?: CredentialsContainerLike } }).navigator?.credentials;
  }

  /** `POST assess`: allow, challenge, enroll or deny, with the reasons. */
  assess(options: CallOptions & { deviceToken?: string } = {}): Promise<Decision> {
    const body = options.deviceToken ? { device_token: options.deviceToken } : {};
    return this.#call('POST', 'assess', { body, signal: options.signal });
  }

  /** `GET factors`: the user's factors and how many backup codes are left. */
  factors(options: CallOptions = {}): Promise<{ factors: Factor[]; backup_codes_remaining: number }> {
    return this.#call('GET', 'factors', options);
  }

  /** `PATCH factors/{id}`: a new name (at most 64 characters). */
  async renameFactor(factorId: string, name: string, options: StepUpOptions = {}): Promise<FactorRef> {
    const answer = await this.#call<{ factor: FactorRef }>('PATCH', `factors/${seg(factorId)}`, { ...options, body: { name } });
    return answer.factor;
  }

  /** `DELETE factors/{id}`. */
  async deleteFactor(factorId: string, options: StepUpOptions = {}): Promise<void> {
    await this.#call('DELETE', `factors/${seg(factorId)}`, options);
  }

  /** `POST enroll` `{type: "totp"}`: the secret, its URI and QR code. Confirm
   * with {@link confirmCode} and a code from the app. */
  enrollTotp(options: StepUpOptions & { name?: string } = {}): Promise<TotpEnrollment> {
    return this.#call('POST', 'enroll', { ...options, body: { type: 'totp', ...(options.name ? { name: options.name } : {}) } });
  }

  /** `POST enroll` for email or SMS codes: a code is sent to `to` (an E.164 number
   * for SMS; for email, the ticket's address when `to` is absent). When the ticket
   * vouches for the address (`email_verified`), the factor is made at once and the
   * answer is {@link Confirmed} (without an `mfa_token`: nothing was proved). */
  enrollCode(type: 'email' | 'sms', options: StepUpOptions & { to?: string; name?: string } = {}): Promise<CodeEnrollment | Confirmed> {
    const body: Record<string, string> = { type };
    if (options.to) body.to = options.to;
    if (options.name) body.name = options.name;
    return this.#call('POST', 'enroll', { ...options, body });
  }

  /** `POST enroll/{id}/confirm` with a code (TOTP, email, SMS). */
  confirmCode(enrollmentId: string, code: string, options: CallOptions = {}): Promise<Confirmed> {
    return this.#call('POST', `enroll/${seg(enrollmentId)}/confirm`, { ...options, body: { code } });
  }

  /** A passkey or security key, start to end: `enroll`, the authenticator's
   * `create()`, `confirm`. */
  async registerPasskey(options: StepUpOptions & { name?: string } = {}): Promise<Confirmed> {
    const enrollment = await this.#call<WebauthnEnrollment>('POST', 'enroll', {
      ...options,
      body: { type: 'webauthn', ...(options.name ? { name: options.name } : {}) },
    });
    const credential = await this.#container().create({ publicKey: creationOptionsFromJSON(enrollment.public_key), ...signalOf(options) });
    return this.#call('POST', `enroll/${seg(enrollment.enrollment_id)}/confirm`, {
      ...options,
      body: { credential: registrationToJSON(credential) },
    });
  }

  /** `POST challenge` for a factor, or for a type (`webauthn`: any of the user's
   * credentials). Email and SMS challenges send a code. */
  challenge(target: { factorId: string } | { type: Method }, options: CallOptions = {}): Promise<Challenge> {
    const body = 'factorId' in target ? { factor_id: target.factorId } : { type: target.type };
    return this.#call('POST', 'challenge', { ...options, body });
  }

  /** `POST enroll {"type": "push"}`: the activation link for the phone (show its
   * QR code); then {@link confirmPush} waits for the phone. */
  enrollPush(options: StepUpOptions & { name?: string } = {}): Promise<PushEnrollment> {
    return this.#call('POST', 'enroll', { ...options, body: { type: 'push', ...(options.name ? { name: options.name } : {}) } });
  }

  /** `POST enroll/{id}/confirm {}` until the phone has activated (202 meanwhile):
   * the new push factor. Abort `signal` to stop waiting. */
  async confirmPush(enrollmentId: string, options: CallOptions & { interval?: number } = {}): Promise<Confirmed> {
    for (;;) {
      const answer = await this.#call<Confirmed | Pending>('POST', `enroll/${seg(enrollmentId)}/confirm`, { ...options, body: {} });
      if (!isPending(answer)) return answer;
      await pause(options.interval ?? 2000, options.signal);
    }
  }

  /** A push approval, start to end: `challenge` (the phone is asked), then
   * `onNumber` with the number to show, then `verify` until the phone answers.
   * An approval the phone denied, reported or answered with another number throws
   * an {@link EdgeMfaError} 422; one that expired, 410; a second one while one is
   * pending, 429 with `retryAfter`. Abort `signal` to cancel. */
  async approvePush(options: PushOptions = {}): Promise<Verified> {
    const challenge = await this.challenge(options.factorId ? { factorId: options.factorId } : { type: 'push' }, options);
    if (!challenge.number) throw new TypeError('the challenge holds no number');
    options.onNumber?.(challenge.number, challenge);
    for (;;) {
      await pause(options.interval ?? 2000, options.signal);
      const rememberDevice = typeof options.rememberDevice === 'function' ? options.rememberDevice() : options.rememberDevice;
      const answer = await this.#call<Verified | Pending>('POST', 'verify', {
        ...options,
        body: { challenge_id: challenge.challenge_id, ...remember({ rememberDevice: rememberDevice ?? false }) },
      });
      if (!isPending(answer)) return answer;
    }
  }

  /** `POST challenge/{id}/resend`: a new code; 429 (with `retryAfter`) when too soon. */
  resend(challengeId: string, options: CallOptions = {}): Promise<Challenge> {
    return this.#call('POST', `challenge/${seg(challengeId)}/resend`, options);
  }

  /** `POST verify` with a TOTP code, no challenge needed. */
  verifyTotp(code: string, options: CallOptions & { rememberDevice?: boolean } = {}): Promise<Verified> {
    return this.#call('POST', 'verify', { ...options, body: { type: 'totp', code, ...remember(options) } });
  }

  /** `POST verify` with the code of a challenge (TOTP, email, SMS). */
  verifyCode(challengeId: string, code: string, options: CallOptions & { rememberDevice?: boolean } = {}): Promise<Verified> {
    return this.#call('POST', 'verify', { ...options, body: { challenge_id: challengeId, code, ...remember(options) } });
  }

  /** A passkey sign-in, start to end: `challenge`, the authenticator's `get()`,
   * `verify`. `factorId` asks for one credential; by default any of the user's. */
  async verifyPasskey(options: CallOptions & { factorId?: string; rememberDevice?: boolean } = {}): Promise<Verified> {
    const challenge = await this.challenge(options.factorId ? { factorId: options.factorId } : { type: 'webauthn' }, options);
    if (!challenge.public_key) throw new TypeError('the challenge holds no WebAuthn options');
    const credential = await this.#container().get({ publicKey: requestOptionsFromJSON(challenge.public_key), ...signalOf(options) });
    return this.#call('POST', 'verify', {
      ...options,
      body: { challenge_id: challenge.challenge_id, credential: authenticationToJSON(credential), ...remember(options) },
    });
  }

  /** `POST backup-codes`: a new set (shown once); the old set stops working. */
  async regenerateBackupCodes(options: StepUpOptions = {}): Promise<string[]> {
    return (await this.#call<{ codes: string[] }>('POST', 'backup-codes', options)).codes;
  }

  /** `POST backup-codes/redeem`. */
  redeemBackupCode(code: string, options: CallOptions & { rememberDevice?: boolean } = {}): Promise<Verified> {
    return this.#call('POST', 'backup-codes/redeem', { ...options, body: { code, ...remember(options) } });
  }

  /** `GET devices`: the remembered devices. */
  async devices(options: StepUpOptions = {}): Promise<Device[]> {
    return (await this.#call<{ devices: Device[] }>('GET', 'devices', options)).devices;
  }

  /** `DELETE devices/{id}`. */
  async revokeDevice(deviceId: string, options: StepUpOptions = {}): Promise<void> {
    await this.#call('DELETE', `devices/${seg(deviceId)}`, options);
  }

  /** `POST help`: ask the tenant's admins for help (one open request per user). */
  async askForHelp(message?: string, options: CallOptions = {}): Promise<string> {
    const answer = await this.#call<{ request_id: string }>('POST', 'help', { ...options, body: message ? { message } : {} });
    return answer.request_id;
  }

  #container(): CredentialsContainerLike {
    if (!this.#webauthn) throw new TypeError('no WebAuthn here: pass `webauthn` (navigator.credentials in a browser)');
    return this.#webauthn;
  }

  async #call<T>(method: string, path: string, options: { body?: unknown; signal?: AbortSignal | undefined; stepUp?: string | undefined } = {}): Promise<T> {
    const ticket = typeof this.#ticket === 'function' ? await this.#ticket() : this.#ticket;
    const headers: Record<string, string> = { authorization: `Bearer ${ticket}`, accept: 'application/json' };
    if (options.stepUp) headers['x-mfa-token'] = options.stepUp;
    const init: RequestInit = { method, headers, credentials: this.#credentials };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;
    let response: Response;
    try {
      response = await this.#fetch(`${this.#base}/v1/${encodeURIComponent(this.#tenant)}/${path}`, init);
    } catch (e) {
      // The caller's own abort (or timeout) is theirs to see as it is.
      if (options.signal?.aborted) throw e;
      // No answer at all: the network, or a CORS refusal, which a browser reports
      // the same way (the page's origin is not one of the tenant's origins).
      const why = e instanceof Error ? e.message : String(e);
      throw new EdgeMfaError(0, {
        code: 'unreachable',
        detail: `no answer from ${this.#base} (${why}): the network, or this page's origin is not one of the tenant's origins`,
      });
    }
    if (response.status === 204) return undefined as T;
    let text: string;
    try {
      text = await response.text();
    } catch (e) {
      if (options.signal?.aborted) throw e;
      throw new EdgeMfaError(0, { code: 'unreachable', detail: `the answer from ${this.#base} broke off: ${e instanceof Error ? e.message : String(e)}` });
    }
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: a proxy's page; reported below by status.
    }
    if (!response.ok) {
      const retry = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
      const problem = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
      throw new EdgeMfaError(response.status, problem, Number.isFinite(retry) ? retry : undefined);
    }
    return parsed as T;
  }
}

/** `202`: the phone has not activated or answered yet. */
interface Pending {
  state: 'pending';
}

function isPending(answer: unknown): answer is Pending {
  return typeof answer === 'object' && answer !== null && (answer as { state?: unknown }).state === 'pending';
}

/** Waits `ms`, or throws the signal's reason once it aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

// ---- WebAuthn's JSON forms (W3C WebAuthn L3 §5.1): the browser's own
// `parseCreationOptionsFromJSON` / `toJSON()` where it has them, else these.

export interface CredentialDescriptorJSON {
  type: 'public-key';
  id: string;
  transports?: string[];
}

export interface CreationOptionsJSON {
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  challenge: string;
  pubKeyCredParams: { type: 'public-key'; alg: number }[];
  timeout?: number;
  excludeCredentials?: CredentialDescriptorJSON[];
  authenticatorSelection?: Record<string, unknown>;
  attestation?: string;
  extensions?: Record<string, unknown>;
}

export interface RequestOptionsJSON {
  challenge: string;
  timeout?: number;
  rpId?: string;
  allowCredentials?: CredentialDescriptorJSON[];
  userVerification?: string;
  extensions?: Record<string, unknown>;
}

/** RegistrationResponseJSON / AuthenticationResponseJSON, as `toJSON()` gives them. */
export interface PublicKeyCredentialJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  authenticatorAttachment?: string | null;
  clientExtensionResults: Record<string, unknown>;
  response: Record<string, unknown>;
}

type StaticParsers = {
  parseCreationOptionsFromJSON?: (json: CreationOptionsJSON) => PublicKeyCredentialCreationOptions;
  parseRequestOptionsFromJSON?: (json: RequestOptionsJSON) => PublicKeyCredentialRequestOptions;
};

function nativeParsers(): StaticParsers {
  return ((globalThis as { PublicKeyCredential?: StaticParsers }).PublicKeyCredential ?? {});
}

/** base64url (RFC 4648 §5, no padding) → bytes. */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** bytes → base64url (RFC 4648 §5, no padding). */
export function toBase64url(data: ArrayBuffer | ArrayBufferView): string {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const descriptor = (d: CredentialDescriptorJSON): PublicKeyCredentialDescriptor => ({
  type: d.type,
  id: fromBase64url(d.id),
  ...(d.transports ? { transports: d.transports as AuthenticatorTransport[] } : {}),
});

/** PublicKeyCredentialCreationOptionsJSON → the options `create()` takes. */
export function creationOptionsFromJSON(json: CreationOptionsJSON, native = nativeParsers()): PublicKeyCredentialCreationOptions {
  if (native.parseCreationOptionsFromJSON) return native.parseCreationOptionsFromJSON(json);
  return {
    ...(json as unknown as PublicKeyCredentialCreationOptions),
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: (json.excludeCredentials ?? []).map(descriptor),
  };
}

/** PublicKeyCredentialRequestOptionsJSON → the options `get()` takes. */
export function requestOptionsFromJSON(json: RequestOptionsJSON, native = nativeParsers()): PublicKeyCredentialRequestOptions {
  if (native.parseRequestOptionsFromJSON) return native.parseRequestOptionsFromJSON(json);
  return {
    ...(json as unknown as PublicKeyCredentialRequestOptions),
    challenge: fromBase64url(json.challenge),
    allowCredentials: (json.allowCredentials ?? []).map(descriptor),
  };
}

type CredentialLike = {
  id: string;
  rawId: ArrayBuffer;
  type: string;
  authenticatorAttachment?: string | null;
  getClientExtensionResults?: () => Record<string, unknown>;
  toJSON?: () => unknown;
  response: Record<string, unknown>;
};

function asCredential(value: unknown): CredentialLike {
  const c = value as CredentialLike | null;
  if (!c || typeof c !== 'object' || typeof c.id !== 'string' || !c.response) {
    throw new TypeError('the authenticator returned no credential');
  }
  return c;
}

function commonJSON(c: CredentialLike, response: Record<string, unknown>): PublicKeyCredentialJSON {
  return {
    id: c.id,
    rawId: toBase64url(c.rawId),
    type: 'public-key',
    authenticatorAttachment: c.authenticatorAttachment ?? null,
    clientExtensionResults: c.getClientExtensionResults?.() ?? {},
    response,
  };
}

const bytesOf = (value: unknown) => toBase64url(value as ArrayBuffer);

/** A credential from `create()` → RegistrationResponseJSON. */
export function registrationToJSON(value: unknown): PublicKeyCredentialJSON {
  const c = asCredential(value);
  if (typeof c.toJSON === 'function') return c.toJSON() as PublicKeyCredentialJSON;
  const r = c.response as { clientDataJSON: ArrayBuffer; attestationObject: ArrayBuffer; getTransports?: () => string[] };
  return commonJSON(c, {
    clientDataJSON: bytesOf(r.clientDataJSON),
    attestationObject: bytesOf(r.attestationObject),
    transports: r.getTransports?.() ?? [],
  });
}

/** A credential from `get()` → AuthenticationResponseJSON. */
export function authenticationToJSON(value: unknown): PublicKeyCredentialJSON {
  const c = asCredential(value);
  if (typeof c.toJSON === 'function') return c.toJSON() as PublicKeyCredentialJSON;
  const r = c.response as { clientDataJSON: ArrayBuffer; authenticatorData: ArrayBuffer; signature: ArrayBuffer; userHandle?: ArrayBuffer | null };
  return commonJSON(c, {
    clientDataJSON: bytesOf(r.clientDataJSON),
    authenticatorData: bytesOf(r.authenticatorData),
    signature: bytesOf(r.signature),
    userHandle: r.userHandle ? bytesOf(r.userHandle) : null,
  });
}

const seg = (id: string) => encodeURIComponent(id);
const remember = (o: { rememberDevice?: boolean }) => (o.rememberDevice ? { remember_device: true } : {});
const signalOf = (o: CallOptions) => (o.signal ? { signal: o.signal } : {});
