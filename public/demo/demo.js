// The demo: a tenant's sign-in page after its password step, with <edge-mfa-prompt>
// doing the second step. The ticket arrives in the URL fragment (scripts/dev prints
// the link); a real app gets it from its backend.
import '/sdk/prompt.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.hash.slice(1));
const tenant = params.get('tenant');
const ticket = params.get('ticket');
// The ticket stays in memory only: not in the address bar, not in history.
if (ticket) history.replaceState(null, '', location.pathname);
// Another link pasted into this tab: start over with its ticket.
addEventListener('hashchange', () => location.reload());

/** A JWT's payload, for display only: the backend verifies the signature. */
function claimsOf(token) {
  const payload = token.split('.')[1].replaceAll('-', '+').replaceAll('_', '/');
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
}

if (!tenant || !ticket) {
  $('missing').hidden = false;
} else {
  const user = claimsOf(ticket).sub;
  $('who').textContent = user;
  $('user').textContent = user;
  const prompt = $('prompt');
  prompt.addEventListener('edge-mfa-complete', (event) => {
    // Here a real app posts event.detail.mfaToken to its backend.
    $('claims').textContent = JSON.stringify(claimsOf(event.detail.mfaToken), null, 2);
    const left = event.detail.backupCodesRemaining;
    $('codes-left').hidden = left === undefined;
    $('codes-left').textContent = left === 0
      ? 'That was your last backup code: set up new ones.'
      : `You signed in with a backup code; ${left} left.`;
    $('signin').hidden = true;
    $('welcome').hidden = false;
    $('welcome').querySelector('h1').focus();
  });
  prompt.addEventListener('edge-mfa-error', (event) => {
    // This page's ticket is fixed (from the link): a refused one needs a new link.
    if (event.detail.status === 401) $('expired').hidden = false;
  });
  $('again').addEventListener('click', () => {
    $('welcome').hidden = true;
    $('signin').hidden = false;
    prompt.start();
  });
  $('signin').hidden = false;
  prompt.tenant = tenant;
  prompt.ticket = ticket;
}
