// A tenant's webhook endpoint for the end-to-end suite: a real HTTP server on
// loopback that checks every delivery's signature with `standardwebhooks` (the
// Standard Webhooks reference library for JavaScript, not our code) and keeps what
// it received. `respond` decides the answer: a status, or a delay past the
// deadline.
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

export async function startReceiver() {
  const deliveries = [];
  let secrets = [];
  let respond = () => ({ status: 204 });
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': req.headers['webhook-id'],
        'webhook-timestamp': req.headers['webhook-timestamp'],
        'webhook-signature': req.headers['webhook-signature'],
      };
      // Which of the secrets given verifies it (the library accepts a header with
      // several signatures when any of them is good).
      const verifiedWith = secrets.filter((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      let payload = null;
      try { payload = JSON.parse(body); } catch { /* recorded as null */ }
      const delivery = { headers, raw: body, payload, verifiedWith, contentType: req.headers['content-type'], at: Date.now() };
      deliveries.push(delivery);
      const answer = respond(delivery);
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      res.writeHead(answer.status ?? 204);
      res.end();
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    /// The secrets a delivery may verify with.
    trust(...s) { secrets = s; },
    /// How to answer from now on: (delivery) => ({status, delayMs}).
    answer(fn) { respond = fn; },
    /// Deliveries of one type, verified or not.
    of(type) { return deliveries.filter((d) => d.payload?.type === type); },
    async waitFor(predicate, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const found = deliveries.find(predicate);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no matching delivery within ${ms} ms; received: ${JSON.stringify(deliveries.map((d) => d.payload?.type))}`);
    },
    close() { server.closeAllConnections?.(); return new Promise((ok) => server.close(ok)); },
  };
}
