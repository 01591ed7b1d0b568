/**
 * `<edge-mfa-prompt>`: the whole second step of a sign-in, as one custom element
 * built on {@link EdgeMfa}.
 *
 *     <script type="module" src="https://mfa.example.com/sdk/prompt.js"></script>
 *     <edge-mfa-prompt tenant="acme" base-url="https://mfa.example.com"></edge-mfa-prompt>
 *     <script type="module">
 *       const prompt = document.querySelector('edge-mfa-prompt');
 *       prompt.ticket = await (await fetch('/api/mfa-ticket', { method: 'POST' })).text();
 *       prompt.addEventListener('edge-mfa-complete', (e) => sendToBackend(e.detail.mfaToken));
 *     </script>
 *
 * It assesses the sign-in; enrolls a first factor when the policy requires one
 * (only the policy's methods; the QR code and the key for an authenticator app;
 * passkeys; email and SMS codes; backup codes shown once, with copy and download);
 * asks for the default factor with "try another method", backup codes, "remember
 * this device" and "ask for help"; counts down a lockout from `Retry-After`; and
 * ends with the `edge-mfa-complete` event carrying the `mfa_token`. It keeps no
 * token: the event hands it over.
 *
 * Attributes: `tenant`, `base-url` (default: the page's origin). The ticket is a
 * property only (`prompt.ticket = ...`, a string or a function returning a fresh
 * one), never an attribute: a ticket in the DOM would be readable by whatever reads
 * the page, and it is enough to enroll a factor for a user who has none.
 * Events (bubbling, composed): `edge-mfa-complete` {@link CompleteDetail};
 * `edge-mfa-denied` {@link DeniedDetail} (the policy refuses the sign-in);
 * `edge-mfa-error` {@link ErrorDetail} (it cannot go on: an expired ticket, a
 * server error). `start()` begins again.
 * Texts: the `texts` property replaces any of {@link englishTexts}. Looks: the CSS
 * custom properties `--edge-mfa-font`, `--edge-mfa-color`, `--edge-mfa-muted`,
 * `--edge-mfa-background`, `--edge-mfa-border`, `--edge-mfa-border-strong`,
 * `--edge-mfa-accent`, `--edge-mfa-accent-text`, `--edge-mfa-error`,
 * `--edge-mfa-disabled`, `--edge-mfa-radius`, `--edge-mfa-width`, and the parts
 * `card`, `heading`, `button`, `input`.
 * A page's CSP needs edge-mfa's origin in `script-src` (for `/sdk/`) and
 * `connect-src`, and `img-src data:` (the QR code); styles are a constructed
 * stylesheet, so no `'unsafe-inline'` is needed.
 */
import { EdgeMfa, EdgeMfaError, type Challenge, type Confirmed, type Decision, type FactorRef, type Method, type Verified } from './index.js';
import { englishTexts, format, type PromptTexts } from './texts.js';

export { englishTexts, type PromptTexts } from './texts.js';

/** `edge-mfa-complete`: the proof for the tenant's backend. */
export interface CompleteDetail {
  mfaToken: string;
  /** Seconds the token was valid for when edge-mfa issued it. */
  expiresIn: number;
  /** When it stops being valid (Unix seconds, by this browser's clock). */
  expiresAt: number;
  /** The factor used, or `none` when the policy, a bypass or a remembered
   * device let the user through (the token's `acr` is then "0"). */
  method: Method | 'none';
  /** `assess`'s reasons and enrollment state: `grace` with `enrollment.deadline`
   * means the user was let through but should set up a factor soon. */
  reasons: string[];
  enrollment: Decision['enrollment'];
  /** With `backup_code`: unused codes left (0: that was the last one). */
  backupCodesRemaining?: number;
}

/** `edge-mfa-denied`: the policy refuses this sign-in. */
export interface DeniedDetail {
  reasons: string[];
}

/** `edge-mfa-error`: why the prompt stopped; `status` when edge-mfa answered. */
export interface ErrorDetail {
  error: unknown;
  status?: number;
}

type Ticket = string | (() => string | Promise<string>);
/** What the user signs in with: one of their factors, or a backup code. */
type Target = FactorRef | { type: 'backup_code'; id?: undefined; name?: undefined };
type Child = Node | string | null | undefined | false;
/** A received token with the moment it was received. */
type Token = { mfa_token: string; expires_in: number; receivedAt: number; remaining?: number };

const ENROLLABLE: Method[] = ['totp', 'webauthn', 'push', 'email', 'sms'];
let ids = 0;

export class EdgeMfaPrompt extends HTMLElement {
  static readonly observedAttributes = ['tenant', 'base-url'];

