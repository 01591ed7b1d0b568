// Push services for the suite, on loopback:
// - `startPushService`: the npm `web-push-testing` server (an implementation of a
//   Web Push service that is not ours): it decrypts each message (RFC 8291) and
//   checks its VAPID token (RFC 8292: the key subscribed with, the ES256
//   signature, `exp`); its messages are read back over its API.
// - `startRawPushService`: keeps each message's bytes and headers as sent, for
//   the test to decrypt with npm `http_ece` and to check the VAPID token with
//   `jose`, both independently of the service under test.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { createECDH, randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startPushService() {
  // The package's `main` names a file it does not ship: its server module directly.
  const Server = require('web-push-testing/src/server.js');
  const { PushApiModel } = require('web-push-testing/src/PushApiModel.js');
  const model = new PushApiModel();
  const port = await freePort();
  const server = new Server(model, port);
  // Endpoints on 127.0.0.1 (the package writes `localhost`), which the Spin
  // runtime's test manifest lets components reach; and loopback only.
  model.notifyUrl = `http://127.0.0.1:${port}/notify/`;
  const listen = server._app.listen.bind(server._app);
  server._app.listen = (p, cb) => listen(p, '127.0.0.1', cb);
  const log = console.log;
  console.log = () => {};
  server.startServer();
  await new Promise((resolve) => server._server.once('listening', resolve));
  console.log = log;
  const url = `http://127.0.0.1:${port}`;
  const post = async (path, payload) => {
    const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload ?? {}) });
    const text = await r.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text; // `sendStatus` answers plain text ("OK")
    }
    return { status: r.status, body };
  };
  return {
    url,
    /// A subscription for `applicationServerKey` (base64url), as a browser's
    /// `PushSubscription.toJSON()`, and the service's id for it.
    async subscribe(applicationServerKey) {
      const r = await post('/subscribe', { applicationServerKey, userVisibleOnly: 'true' });
      if (r.status !== 200) throw new Error(`web-push-testing /subscribe: ${JSON.stringify(r.body)}`);
      const { endpoint, keys, clientHash } = r.body.data;
      return { subscription: { endpoint, expirationTime: null, keys }, clientHash };
    },
    /// The messages received for `clientHash`, decrypted by the service.
    async messages(clientHash) {
      const r = await post('/get-notifications', { clientHash });
      return r.body?.data?.messages ?? [];
    },
    async expire(clientHash) {
      await post(`/expire-subscription/${clientHash}`);
    },
    close: () => new Promise((resolve) => server._server.close(resolve)),
  };
}

export async function startRawPushService() {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(201);
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    received,
    /// A subscription to this service with keys the test holds (the user agent's
    /// side of RFC 8291): the ECDH key pair and the auth secret.
    subscription() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const subscription = {
        endpoint: `${url}/push/${randomBytes(8).toString('hex')}`,
        expirationTime: null,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
      };
      return { subscription, ecdh, auth };
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
