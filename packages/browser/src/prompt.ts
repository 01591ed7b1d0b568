/**
 * `<edge-mfa-prompt>`: the whole second step of a sign-in, as one custom element
 * built on {@link EdgeMfa}.
 *
 *     <script type="module" src="/edge-mfa/prompt.js"></script>
 *     <edge-mfa-prompt tenant="acme" base-url="https://mfa.example.com"></edge-mfa-prompt>
 *     <script type="module">
 *       const prompt = document.querySelector('edge-mfa-prompt');
 *       prompt.ticket = await (await fetch('/api/mfa-ticket')).text();
 *       prompt.addEventListener('edge-mfa-complete', (e) => sendToBackend(e.detail.mfaToken));
 *     </script>
 *
 * It assesses the sign-in; enrolls a first factor when the policy requires one
 * (only the policy's methods; the QR code and the key for an authenticator app;
 * passkeys; backup codes shown once, with copy and download); asks for the
 * default factor with "try another method", backup codes, "remember this device"
 * and "ask for help"; counts down a lockout from `Retry-After`; and ends with the
 * `edge-mfa-complete` event carrying the `mfa_token`. It keeps no token: the
 * event hands it over.
 *
 * Attributes: `tenant`, `base-url` (default: the page's origin), `ticket` (or the
 * `ticket` property, which also takes a function returning a fresh ticket).
 * Events (bubbling, composed): `edge-mfa-complete` {@link CompleteDetail},
 * `edge-mfa-error` {@link ErrorDetail} when it cannot go on (an expired ticket).
 * Texts: the `texts` property replaces any of {@link englishTexts}. Looks: the CSS
 * custom properties `--edge-mfa-font`, `--edge-mfa-color`, `--edge-mfa-muted`,
 * `--edge-mfa-background`, `--edge-mfa-border`, `--edge-mfa-accent`,
 * `--edge-mfa-accent-text`, `--edge-mfa-error`, `--edge-mfa-radius`,
 * `--edge-mfa-width`, and the parts `card`, `heading`, `button`, `input`.
 * Styles are a constructed stylesheet, so a CSP without `'unsafe-inline'` styles
 * is fine; the QR code is an `<img>` with a `data:` URL (`img-src data:`).
 */
import { EdgeMfa, EdgeMfaError, type Confirmed, type Decision, type FactorRef, type Method, type Verified } from './index.js';
import { englishTexts, format, type PromptTexts } from './texts.js';

export { englishTexts, type PromptTexts } from './texts.js';

/** `edge-mfa-complete`: the proof for the tenant's backend. */
export interface CompleteDetail {
  mfaToken: string;
  /** Seconds. */
  expiresIn: number;
  /** The factor used, or `none` when the policy, a bypass or a remembered
   * device let the user through (the token's `acr` is then "0"). */
  method: Method | 'none';
}

/** `edge-mfa-error`: why the prompt stopped. */
export interface ErrorDetail {
  error: unknown;
}

type Ticket = string | (() => string | Promise<string>);
/** What the user signs in with: one of their factors, or a backup code. */
type Target = FactorRef | { type: 'backup_code'; id?: undefined; name?: undefined };
type Child = Node | string | null | undefined | false;

const ENROLLABLE: Method[] = ['totp', 'webauthn', 'email', 'sms'];

export class EdgeMfaPrompt extends HTMLElement {
  static readonly observedAttributes = ['tenant', 'base-url', 'ticket'];

  #texts: PromptTexts = { ...englishTexts };
  #ticket: Ticket | undefined;
  #client: EdgeMfa | undefined;
  #decision: Decision | undefined;
  #backupCodesLeft = 0;
  #remember = false;
  /** When codes are accepted again (ms since the epoch); 0 when not locked. */
  #lockedUntil = 0;
  #timers = new Set<ReturnType<typeof setInterval>>();
  #abort = new AbortController();
  #started = false;
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

