// The Approver's service worker (docs/PUSH.md): a push message names an approval
// (tenant, user, approval id; never its number); the notification opens the
// Approver on it. Every push shows a notification (userVisibleOnly).
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

const b64url = (text) => btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

self.addEventListener('push', (event) => {
  let message = null;
  try {
    message = event.data ? event.data.json() : null;
  } catch {
    message = null;
  }
  const known = message && message.v === 1 && message.t && message.u && message.a;
  const handle = known ? b64url(unescape(encodeURIComponent(JSON.stringify({ t: message.t, u: message.u, a: message.a })))) : null;
  event.waitUntil(
    self.registration.showNotification('Sign-in request', {
      body: known
        ? 'Someone is signing in with your account. Tap to approve or deny.'
        : 'A message this Approver cannot read.',
      tag: known ? message.a : 'unknown',
      requireInteraction: true,
      data: { url: handle ? `/approver/#approve=${handle}` : '/approver/' },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url ?? '/approver/', self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((w) => new URL(w.url).pathname.startsWith('/approver/'));
      if (open) {
        await open.navigate(url);
        return open.focus();
      }
      return self.clients.openWindow(url);
    })(),
  );
});
