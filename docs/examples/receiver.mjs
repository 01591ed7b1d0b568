// A tenant's webhook receiver for edge-mfa's codes: verify, then hand the code to
// your SMS or email provider. README "SMS and email codes" shows this file.
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

/// Starts the receiver; `deliver(event)` sends the message (your provider).
export function startReceiver({ secret, deliver, port = 8080 }) {
  const webhook = new Webhook(secret); // whsec_...
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', async () => {
      let event;
      try {
        event = webhook.verify(body, req.headers); // throws unless signed and fresh
      } catch {
        return res.writeHead(400).end();
      }
      await deliver(event); // event.type: mfa.code.sms, mfa.code.email, ...
      res.writeHead(204).end();
    });
  }).listen(port);
}