  /** The ticket from the tenant's backend, or a function returning a fresh one. */
  get ticket(): Ticket | undefined {
    return this.#ticket ?? this.getAttribute('ticket') ?? undefined;
  }
  set ticket(value: Ticket | undefined) {
    this.#ticket = value;
    this.#maybeStart();
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

  /** The texts shown; setting it replaces the given ones (others stay English). */
  get texts(): PromptTexts {
    return { ...this.#texts };
  }
  set texts(value: Partial<PromptTexts>) {
    this.#texts = { ...englishTexts, ...value };
  }

  connectedCallback(): void {
    this.#maybeStart();
  }

  disconnectedCallback(): void {
    this.#reset();
    this.#started = false;
  }

  attributeChangedCallback(): void {
    if (this.#started) void this.start();
    else this.#maybeStart();
  }

  /** Starts over: a new `assess` with the current attributes. */
  async start(): Promise<void> {
    this.#reset();
    const ticket = this.ticket;
    if (!this.tenant || !ticket) return;
    this.#started = true;
    // Read at every call, so a ticket set later (a fresh one) is the one sent.
    this.#client = new EdgeMfa({
      baseUrl: this.baseUrl,
      tenant: this.tenant,
      ticket: () => {
        const current = this.ticket ?? '';
        return typeof current === 'function' ? current() : current;
      },
    });
    this.#render([h('p', { class: 'muted', 'aria-busy': 'true' }, this.#t('loading'))], { focus: false });
    await this.#run(async () => {
      const decision = await this.#api().assess(this.#signal());
      this.#decision = decision;
      this.#remember = false;
      if (decision.retry_after) this.#lock(decision.retry_after);
      switch (decision.action) {
        case 'allow':
          return this.#complete({ mfa_token: decision.mfa_token ?? '', expires_in: decision.expires_in ?? 0 }, 'none');
        case 'deny':
          return this.#denied();
        case 'enroll':
          return this.#chooseEnrollment();
        case 'challenge': {
          const { backup_codes_remaining } = await this.#api().factors(this.#signal());
          this.#backupCodesLeft = backup_codes_remaining;
          return this.#verify(this.#defaultTarget(decision));
        }
      }
    });
  }

  #maybeStart(): void {
    if (!this.#started && this.isConnected && this.tenant && this.ticket) void this.start();
  }

  #reset(): void {
    this.#abort.abort();
    this.#abort = new AbortController();
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.clear();
    this.#lockedUntil = 0;
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

  // ---- Views. Each replaces the card's content and moves focus into it, so a
  // screen reader reads the new step and a keyboard user is where they type.

  #render(children: Child[], { focus = true }: { focus?: boolean } = {}): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.clear();
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

  #complete(verified: Pick<Verified, 'mfa_token' | 'expires_in' | 'remaining'>, method: Method | 'none'): void {
    this.#render([
      this.#heading('doneHeading'),
      h('p', {}, verified.remaining !== undefined ? this.#t('backupRemaining', { count: verified.remaining }) : this.#t('doneText')),
    ]);
    const detail: CompleteDetail = { mfaToken: verified.mfa_token, expiresIn: verified.expires_in, method };
    this.dispatchEvent(new CustomEvent('edge-mfa-complete', { detail, bubbles: true, composed: true }));
  }

  #denied(): void {
    this.#render([this.#heading('deniedHeading'), h('p', {}, this.#t('deniedText')), this.#footer({ other: false })]);
  }

  #chooseEnrollment(): void {
    const decision = this.#decision;
    if (!decision) return;
    const methods = ordered(ENROLLABLE.filter((m) => decision.allowed_methods.includes(m)), decision.default_method);
    const deadline = decision.enrollment.deadline;
    this.#render([
      this.#heading('enrollHeading'),
      h('p', {}, this.#t('enrollText')),
      deadline ? h('p', { class: 'muted' }, this.#t('enrollDeadline', { date: new Date(deadline * 1000).toLocaleDateString() })) : null,
      h(
        'ul',
        { class: 'choices' },
        ...methods.map((m) => h('li', {}, this.#choice(m, () => this.#enroll(m)))),
      ),
      this.#footer({ other: false }),
    ]);
  }

  /** A method as a button with its hint as the accessible description. */
  #choice(method: Method, onclick: () => void, name?: string): HTMLElement {
    const hintId = `hint-${method}-${Math.random().toString(36).slice(2, 8)}`;
    return h(
      'button',
      { type: 'button', class: 'choice', part: 'button', 'aria-describedby': hintId, onclick },
      h('span', { class: 'label' }, name ? `${this.#t(`method_${method}`)}: ${name}` : this.#t(`method_${method}`)),
      h('span', { class: 'hint', id: hintId }, this.#t(`method_${method}_hint`)),
    );
  }

  #enroll(method: Method): void {
    if (method === 'totp') void this.#enrollTotp();
    else if (method === 'webauthn') this.#enrollPasskey();
    else if (method === 'email' || method === 'sms') this.#enrollCode(method);
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
      const key = enrollment.secret.replace(/(.{4})(?=.)/g, '$1 ');
      this.#codeForm({
        heading: 'totpHeading',
        before: [qr, h('p', {}, this.#t('totpManual')), h('p', { class: 'secret' }, h('code', { 'aria-label': enrollment.secret.split('').join(' ') }, key))],
        label: 'totpCodeLabel',
        numeric: true,
        submit: 'confirm',
        remember: false,
        send: (code) => this.#api().confirmCode(enrollment.enrollment_id, code, this.#signal()),
        done: (confirmed) => this.#confirmed(confirmed as Confirmed, 'totp'),
        back: () => this.#chooseEnrollment(),
      });
    });
  }

  #enrollPasskey(): void {
    const name = input('passkey-name', { autocomplete: 'off', maxlength: '64' });
    const error = errorLine();
    const form = h(
      'form',
      {
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this.#run(async () => {
            const options = { ...this.#signal(), ...(name.value.trim() ? { name: name.value.trim() } : {}) };
            this.#confirmed(await this.#api().registerPasskey(options), 'webauthn');
          }, error);
        },
      },
      h('p', {}, this.#t('passkeyText')),
      h('label', { for: 'passkey-name' }, this.#t('passkeyNameLabel')),
      name,
      error,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', part: 'button', 'data-autofocus': '' }, this.#t('passkeyCreate'))),
    );
    this.#render([this.#heading('passkeyHeading'), form, this.#back(() => this.#chooseEnrollment())]);
  }

  #enrollCode(type: 'email' | 'sms'): void {
    const to = input('code-to', type === 'email' ? { type: 'email', autocomplete: 'email' } : { type: 'tel', autocomplete: 'tel', required: '' });
    const error = errorLine();
    const form = h(
      'form',
      {
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this.#run(async () => {
            const address = to.value.trim();
            const enrollment = await this.#api().enrollCode(type, { ...this.#signal(), ...(address ? { to: address } : {}) });
            this.#codeForm({
              heading: type === 'email' ? 'emailHeading' : 'smsHeading',
              before: [h('p', {}, this.#t('codeSentTo', { to: enrollment.delivery.to_masked }))],
              label: 'codeLabel',
              numeric: true,
              submit: 'confirm',
              remember: false,
              send: (code) => this.#api().confirmCode(enrollment.enrollment_id, code, this.#signal()),
              done: (confirmed) => this.#confirmed(confirmed as Confirmed, type),
              back: () => this.#enrollCode(type),
            });
          }, error);
        },
      },
      h('label', { for: 'code-to' }, this.#t(type === 'email' ? 'emailLabel' : 'smsLabel')),
      to,
      error,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', part: 'button' }, this.#t('sendCode'))),
    );
    to.setAttribute('data-autofocus', '');
    this.#render([this.#heading(type === 'email' ? 'emailHeading' : 'smsHeading'), form, this.#back(() => this.#chooseEnrollment())]);
  }

  /** After the first factor: the backup codes once, then done. */
  #confirmed(confirmed: Confirmed, method: Method): void {
    const finish = () => {
      if (confirmed.mfa_token) this.#complete({ mfa_token: confirmed.mfa_token, expires_in: confirmed.expires_in ?? 0 }, method);
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
    const copy = h(
      'button',
      {
        type: 'button',
        part: 'button',
        onclick: () => {
          void navigator.clipboard?.writeText(text).then(
            () => {
              copy.textContent = this.#t('backupCopied');
              this.#announce(this.#t('backupCopied'));
            },
            () => this.#announce(this.#t('somethingWrong', { detail: 'clipboard' })),
          );
        },
      },
      this.#t('backupCopy'),
    );
    this.#render([
      this.#heading('backupHeading'),
      h('p', {}, this.#t('backupText')),
      h('ol', { class: 'codes', 'aria-label': this.#t('backupListLabel') }, ...codes.map((c) => h('li', {}, h('code', {}, c)))),
      h('div', { class: 'actions' }, copy, download),
      h('p', { class: 'check' }, saved, h('label', { for: 'codes-saved' }, this.#t('backupSaved'))),
      h('div', { class: 'actions' }, proceed),
    ]);
  }

  /** The default factor: the policy's default method among the user's factors. */
  #defaultTarget(decision: Decision): Target {
    const preferred = decision.factors.find((f) => f.type === decision.default_method) ?? decision.factors[0];
    return preferred ?? { type: 'backup_code' };
  }

  #verify(target: Target): void {
    if (target.type === 'webauthn') return this.#verifyPasskey(target as FactorRef);
    if (target.type === 'email' || target.type === 'sms') return void this.#verifySentCode(target as FactorRef);
    const totp = target.type === 'totp';
    const factor = target as FactorRef;
    const several = (this.#decision?.factors.filter((f) => f.type === 'totp').length ?? 0) > 1;
    this.#codeForm({
      heading: 'verifyHeading',
      before: [h('p', {}, totp ? this.#t('verifyTotp') : this.#t('verifyBackup')), totp ? this.#which(factor) : null],
      label: totp ? 'totpCodeLabel' : 'backupCodeLabel',
      numeric: totp,
      submit: 'verify',
      remember: true,
      send: async (code) => {
        const options = { ...this.#signal(), rememberDevice: this.#remember };
        if (!totp) return this.#api().redeemBackupCode(code, options);
        if (!several) return this.#api().verifyTotp(code, options);
        // With several apps a TOTP code names its factor through a challenge (API.md "Codes").
        const challenge = await this.#api().challenge({ factorId: factor.id }, this.#signal());
        return this.#api().verifyCode(challenge.challenge_id, code, options);
      },
      done: (verified) => this.#complete(verified as Verified, totp ? 'totp' : 'backup_code'),
      footer: true,
    });
  }

  /** With several factors of one kind, which one this is. */
  #which(factor: FactorRef): HTMLElement | null {
    const kind = this.#decision?.factors.filter((f) => f.type === factor.type).length ?? 0;
    return kind > 1 ? h('p', { class: 'muted' }, this.#t('whichFactor', { name: factor.name })) : null;
  }

  #verifyPasskey(factor: FactorRef): void {
    const error = errorLine();
    const form = h(
      'form',
      {
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this.#run(async () => {
            const verified = await this.#api().verifyPasskey({ ...this.#signal(), factorId: factor.id, rememberDevice: this.#remember });
            this.#complete(verified, 'webauthn');
          }, error);
        },
      },
      h('p', {}, this.#t('verifyWebauthn')),
      this.#which(factor),
      this.#rememberBox(),
      error,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', part: 'button', 'data-autofocus': '' }, this.#t('verifyWebauthnButton'))),
    );
    this.#render([this.#heading('verifyHeading'), form, this.#footer({ other: true })]);
  }

  async #verifySentCode(factor: FactorRef): Promise<void> {
    await this.#run(async () => {
      let challenge = await this.#api().challenge({ factorId: factor.id }, this.#signal());
      const resendNote = h('p', { class: 'muted' });
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
            this.#countdown(e.retryAfter, resendNote, 'resendIn', () => (resend.disabled = false));
            resend.disabled = true;
          }
        });
      });
      this.#codeForm({
        heading: 'verifyHeading',
        before: [sentTo],
        label: 'codeLabel',
        numeric: true,
        submit: 'verify',
        remember: true,
        send: (code) => this.#api().verifyCode(challenge.challenge_id, code, { ...this.#signal(), rememberDevice: this.#remember }),
        done: (verified) => this.#complete(verified as Verified, factor.type),
        after: [resend, resendNote],
        footer: true,
      });
    });
  }

  /** A form for one code: TOTP, an emailed or texted code, a backup code. */
  #codeForm(spec: {
    heading: keyof PromptTexts;
    before: Child[];
    label: keyof PromptTexts;
    numeric: boolean;
    submit: keyof PromptTexts;
    remember: boolean;
    send: (code: string) => Promise<Confirmed | Verified>;
    done: (answer: Confirmed | Verified) => void;
    after?: Child[];
    back?: () => void;
    footer?: boolean;
  }): void {
    const code = input('code', {
      autocomplete: spec.numeric ? 'one-time-code' : 'off',
      ...(spec.numeric ? { inputmode: 'numeric' } : { autocapitalize: 'none', spellcheck: 'false' }),
      required: '',
      maxlength: '64',
      'data-autofocus': '',
    });
    const error = errorLine();
    const submit = h('button', { type: 'submit', class: 'primary', part: 'button' }, this.#t(spec.submit));
    const lockNote = h('p', { class: 'locked', role: 'timer', 'aria-live': 'off' });
    const form = h(
      'form',
      {
        onsubmit: (event: Event) => {
          event.preventDefault();
          if (this.#locked()) return;
          void this.#run(async () => spec.done(await spec.send(code.value)), error, () => {
            code.select();
            code.focus();
          });
        },
      },
      ...spec.before,
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

  #lockedState: { code: HTMLInputElement; submit: HTMLButtonElement; note: HTMLElement } | undefined;

  #locked(): boolean {
    return this.#lockedUntil > Date.now();
  }

  #lock(seconds: number): void {
    this.#lockedUntil = Date.now() + seconds * 1000;
  }

  /** While locked, the code form is disabled with a countdown; at zero it opens
   * again, says so, and puts the focus back in the field. */
  #applyLock(): void {
    const state = this.#lockedState;
    if (!state?.code.isConnected || !this.#locked()) return;
    const seconds = Math.ceil((this.#lockedUntil - Date.now()) / 1000);
    state.code.disabled = true;
    state.submit.disabled = true;
    this.#announce(`${this.#t('lockedHeading')}. ${this.#t('lockedText', { time: clock(seconds) })}`);
    this.#countdown(seconds, state.note, 'lockedText', () => {
      this.#lockedUntil = 0;
      state.code.disabled = false;
      state.submit.disabled = false;
      state.code.focus();
      this.#announce(this.#t('lockedOver'));
    });
  }

  #countdown(seconds: number, note: HTMLElement, key: 'lockedText' | 'resendIn', end: () => void): void {
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
    const targets = this.#targets();
    return h(
      'p',
      { class: 'nav' },
      other && targets.length > 1
        ? h('button', { type: 'button', class: 'link', part: 'button', onclick: () => this.#chooseOther() }, this.#t('otherMethods'))
        : null,
      h('button', { type: 'button', class: 'link', part: 'button', onclick: () => this.#help() }, this.#t('help')),
    );
  }

  /** Everything the user can sign in with: their factors, then a backup code. */
  #targets(): Target[] {
    const decision = this.#decision;
    if (!decision) return [];
    const factors: Target[] = decision.factors.filter((f) => decision.allowed_methods.includes(f.type));
    if (this.#backupCodesLeft > 0 && decision.allowed_methods.includes('backup_code')) factors.push({ type: 'backup_code' });
    return factors;
  }

  #chooseOther(): void {
    this.#render([
      this.#heading('otherMethodsHeading'),
      h('ul', { class: 'choices' }, ...this.#targets().map((t) => h('li', {}, this.#choice(t.type, () => this.#verify(t), t.name)))),
      this.#back(() => this.#verify(this.#defaultTarget(this.#decision as Decision))),
    ]);
  }

  #help(): void {
    const message = h('textarea', { id: 'help-message', rows: '3', maxlength: '500', part: 'input', 'data-autofocus': '' });
    const error = errorLine();
    const back = () => void this.start();
    const form = h(
      'form',
      {
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this.#run(async () => {
            const id = await this.#api().askForHelp(message.value.trim() || undefined, this.#signal());
            this.#render([this.#heading('helpHeading'), h('p', {}, this.#t('helpSent', { id })), this.#back(back)]);
          }, error);
        },
      },
      h('p', {}, this.#t('helpText')),
      h('label', { for: 'help-message' }, this.#t('helpLabel')),
      message,
      error,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', part: 'button' }, this.#t('helpSend'))),
    );
    this.#render([this.#heading('helpHeading'), form, this.#back(back)]);
  }

  /** Runs a step; a refusal becomes a message in `error` (or its own view). */
  async #run(step: () => Promise<void>, error?: HTMLElement, retry?: () => void): Promise<void> {
    const busy = this.#view.querySelectorAll<HTMLButtonElement>('button:not([disabled])');
    for (const b of busy) b.disabled = true;
    this.#view.setAttribute('aria-busy', 'true');
    try {
      if (error) error.textContent = '';
      await step();
    } catch (e) {
      this.#refused(e, error);
      retry?.();
    } finally {
      this.#view.removeAttribute('aria-busy');
      for (const b of busy) if (b.isConnected) b.disabled = false;
      this.#applyLockToButtons();
    }
  }

  /** Buttons re-enabled after a step stay disabled while a lockout runs. */
  #applyLockToButtons(): void {
    const state = this.#lockedState;
    if (state?.submit.isConnected && this.#locked()) {
      state.submit.disabled = true;
      state.code.disabled = true;
    }
  }

  #refused(e: unknown, error: HTMLElement | undefined): void {
    if (e instanceof DOMException && e.name === 'AbortError' && this.#abort.signal.aborted) return;
    let message: string;
    if (e instanceof EdgeMfaError) {
      if (e.status === 401) {
        this.#render([h('p', { role: 'alert' }, this.#t('sessionExpired'))]);
        this.dispatchEvent(new CustomEvent<ErrorDetail>('edge-mfa-error', { detail: { error: e }, bubbles: true, composed: true }));
        return;
      }
      if (e.status === 429 && e.retryAfter && this.#lockedState?.code.isConnected) {
        this.#lock(e.retryAfter);
        this.#applyLock();
        return;
      }
      if (e.status === 422 && e.code === 'verification_failed') message = this.#t('wrongCode');
      else if (e.status === 410) message = this.#t('expired');
      else message = this.#t('somethingWrong', { detail: e.detail });
    } else if (e instanceof DOMException && (e.name === 'NotAllowedError' || e.name === 'AbortError')) {
      message = this.#t('passkeyCancelled');
    } else {
      message = this.#t('somethingWrong', { detail: e instanceof Error ? e.message : String(e) });
    }
    if (error?.isConnected) {
      error.textContent = message;
    } else {
      this.#render([h('p', { role: 'alert', class: 'error' }, message), h('p', { class: 'nav' }, h('button', { type: 'button', class: 'primary', part: 'button', 'data-autofocus': '', onclick: () => void this.start() }, this.#t('tryAgain')))]);
    }
  }
}

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
.codes { columns: 2; padding-left: 2rem; margin: 0 0 0.75rem; }
/* Read out by screen readers; the same news is on screen where it happened. */
.status { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip-path: inset(50%); white-space: nowrap; border: 0; }
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
    'edge-mfa-error': CustomEvent<ErrorDetail>;
  }
}
