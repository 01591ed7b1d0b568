/**
 * Every text `<edge-mfa-prompt>` shows or announces, in English. Replace any of
 * them (for another language or another voice) with the element's `texts`
 * property: `prompt.texts = { verifyHeading: 'Bestätigen Sie Ihre Anmeldung' }`.
 * `{name}` marks a value filled in when the text is shown.
 */
export const englishTexts = {
  /** The BCP 47 language of these texts: dates are written in it. */
  locale: 'en',

  // Around every step.
  loading: 'Checking your sign-in…',
  back: 'Back',
  continue: 'Continue',
  tryAgain: 'Try again',
  somethingWrong: 'Something went wrong: {detail}',
  sessionExpired: 'Your sign-in session has expired. Sign in again to continue.',
  unreachable: 'Cannot reach the sign-in service. If this keeps happening, this page may not be set up for it (its address must be one of the tenant’s origins).',
  startAgain: 'Start again',

  // Done.
  doneHeading: 'You are signed in',
  doneText: 'Two-step verification is complete.',

  // Denied by the policy.
  deniedHeading: 'Sign-in is not allowed',
  deniedText: 'Your organization does not allow this sign-in. Ask your administrator for help.',

  // Enrollment: choosing a method.
  enrollHeading: 'Set up two-step verification',
  enrollText: 'Your organization asks for a second step when you sign in. Choose how you want to confirm it is you.',
  enrollDeadline: 'Set it up by {date}.',
  method_totp: 'Authenticator app',
  method_totp_hint: 'A code from an app such as Google Authenticator or 1Password',
  method_webauthn: 'Passkey or security key',
  method_webauthn_hint: 'Your fingerprint, face, screen lock or a USB/NFC key',
  method_email: 'Email code',
  method_email_hint: 'A code sent to your email address',
  method_sms: 'Text message code',
  method_sms_hint: 'A code sent to your phone',
  method_push: 'Approve on your phone',
  method_push_hint: 'A notification on your phone: type the number shown here',
  method_backup_code: 'Backup code',
  method_backup_code_hint: 'One of the codes you saved when you set up two-step verification',

  // Enrollment: authenticator app.
  totpHeading: 'Scan this QR code with your authenticator app',
  totpQrAlt: 'QR code for your authenticator app',
  totpManual: 'Cannot scan it? Enter this key in the app instead:',
  totpCopyKey: 'Copy key',
  totpKeyCopied: 'Key copied.',
  totpCodeLabel: 'The code the app shows',
  confirm: 'Confirm',

  // Enrollment: push approval (the phone becomes an Approver).
  pushEnrollHeading: 'Set up your phone',
  pushEnrollText: 'Scan this code with your phone’s camera and open the link. Your phone asks to send notifications and to use its screen lock: allow both.',
  pushQrAlt: 'QR code with the link that sets up your phone',
  pushLinkLabel: 'Or open this link on your phone:',
  pushWaiting: 'Waiting for your phone…',
  pushActivated: 'Your phone is set up.',

  // Sign-in: push approval.
  pushSent: 'We sent a sign-in request to {name}. Open it, and type this number:',
  pushNumberLabel: 'The number to type on your phone',
  pushCancel: 'Cancel',
  pushRefused: 'Your phone did not approve this sign-in. Try again, or choose another method.',
  pushWait: 'A request went to your phone a moment ago. You can send another in {time}.',
  pushSendAgain: 'Send another request',

  // Enrollment: passkey.
  passkeyHeading: 'Create a passkey',
  passkeyText: 'Your browser will ask you to confirm with your fingerprint, face, screen lock or security key.',
  passkeyNameLabel: 'Name for this passkey (optional)',
  passkeyCreate: 'Create passkey',
  passkeyCancelled: 'The passkey was not created. You can try again or choose another method.',
  passkeyNotUsed: 'No passkey was used. Try again, or choose another method.',

  // Enrollment: email and SMS.
  emailHeading: 'Get codes by email',
  emailLabel: 'Email address (leave empty to use the one on your account)',
  smsHeading: 'Get codes by text message',
  smsLabel: 'Mobile number, with country code (for example +14155550123)',
  sendCode: 'Send code',
  codeSentTo: 'We sent a code to {to}.',
  codeLabel: 'Code',
  resend: 'Send a new code',
  resendIn: 'You can ask for a new code in {time}.',
  codeWait: 'A code was sent a moment ago. You can ask for another in {time}.',

  // Backup codes, shown once.
  backupHeading: 'Save your backup codes',
  backupText: 'Each code signs you in once if you lose your device. They are shown only now: copy or download them and keep them somewhere safe.',
  backupListLabel: 'Backup codes',
  backupCopy: 'Copy codes',
  backupCopied: 'Codes copied.',
  backupDownload: 'Download codes',
  backupFileName: 'backup-codes.txt',
  backupSaved: 'I have saved these codes',

  // Sign-in with a factor.
  verifyHeading: 'Confirm it is you',
  verifyTotp: 'Enter the code from your authenticator app.',
  verifyWebauthn: 'Use your passkey or security key.',
  /** Shown under the line above when the user has several factors of a kind. */
  whichFactor: 'The one named “{name}”.',
  verifyWebauthnButton: 'Use passkey',
  verifyCode: 'Enter the code we sent to {to}.',
  verifyBackup: 'Enter one of your backup codes.',
  backupCodeLabel: 'Backup code',
  backupRemaining: 'Signed in. You have {count} backup codes left.',
  backupRemainingOne: 'Signed in. You have 1 backup code left.',
  backupNoneLeft: 'Signed in. That was your last backup code: make new ones in your account settings.',
  verify: 'Verify',
  rememberDevice: 'Remember this device for {days} days',
  wrongCode: 'That code is not right, or it was used already. Wait for a new code and try again.',
  expired: 'That took too long.',
  lockedHeading: 'Too many attempts',
  lockedText: 'Codes are not accepted for a while. You can try again in {time}.',
  lockedOver: 'You can try again now.',
  otherMethods: 'Try another method',
  otherMethodsHeading: 'Choose another method',

  // Help.
  help: 'Ask for help',
  helpHeading: 'Ask your administrator for help',
  helpText: 'Tell them what happened (optional). They will contact you.',
  helpLabel: 'Message',
  helpSend: 'Send request',
  helpSent: 'Your request was sent (reference {id}). Your administrator will contact you.',
} as const;

/** The texts the prompt shows; see {@link englishTexts}. */
export type PromptTexts = { [K in keyof typeof englishTexts]: string };

/** `{name}` placeholders filled from `values`; unknown ones stay as they are. */
export function format(text: string, values: Record<string, string | number> = {}): string {
  return text.replace(/\{(\w+)\}/g, (whole, key: string) => (Object.hasOwn(values, key) ? String(values[key]) : whole));
}