  #texts: PromptTexts = { ...englishTexts };
  #ticket: Ticket | undefined;
  #client: EdgeMfa | undefined;
  #decision: Omit<Decision, 'mfa_token'> | undefined;
  #backupCodesLeft = 0;
  #remember = false;
  /** When codes are accepted again (ms since the epoch); 0 when not locked. */
  #lockedUntil = 0;
  #timers = new Set<ReturnType<typeof setInterval>>();
  #abort = new AbortController();
  /** Stops the waiting of the view shown (set by a step that waits: push). */
  #leave: (() => void) | undefined;
  /** Counts runs: a step of an earlier run (before `start()` or a reset) is ignored. */
  #generation = 0;
  #started = false;
  #scheduled = false;
  #restartScheduled = false;
  #lockedState: { code: HTMLInputElement; submit: HTMLButtonElement; note: HTMLElement } | undefined;
  #root: ShadowRoot;
  #view: HTMLElement;
  #status: HTMLElement;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES);
    this.#root.adoptedStyleSheets = [sheet];
    this.#view = h('div', { class: 'card', part: 'card' });
    this.#status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    this.#root.append(this.#view, this.#status);
  }

  /** The ticket from the tenant's backend, or a function returning a fresh one;
   * read at every request, so setting a new one never restarts the flow. */
  get ticket(): Ticket | undefined {
    return this.#ticket;
  }
  set ticket(value: Ticket | undefined) {
    this.#ticket = value;
    this.#schedule();
  }

  get tenant(): string {
    return this.getAttribute('tenant') ?? '';
  }
  set tenant(value: string) {
    this.setAttribute('tenant', value);
  }

  get baseUrl(): string {
    return this.getAttribute('base-url') ?? globalThis.location?.origin ?? '';
  }
  set baseUrl(value: string) {
    this.setAttribute('base-url', value);
  }

  /** The texts shown; setting it replaces the given ones (others stay English)
   * from the next step on. */
  get texts(): PromptTexts {
    return { ...this.#texts };
  }
  set texts(value: Partial<PromptTexts>) {
    this.#texts = { ...englishTexts, ...value };
  }

  connectedCallback(): void {
    this.#schedule();
  }

  disconnectedCallback(): void {
    // Moved, not removed (a framework re-parenting it): keep the step the user is on.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.#reset();
      this.#started = false;
    });
  }

  attributeChangedCallback(_name: string, old: string | null, value: string | null): void {
    if (old === value) return;
    if (!this.#started) return this.#schedule();
    // Attributes changed together restart it once.
    if (this.#restartScheduled) return;
    this.#restartScheduled = true;
    queueMicrotask(() => {
      this.#restartScheduled = false;
      void this.start();
    });
  }

  /** Starts over: a new `assess` with the current attributes. */
  async start(): Promise<void> {
    this.#reset();
    if (!this.tenant || !this.#ticket) return;
    this.#started = true;
    this.#client = new EdgeMfa({
      baseUrl: this.baseUrl,
      tenant: this.tenant,
      ticket: () => {
        const current = this.#ticket ?? '';
        return typeof current === 'function' ? current() : current;
      },
    });
    this.#render([h('p', { class: 'muted', 'aria-busy': 'true' }, this.#t('loading'))], { focus: false });
    await this.#run(async () => {
      const { mfa_token, ...decision } = await this.#api().assess(this.#signal());
      this.#decision = decision;
      this.#remember = false;
      if (decision.retry_after) this.#lock(decision.retry_after);
      switch (decision.action) {
        case 'allow':
          return this.#complete({ mfa_token: mfa_token ?? '', expires_in: decision.expires_in ?? 0, receivedAt: nowSeconds() }, 'none');
        case 'deny':
          return this.#denied();
        case 'enroll':
          return this.#chooseEnrollment();
        case 'challenge': {
          const { backup_codes_remaining } = await this.#api().factors(this.#signal());
          this.#backupCodesLeft = backup_codes_remaining;
          return this.#verify(this.#defaultTarget());
        }
      }
    });
  }

  /** Starts once the attributes set together (an upgrade, a framework's render)
   * are all in place. */
  #schedule(): void {
    if (this.#started || this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (!this.#started && this.isConnected && this.tenant && this.#ticket) void this.start();
    });
  }

  #reset(): void {
    this.#generation++;
    this.#abort.abort();
    this.#abort = new AbortController();
    this.#clearTimers();
    this.#lockedUntil = 0;
    this.#lockedState = undefined;
  }

  #clearTimers(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.clear();
  }

  #api(): EdgeMfa {
    if (!this.#client) throw new TypeError('edge-mfa-prompt is not started');
    return this.#client;
  }

  #signal() {
    return { signal: this.#abort.signal };
  }

  #t(key: keyof PromptTexts, values?: Record<string, string | number>): string {
    return format(this.#texts[key], values);
  }

  #emit(type: 'edge-mfa-complete' | 'edge-mfa-denied' | 'edge-mfa-error', detail: CompleteDetail | DeniedDetail | ErrorDetail): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  // ---- Views. Each replaces the card's content and moves focus into it: to the
  // heading, so a screen reader reads the new step from its start, or to the one
  // control the step is about.

  #render(children: Child[], { focus = true }: { focus?: boolean } = {}): void {
    this.#clearTimers();
    // A step that waits on its view (push) stops once the view is left.
    this.#leave?.();
    this.#leave = undefined;
    this.#view.replaceChildren(...children.filter(isNode));
    if (!focus) return;
    const target = this.#view.querySelector<HTMLElement>('[data-autofocus]:not([disabled])') ?? this.#view.querySelector<HTMLElement>('h2');
    target?.focus();
  }

  #heading(key: keyof PromptTexts): HTMLElement {
    return h('h2', { tabindex: '-1', part: 'heading' }, this.#t(key));
  }

  #announce(text: string): void {
    // Cleared first, so the same message twice is announced twice.
    this.#status.textContent = '';
    setTimeout(() => (this.#status.textContent = text), 50);
  }

  #complete(token: Token, method: Method | 'none'): void {
    const remaining = token.remaining;
    const text =
      remaining === undefined ? this.#t('doneText')
      : remaining === 0 ? this.#t('backupNoneLeft')
      : remaining === 1 ? this.#t('backupRemainingOne')
      : this.#t('backupRemaining', { count: remaining });
    this.#render([this.#heading('doneHeading'), h('p', {}, text)]);
    this.#emit('edge-mfa-complete', {
      mfaToken: token.mfa_token,
      expiresIn: token.expires_in,
      expiresAt: token.receivedAt + token.expires_in,
      method,
      reasons: this.#decision?.reasons ?? [],
      enrollment: this.#decision?.enrollment ?? { state: 'enrolled' },
      ...(remaining === undefined ? {} : { backupCodesRemaining: remaining }),
    } satisfies CompleteDetail);
  }

  #denied(): void {
    this.#render([this.#heading('deniedHeading'), h('p', {}, this.#t('deniedText')), this.#footer({ other: false })]);
    this.#emit('edge-mfa-denied', { reasons: this.#decision?.reasons ?? [] } satisfies DeniedDetail);
  }

  #chooseEnrollment(): void {
    const decision = this.#decision;
    if (!decision) return;
    const methods = ordered(ENROLLABLE.filter((m) => decision.enrollable_methods.includes(m as Exclude<Method, 'backup_code'>)), decision.default_method);
    const deadline = decision.enrollment.deadline;
    this.#render([
      this.#heading('enrollHeading'),
      h('p', {}, this.#t('enrollText')),
      deadline && deadline > nowSeconds()
        ? h('p', { class: 'muted' }, this.#t('enrollDeadline', { date: new Date(deadline * 1000).toLocaleDateString(this.#texts.locale) }))
        : null,
      h('ul', { class: 'choices' }, ...methods.map((m) => h('li', {}, this.#choice(m, () => this.#enroll(m))))),
      this.#footer({ other: false }),
    ]);
  }

  /** A method as a button whose name is all it shows: the method, then its hint
   * (WCAG 2.5.3: the visible text is the accessible name). */
  #choice(method: Method, onclick: () => void, name?: string): HTMLElement {
    const kind = this.#t(`method_${method}`);
    return h(
      'button',
      { type: 'button', class: 'choice', part: 'button', onclick },
      // A factor named after its kind (the default name) is not named twice.
      h('span', { class: 'label' }, name && name !== kind ? `${kind}: ${name}` : kind),
      h('span', { class: 'hint' }, this.#t(`method_${method}_hint`)),
    );
  }

  #enroll(method: Method): void {
    if (method === 'totp') void this.#enrollTotp();
    else if (method === 'webauthn') this.#enrollPasskey();
    else if (method === 'email' || method === 'sms') this.#enrollCode(method);
    else if (method === 'push') void this.#enrollPush();
  }

  /** Push: the phone opens the activation link (QR code), becomes an Approver;
   * this page waits for it, then confirms. */
  async #enrollPush(): Promise<void> {
    const step = new AbortController();
    await this.#run(async () => {
      const enrollment = await this.#api().enrollPush(this.#signal());
      const qr = h('img', {
        class: 'qr',
        src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrollment.qr_svg)}`,
        alt: this.#t('pushQrAlt'),
        width: '200',
        height: '200',
      });
      const waiting = h('p', { class: 'muted', role: 'status' }, this.#t('pushWaiting'));
      this.#render([
        this.#heading('pushEnrollHeading'),
        h('p', {}, this.#t('pushEnrollText')),
        qr,
        h('p', { class: 'muted' }, this.#t('pushLinkLabel')),
        h('p', { class: 'secret' }, h('code', {}, enrollment.activation_url)),
        waiting,
        this.#back(() => this.#chooseEnrollment()),
      ]);
      this.#leave = () => step.abort();
      let confirmed: Confirmed;
      try {
        // Until the phone activates, or this view is left.
        const signal = AbortSignal.any([this.#abort.signal, step.signal]);
        confirmed = await this.#api().confirmPush(enrollment.enrollment_id, { signal });
      } catch (e) {
        if (step.signal.aborted) return;
        throw e;
      }
      this.#announce(this.#t('pushActivated'));
      this.#confirmed(confirmed, 'push');
    });
  }

  async #enrollTotp(): Promise<void> {
    await this.#run(async () => {
      const enrollment = await this.#api().enrollTotp(this.#signal());
      const qr = h('img', {
        class: 'qr',
        src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrollment.qr_svg)}`,
        alt: this.#t('totpQrAlt'),
        width: '200',
        height: '200',
      });
      // Shown in groups of four; read out one character at a time.
      const key = h(
        'p',
        { class: 'secret' },
        h('code', { 'aria-hidden': 'true' }, enrollment.secret.replace(/(.{4})(?=.)/g, '$1 ')),
        h('span', { class: 'sr-only' }, enrollment.secret.split('').join(' ')),
      );
      const copyKey = h('button', { type: 'button', part: 'button' }, this.#t('totpCopyKey'));
      copyKey.addEventListener('click', () => this.#copy(enrollment.secret, copyKey, 'totpKeyCopied'));
      this.#codeForm({
        heading: 'totpHeading',
        before: [qr, h('p', {}, this.#t('totpManual')), key, h('div', { class: 'actions' }, copyKey)],
        label: 'totpCodeLabel',
        numeric: true,
        submit: 'confirm',
        remember: false,
        focus: 'heading',
        send: async (code) => ({ confirmed: await this.#api().confirmCode(enrollment.enrollment_id, code, this.#signal()) }),
        done: (answer) => this.#confirmed(answer.confirmed, 'totp'),
        back: () => this.#chooseEnrollment(),
      });
    });
  }

  #enrollPasskey(): void {
    const name = input('passkey-name', { autocomplete: 'off', maxlength: '64' });
    const form = this.#form(
      {
        // The step starts at its heading: the optional name comes before the button.
        submit: 'passkeyCreate',
        step: async () => {
          const options = { ...this.#signal(), ...(name.value.trim() ? { name: name.value.trim() } : {}) };
          this.#confirmed(await this.#api().registerPasskey(options), 'webauthn');
        },
      },
      h('p', {}, this.#t('passkeyText')),
      h('label', { for: 'passkey-name' }, this.#t('passkeyNameLabel')),
      name,
    );
    this.#render([this.#heading('passkeyHeading'), form, this.#back(() => this.#chooseEnrollment())]);
  }

  #enrollCode(type: 'email' | 'sms'): void {
    const to = input('code-to', type === 'email' ? { type: 'email', autocomplete: 'email' } : { type: 'tel', autocomplete: 'tel', required: '' });
    to.setAttribute('data-autofocus', '');
    const form = this.#form(
      {
        submit: 'sendCode',
        step: async () => {
          const address = to.value.trim();
          const answer = await this.#api().enrollCode(type, { ...this.#signal(), ...(address ? { to: address } : {}) });
          // An address the ticket vouches for: the factor exists already.
          if ('factor' in answer) return this.#confirmed(answer, type);
          this.#codeForm({
            heading: type === 'email' ? 'emailHeading' : 'smsHeading',
            before: [h('p', {}, this.#t('codeSentTo', { to: answer.delivery.to_masked }))],
            label: 'codeLabel',
            numeric: true,
            submit: 'confirm',
            remember: false,
            send: async (code) => ({ confirmed: await this.#api().confirmCode(answer.enrollment_id, code, this.#signal()) }),
            done: (result) => this.#confirmed(result.confirmed, type),
            back: () => this.#enrollCode(type),
          });
        },
      },
      h('label', { for: 'code-to' }, this.#t(type === 'email' ? 'emailLabel' : 'smsLabel')),
      to,
    );
    this.#render([this.#heading(type === 'email' ? 'emailHeading' : 'smsHeading'), form, this.#back(() => this.#chooseEnrollment())]);
  }

  /** After the first factor: the backup codes once, then done (or, for a factor
   * made without proof, the sign-in with it). */
  #confirmed(confirmed: Confirmed, method: Method): void {
    const receivedAt = nowSeconds();
    const finish = () => {
      if (confirmed.mfa_token) this.#complete({ mfa_token: confirmed.mfa_token, expires_in: confirmed.expires_in ?? 0, receivedAt }, method);
      else void this.start();
    };
    if (confirmed.backup_codes?.length) this.#showBackupCodes(confirmed.backup_codes, finish);
    else finish();
  }

  #showBackupCodes(codes: string[], next: () => void): void {
    const text = `${codes.join('\n')}\n`;
    const saved = h('input', { type: 'checkbox', id: 'codes-saved' });
    const proceed = h('button', { type: 'button', class: 'primary', part: 'button', disabled: true, onclick: next }, this.#t('continue'));
    saved.addEventListener('change', () => (proceed.disabled = !saved.checked));
    const download = h('a', { class: 'button', part: 'button', download: this.#t('backupFileName'), href: '#' }, this.#t('backupDownload'));
    download.addEventListener('click', () => {
      // A fresh object URL per click, released once the download has started.
      const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
      download.href = url;
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    });
    const copy = h('button', { type: 'button', part: 'button' }, this.#t('backupCopy'));
    copy.addEventListener('click', () => this.#copy(text, copy, 'backupCopied'));
    this.#render([
      this.#heading('backupHeading'),
      h('p', {}, this.#t('backupText')),
      h('ol', { class: 'codes', 'aria-label': this.#t('backupListLabel') }, ...codes.map((c) => h('li', {}, h('code', {}, c)))),
      h('div', { class: 'actions' }, copy, download),
      h('p', { class: 'check' }, saved, h('label', { for: 'codes-saved' }, this.#t('backupSaved'))),
      h('div', { class: 'actions' }, proceed),
    ]);
  }

  /** Copies `text`; the button says so, and so does the live region. */
  #copy(text: string, button: HTMLButtonElement, done: 'backupCopied' | 'totpKeyCopied'): void {
    void navigator.clipboard?.writeText(text).then(
      () => {
        button.textContent = this.#t(done);
        this.#announce(this.#t(done));
      },
      (e: unknown) => this.#announce(this.#t('somethingWrong', { detail: e instanceof Error ? e.message : 'clipboard' })),
    );
  }

  /** Everything the user can sign in with: their factors the policy still allows,
   * then a backup code while some are left. */
  #targets(): Target[] {
    const decision = this.#decision;
    if (!decision) return [];
    const factors: Target[] = decision.factors.filter((f) => decision.allowed_methods.includes(f.type));
    if (this.#backupCodesLeft > 0 && decision.allowed_methods.includes('backup_code')) factors.push({ type: 'backup_code' });
    return factors;
  }

  /** The policy's default method among those, else the first of them. */
  #defaultTarget(): Target {
    const targets = this.#targets();
    return targets.find((t) => t.type === this.#decision?.default_method) ?? targets[0] ?? { type: 'backup_code' };
  }

  #verify(target: Target): void {
    if (target.type === 'webauthn') return this.#verifyPasskey(target as FactorRef);
    if (target.type === 'email' || target.type === 'sms') return void this.#verifySentCode(target as FactorRef);
    if (target.type === 'push') return void this.#verifyPush(target as FactorRef);
    const totp = target.type === 'totp';
    const factor = target as FactorRef;
    const several = this.#factorsOf('totp') > 1;
    this.#codeForm({
      heading: 'verifyHeading',
      before: [h('p', {}, totp ? this.#t('verifyTotp') : this.#t('verifyBackup')), totp ? this.#which(factor) : null],
      label: totp ? 'totpCodeLabel' : 'backupCodeLabel',
      numeric: totp,
      submit: 'verify',
      remember: true,
      send: async (code) => {
        const options = { ...this.#signal(), rememberDevice: this.#remember };
        if (!totp) return { verified: await this.#api().redeemBackupCode(code, options) };
        if (!several) return { verified: await this.#api().verifyTotp(code, options) };
        // With several apps a TOTP code names its factor through a challenge (API.md "Codes").
        const challenge = await this.#api().challenge({ factorId: factor.id }, this.#signal());
        return { verified: await this.#api().verifyCode(challenge.challenge_id, code, options) };
      },
      done: (answer) => this.#complete({ ...answer.verified, receivedAt: nowSeconds() }, totp ? 'totp' : 'backup_code'),
      footer: true,
    });
  }

  /** How many factors of `method` the user has. */
  #factorsOf(method: Method): number {
    return this.#decision?.factors.filter((f) => f.type === method).length ?? 0;
  }

  /** With several factors of one kind, which one this is. */
  #which(factor: FactorRef): HTMLElement | null {
    return this.#factorsOf(factor.type) > 1 ? h('p', { class: 'muted' }, this.#t('whichFactor', { name: factor.name })) : null;
  }

  #verifyPasskey(factor: FactorRef): void {
    const form = this.#form(
      {
        submit: 'verifyWebauthnButton',
        focusSubmit: true,
        step: async () => {
          try {
            const verified = await this.#api().verifyPasskey({ ...this.#signal(), factorId: factor.id, rememberDevice: this.#remember });
            this.#complete({ ...verified, receivedAt: nowSeconds() }, 'webauthn');
          } catch (e) {
            // The browser's refusal (no passkey chosen, none on this device).
            if (e instanceof DOMException && e.name === 'NotAllowedError') throw new PromptError(this.#t('passkeyNotUsed'));
            throw e;
          }
        },
      },
      h('p', {}, this.#t('verifyWebauthn')),
      this.#which(factor),
      this.#rememberBox(),
    );
    this.#render([this.#heading('verifyHeading'), form, this.#footer({ other: true })]);
  }

  async #verifySentCode(factor: FactorRef): Promise<void> {
    await this.#run(async () => {
      let challenge: Challenge;
      try {
        challenge = await this.#api().challenge({ factorId: factor.id }, this.#signal());
      } catch (e) {
        // Locked, or a code was sent moments ago: wait it out, then ask again.
        if (!(e instanceof EdgeMfaError && e.status === 429 && e.retryAfter)) throw e;
        return this.#waitToSend(factor, e.retryAfter);
      }
      const error = errorLine();
      const resendNote = h('p', { class: 'muted', role: 'timer', 'aria-live': 'off' });
      const resend = h('button', { type: 'button', class: 'link', part: 'button' }, this.#t('resend'));
      const sentTo = h('p', {}, this.#t('verifyCode', { to: challenge.delivery?.to_masked ?? '' }));
      resend.addEventListener('click', () => {
        void this.#run(async () => {
          try {
            challenge = await this.#api().resend(challenge.challenge_id, this.#signal());
            sentTo.textContent = this.#t('verifyCode', { to: challenge.delivery?.to_masked ?? '' });
            this.#announce(this.#t('codeSentTo', { to: challenge.delivery?.to_masked ?? '' }));
          } catch (e) {
            if (!(e instanceof EdgeMfaError && e.status === 429 && e.retryAfter)) throw e;
            // Held disabled (past #run's re-enabling) until the wait is over.
            resend.dataset.hold = '';
            resend.disabled = true;
            this.#announce(this.#t('resendIn', { time: clock(e.retryAfter) }));
            this.#countdown(e.retryAfter, resendNote, 'resendIn', () => {
              delete resend.dataset.hold;
              resend.disabled = false;
            });
          }
        }, error);
      });
      this.#codeForm({
        heading: 'verifyHeading',
        before: [sentTo],
        label: 'codeLabel',
        numeric: true,
        submit: 'verify',
        remember: true,
        error,
        send: async (code) => ({ verified: await this.#api().verifyCode(challenge.challenge_id, code, { ...this.#signal(), rememberDevice: this.#remember }) }),
        done: (answer) => this.#complete({ ...answer.verified, receivedAt: nowSeconds() }, factor.type),
        after: [resend, resendNote],
        footer: true,
      });
    });
  }

  /** Push: the phone is asked; the number to type there is shown here until the
   * phone answers. */
  async #verifyPush(factor: FactorRef): Promise<void> {
    const error = errorLine();
    const status = h('p', { class: 'muted', role: 'status' }, this.#t('pushWaiting'));
    const again = h('button', { type: 'button', part: 'button', hidden: '' }, this.#t('pushSendAgain'));
    again.addEventListener('click', () => void this.#verifyPush(factor));
    const step = new AbortController();
    const cancel = h('button', { type: 'button', part: 'button' }, this.#t('pushCancel'));
    cancel.addEventListener('click', () => {
      step.abort();
      status.textContent = '';
      cancel.hidden = true;
      again.hidden = false;
      again.focus();
    });
    await this.#run(
      async () => {
        try {
          const verified = await this.#api().approvePush({
            signal: AbortSignal.any([this.#abort.signal, step.signal]),
            factorId: factor.id,
            rememberDevice: () => this.#remember,
            onNumber: (number) => {
              this.#render([
                this.#heading('verifyHeading'),
                h('p', {}, this.#t('pushSent', { name: factor.name })),
                h('p', { class: 'number', part: 'number', 'aria-label': this.#t('pushNumberLabel') }, number),
                status,
                error,
                this.#rememberBox(),
                h('div', { class: 'actions' }, cancel, again),
                this.#footer({ other: true }),
              ]);
              this.#leave = () => step.abort();
              this.#announce(`${this.#t('pushNumberLabel')}: ${number.split('').join(' ')}`);
            },
          });
          this.#complete({ ...verified, receivedAt: nowSeconds() }, 'push');
        } catch (e) {
          // Cancelled, or its view was left: nothing to say.
          if (step.signal.aborted) return;
          // A request went out moments ago: wait it out, then send another.
          if (e instanceof EdgeMfaError && e.status === 429 && e.retryAfter) return this.#waitToPush(factor, e.retryAfter);
          if (e instanceof EdgeMfaError && e.status === 422) {
            status.textContent = '';
            again.hidden = false;
            throw new PromptError(this.#t('pushRefused'));
          }
          throw e;
        }
      },
      error,
    );
  }

  /** No push can be sent yet: a countdown, then a new request. */
  #waitToPush(factor: FactorRef, seconds: number): void {
    const note = h('p', { class: 'locked', role: 'timer', 'aria-live': 'off', tabindex: '-1', 'data-autofocus': '' });
    this.#render([this.#heading('verifyHeading'), note, this.#footer({ other: true })]);
    this.#announce(this.#t('pushWait', { time: clock(seconds) }));
    this.#countdown(seconds, note, 'pushWait', () => void this.#verifyPush(factor));
  }

  /** No code can be sent yet: a countdown, then a new attempt. */
  #waitToSend(factor: FactorRef, seconds: number): void {
    const note = h('p', { class: 'locked', role: 'timer', 'aria-live': 'off', tabindex: '-1', 'data-autofocus': '' });
    this.#render([this.#heading('verifyHeading'), note, this.#footer({ other: true })]);
    this.#announce(this.#t('codeWait', { time: clock(seconds) }));
    this.#countdown(seconds, note, 'codeWait', () => void this.#verifySentCode(factor));
  }

  /** A form for one code: TOTP, an emailed or texted code, a backup code. */
  #codeForm(spec: {
    heading: keyof PromptTexts;
    before: Child[];
    label: keyof PromptTexts;
    numeric: boolean;
    submit: keyof PromptTexts;
    remember: boolean;
    send: (code: string) => Promise<{ confirmed: Confirmed } | { verified: Verified }>;
    done: (answer: { confirmed: Confirmed; verified: Verified }) => void;
    error?: HTMLElement;
    after?: Child[];
    back?: () => void;
    footer?: boolean;
    /** `heading` where the step has more to read than the field (the QR code). */
    focus?: 'heading' | 'field';
  }): void {
    const introId = `intro-${++ids}`;
    const code = input('code', {
      autocomplete: spec.numeric ? 'one-time-code' : 'off',
      ...(spec.numeric ? { inputmode: 'numeric' } : { autocapitalize: 'none', spellcheck: 'false' }),
      required: '',
      maxlength: '64',
      'aria-describedby': introId,
      ...(spec.focus === 'heading' ? {} : { 'data-autofocus': '' }),
    });
    const error = spec.error ?? errorLine();
    const submit = h('button', { type: 'submit', class: 'primary', part: 'button' }, this.#t(spec.submit));
    const lockNote = h('p', { class: 'locked', role: 'timer', 'aria-live': 'off', tabindex: '-1' });
    const form = h(
      'form',
      {
        onsubmit: (event: Event) => {
          event.preventDefault();
          if (this.#locked()) return;
          void this.#run(
            async () => spec.done((await spec.send(code.value)) as { confirmed: Confirmed; verified: Verified }),
            error,
            () => {
              if (code.disabled) return;
              code.select();
              code.focus();
            },
          );
        },
      },
      h('div', { id: introId }, ...spec.before),
      h('label', { for: 'code' }, this.#t(spec.label)),
      code,
      spec.remember ? this.#rememberBox() : null,
      error,
      lockNote,
      h('div', { class: 'actions' }, submit),
      ...(spec.after ?? []),
    );
    this.#render([
      this.#heading(spec.heading),
      form,
      spec.back ? this.#back(spec.back) : null,
      spec.footer ? this.#footer({ other: true }) : null,
    ]);
    this.#lockedState = { code, submit, note: lockNote };
    this.#applyLock();
  }

  #locked(): boolean {
    return this.#lockedUntil > Date.now();
  }

  #lock(seconds: number): void {
    this.#lockedUntil = Date.now() + seconds * 1000;
  }

  /** While locked, the code form is closed with a countdown (which takes the focus
   * the closed field had); at zero it opens again, says so, and puts the focus
   * back in the field. */
  #applyLock(): void {
    const state = this.#lockedState;
    if (!state?.code.isConnected || !this.#locked()) return;
    const seconds = Math.ceil((this.#lockedUntil - Date.now()) / 1000);
    const hadFocus = [state.code, state.submit].includes(this.#root.activeElement as HTMLInputElement);
    // Held, like a resend button waiting: no step's end re-enables it.
    state.code.disabled = true;
    state.submit.disabled = true;
    state.submit.dataset.hold = '';
    this.#announce(`${this.#t('lockedHeading')}. ${this.#t('lockedText', { time: clock(seconds) })}`);
    this.#countdown(seconds, state.note, 'lockedText', () => {
      this.#lockedUntil = 0;
      state.code.disabled = false;
      state.submit.disabled = false;
      delete state.submit.dataset.hold;
      state.code.focus();
      this.#announce(this.#t('lockedOver'));
    });
    if (hadFocus || !this.#root.activeElement) state.note.focus();
  }

  #countdown(seconds: number, note: HTMLElement, key: 'lockedText' | 'resendIn' | 'codeWait' | 'pushWait', end: () => void): void {
    const until = Date.now() + seconds * 1000;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left > 0) {
        note.textContent = this.#t(key, { time: clock(left) });
        return;
      }
      clearInterval(timer);
      this.#timers.delete(timer);
      note.textContent = '';
      end();
    };
    const timer = setInterval(tick, 1000);
    this.#timers.add(timer);
    tick();
  }

  #rememberBox(): HTMLElement | null {
    const policy = this.#decision?.remember_device;
    if (!policy?.enabled) return null;
    const box = h('input', { type: 'checkbox', id: 'remember' });
    box.checked = this.#remember;
    box.addEventListener('change', () => (this.#remember = box.checked));
    return h('p', { class: 'check' }, box, h('label', { for: 'remember' }, this.#t('rememberDevice', { days: policy.days })));
  }

  #back(to: () => void): HTMLElement {
    return h('p', { class: 'nav' }, h('button', { type: 'button', class: 'link', part: 'button', onclick: to }, this.#t('back')));
  }

  /** "Try another method" (when there is one) and "Ask for help". */
  #footer({ other }: { other: boolean }): HTMLElement {
    return h(
      'p',
      { class: 'nav' },
      other && this.#targets().length > 1
        ? h('button', { type: 'button', class: 'link', part: 'button', onclick: () => this.#chooseOther() }, this.#t('otherMethods'))
        : null,
      h('button', { type: 'button', class: 'link', part: 'button', onclick: () => this.#help() }, this.#t('help')),
    );
  }

  #chooseOther(): void {
    this.#render([
      this.#heading('otherMethodsHeading'),
      h('ul', { class: 'choices' }, ...this.#targets().map((t) => h('li', {}, this.#choice(t.type, () => this.#verify(t), t.name)))),
      this.#back(() => this.#verify(this.#defaultTarget())),
    ]);
  }

  #help(): void {
    const message = h('textarea', { id: 'help-message', rows: '3', maxlength: '500', part: 'input', 'data-autofocus': '' });
    const back = () => void this.start();
    const form = this.#form(
      {
        submit: 'helpSend',
        step: async () => {
          const id = await this.#api().askForHelp(message.value.trim() || undefined, this.#signal());
          this.#render([this.#heading('helpHeading'), h('p', {}, this.#t('helpSent', { id })), this.#back(back)]);
        },
      },
      h('p', {}, this.#t('helpText')),
      h('label', { for: 'help-message' }, this.#t('helpLabel')),
      message,
    );
    this.#render([this.#heading('helpHeading'), form, this.#back(back)]);
  }

  /** A form of `fields` and one submit button, whose submission runs `step`; a
   * refusal shows in the form's own error line (announced: `role=alert`). */
  #form(spec: { submit: keyof PromptTexts; step: () => Promise<void>; focusSubmit?: boolean }, ...fields: Child[]): HTMLFormElement {
    const error = errorLine();
    const submit = h('button', { type: 'submit', class: 'primary', part: 'button', ...(spec.focusSubmit ? { 'data-autofocus': '' } : {}) }, this.#t(spec.submit));
    const onsubmit = (event: Event) => {
      event.preventDefault();
      void this.#run(spec.step, error);
    };
    return h('form', { onsubmit }, ...fields, error, h('div', { class: 'actions' }, submit));
  }

  /** Runs a step of the current run; a refusal becomes a message in `error` (or a
   * view of its own). A step of an earlier run is dropped, whatever it ends in. */
  async #run(step: () => Promise<void>, error?: HTMLElement, retry?: () => void): Promise<void> {
    const generation = this.#generation;
    // Disabling the focused button drops the focus; it comes back after the step.
    const focused = this.#root.activeElement as HTMLElement | null;
    const busy = [...this.#view.querySelectorAll<HTMLButtonElement>('button:not([disabled])')];
    for (const b of busy) b.disabled = true;
    this.#view.setAttribute('aria-busy', 'true');
    let failure: { e: unknown } | undefined;
    try {
      if (error) error.textContent = '';
      await step();
    } catch (e) {
      failure = { e };
    }
    if (generation !== this.#generation) return;
    this.#view.removeAttribute('aria-busy');
    // A held button (a lockout's, a resend's) stays disabled until its countdown ends.
    for (const b of busy) if (b.isConnected && !('hold' in b.dataset)) b.disabled = false;
    if (failure) {
      this.#refused(failure.e, error);
      retry?.();
    }
    if (!this.#root.activeElement && focused?.isConnected && !(focused as HTMLButtonElement).disabled) focused.focus();
  }

  #refused(e: unknown, error: HTMLElement | undefined): void {
    let message: string;
    if (e instanceof EdgeMfaError) {
      // With a fixed ticket, starting again would fail the same way.
      if (e.status === 0) return this.#stopped(e, this.#t('unreachable'));
      if (e.status === 401) return this.#stopped(e, this.#t('sessionExpired'), true, typeof this.#ticket === 'function');
      if (e.status === 429 && e.retryAfter && this.#lockedState?.code.isConnected) {
        this.#lock(e.retryAfter);
        this.#applyLock();
        return;
      }
      if (e.status === 410) return this.#stopped(e, this.#t('expired'), false);
      if (e.status === 422 && e.code === 'verification_failed') message = this.#t('wrongCode');
      else message = this.#t('somethingWrong', { detail: e.detail });
    } else if (e instanceof PromptError) {
      message = e.message;
    } else if (e instanceof DOMException && (e.name === 'NotAllowedError' || e.name === 'AbortError')) {
      message = this.#t('passkeyCancelled');
    } else {
      message = this.#t('somethingWrong', { detail: e instanceof Error ? e.message : String(e) });
    }
    if (error?.isConnected) error.textContent = message;
    else this.#stopped(e, message);
  }

  /** A view with what went wrong and "Start again"; `edge-mfa-error` unless the
   * step can simply be taken again (an expired challenge). */
  #stopped(e: unknown, message: string, emit = true, canRetry = true): void {
    this.#render([
      h('p', { role: 'alert', class: 'error', tabindex: '-1', 'data-autofocus': '' }, message),
      canRetry
        ? h('p', { class: 'nav' }, h('button', { type: 'button', class: 'primary', part: 'button', 'data-autofocus': '', onclick: () => void this.start() }, this.#t('startAgain')))
        : null,
    ]);
    // The focus goes to "Start again" where there is one.
    this.#view.querySelector<HTMLElement>('button[data-autofocus]')?.focus();
    if (emit) this.#emit('edge-mfa-error', { error: e, ...(e instanceof EdgeMfaError ? { status: e.status } : {}) } satisfies ErrorDetail);
  }
}

/** A refusal already worded for the user. */
class PromptError extends Error {}

// ---- Small DOM helpers: elements are built, never parsed from strings.

type Props = Record<string, string | boolean | ((event: Event) => void) | undefined>;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else if (typeof value === 'string') element.setAttribute(name, value);
  }
  element.append(...children.filter(isNode));
  return element;
}

function isNode(child: Child): child is Node | string {
  return child !== null && child !== undefined && child !== false;
}

function input(id: string, attributes: Record<string, string>): HTMLInputElement {
  return h('input', { id, name: id, part: 'input', ...attributes });
}

function errorLine(): HTMLElement {
  return h('p', { class: 'error', role: 'alert' });
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** `m:ss`. */
function clock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}

function ordered(methods: Method[], first: Method): Method[] {
  return [...methods.filter((m) => m === first), ...methods.filter((m) => m !== first)];
}

const STYLES = `
:host {
  display: block;
  position: relative;
  max-width: var(--edge-mfa-width, 28rem);
  font: var(--edge-mfa-font, 1rem/1.5 system-ui, sans-serif);
  color: var(--edge-mfa-color, #1b1b1f);
}
:host([hidden]) { display: none; }
.card {
  background: var(--edge-mfa-background, #ffffff);
  border: 1px solid var(--edge-mfa-border, #c4c7cf);
  border-radius: var(--edge-mfa-radius, 0.5rem);
  padding: 1.5rem;
}
h2 { font-size: 1.25rem; margin: 0 0 0.75rem; }
h2:focus { outline: none; }
p { margin: 0 0 0.75rem; }
.muted, .hint { color: var(--edge-mfa-muted, #44474e); }
.error { color: var(--edge-mfa-error, #b3261e); min-height: 0; }
.error:empty { display: none; }
[hidden] { display: none !important; }
.number { font-size: 2.5rem; font-weight: 700; letter-spacing: 0.3em; font-variant-numeric: tabular-nums; margin: 0.5rem 0; }
.secret code { overflow-wrap: anywhere; }
.locked:empty { display: none; }
.locked { font-weight: 600; }
label { display: block; margin: 0.5rem 0 0.25rem; }
.check { display: flex; gap: 0.5rem; align-items: center; margin-top: 0.75rem; }
.check label { margin: 0; }
input:not([type=checkbox]), textarea {
  box-sizing: border-box; width: 100%; font: inherit; padding: 0.5rem 0.625rem;
  border: 1px solid var(--edge-mfa-border-strong, #74777f); border-radius: 0.25rem;
  background: var(--edge-mfa-background, #ffffff); color: inherit;
}
input[inputmode=numeric] { letter-spacing: 0.2em; font-variant-numeric: tabular-nums; }
button, a.button {
  font: inherit; cursor: pointer; border-radius: 0.25rem; padding: 0.5rem 1rem;
  border: 1px solid var(--edge-mfa-accent, #0b57d0); background: transparent;
  color: var(--edge-mfa-accent, #0b57d0); text-decoration: none; display: inline-block;
}
button.primary { background: var(--edge-mfa-accent, #0b57d0); color: var(--edge-mfa-accent-text, #ffffff); }
button.link { border: none; padding: 0.25rem 0; text-decoration: underline; }
button[disabled] { cursor: not-allowed; opacity: 0.6; }
:focus-visible { outline: 3px solid var(--edge-mfa-accent, #0b57d0); outline-offset: 2px; }
.actions, .nav { display: flex; flex-wrap: wrap; gap: 0.75rem; margin-top: 1rem; }
.nav { justify-content: space-between; }
.choices { list-style: none; padding: 0; margin: 0 0 0.5rem; display: grid; gap: 0.5rem; }
button.choice { width: 100%; text-align: left; display: grid; gap: 0.125rem; color: inherit; border-color: var(--edge-mfa-border, #c4c7cf); }
button.choice .label { font-weight: 600; color: var(--edge-mfa-accent, #0b57d0); }
.hint { font-size: 0.875rem; }
img.qr { display: block; width: 200px; height: 200px; margin: 0 auto 0.75rem; background: #fff; }
.secret code, .codes code { font-family: ui-monospace, monospace; font-size: 1rem; }
.secret { word-break: break-all; }
.codes { columns: 11rem 2; padding-left: 2rem; margin: 0 0 0.75rem; }
.codes code { white-space: nowrap; }
/* Read out by screen readers; the same news is on screen where it happened. */
.status, .sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip-path: inset(50%); white-space: nowrap; border: 0; }
input:disabled, textarea:disabled { background: var(--edge-mfa-disabled, #eceef1); }
@media (prefers-reduced-motion: no-preference) { button { transition: background-color 0.15s; } }
`;

if (typeof customElements !== 'undefined' && !customElements.get('edge-mfa-prompt')) {
  customElements.define('edge-mfa-prompt', EdgeMfaPrompt);
}

declare global {
  interface HTMLElementTagNameMap {
    'edge-mfa-prompt': EdgeMfaPrompt;
  }
  interface HTMLElementEventMap {
    'edge-mfa-complete': CustomEvent<CompleteDetail>;
    'edge-mfa-denied': CustomEvent<DeniedDetail>;
    'edge-mfa-error': CustomEvent<ErrorDetail>;
  }
}
