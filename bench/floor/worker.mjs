// The platform's own cost of what edge-mfa's `POST verify` (TOTP) does, with none
// of edge-mfa's code: a JavaScript Worker on the same workerd making the same
// calls. Each path adds one step to the one before it (bench/floor.mjs):
//   /empty           a constant JSON answer
//   /kv              + the tenant's record read from KV (1.6 KB of JSON, parsed)
//   /kv-user         + the user's Durable Object: the request in, one SQLite write
//   /kv-user-log     + that object appends one event to the tenant's log object
//   /kv-user-log-sign + an ES256 signature (WebCrypto, the key imported once)
import { DurableObject } from 'cloudflare:workers';

export class User extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS record (id INTEGER PRIMARY KEY, body TEXT)');
  }

  async fetch(request) {
    const call = await request.json();
    // The used TOTP step, written before the answer (as edge-mfa's record is).
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO record VALUES (1, ?)', JSON.stringify({ step: call.step, tenant: call.tenant.id }));
    if (call.log) {
      const log = this.env.LOG.get(this.env.LOG.idFromName(call.tenant.id));
      const answer = await log.fetch('https://object.internal/', { method: 'POST', body: JSON.stringify({ type: 'verify.succeeded', user: call.user, at: call.step }) });
      if (answer.status !== 200) throw new Error(`log answered ${answer.status}`);
      await answer.text();
    }
    return Response.json({ ok: true });
  }
}

export class Log extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS event (seq INTEGER PRIMARY KEY, body TEXT)');
  }

  async fetch(request) {
    this.ctx.storage.sql.exec('INSERT INTO event (body) VALUES (?)', await request.text());
    return new Response('{}');
  }
}

let signingKey;
async function sign(claims) {
  signingKey ??= await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']).then((k) => k.privateKey);
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const input = `${b64(new TextEncoder().encode('{"alg":"ES256"}'))}.${b64(new TextEncoder().encode(JSON.stringify(claims)))}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, signingKey, new TextEncoder().encode(input));
  return `${input}.${b64(signature)}`;
}

export default {
  async fetch(request, env) {
    const steps = new URL(request.url).pathname.slice(1).split('-');
    const body = await request.json();
    if (steps[0] === 'empty') return Response.json({ ok: true });
    const tenant = await env.TENANTS.get('tenant:bench', 'json');
    if (!tenant) return new Response('no tenant', { status: 500 });
    if (steps.includes('user')) {
      const user = env.USERS.get(env.USERS.idFromName(`${tenant.id}/${body.user}`));
      const answer = await user.fetch('https://object.internal/', {
        method: 'POST',
        body: JSON.stringify({ tenant, user: body.user, step: body.step, log: steps.includes('log') }),
      });
      if (answer.status !== 200) return new Response(await answer.text(), { status: 500 });
      await answer.json();
    }
    if (steps.includes('sign')) return Response.json({ mfa_token: await sign({ sub: body.user, amr: ['otp'] }) });
    return Response.json({ ok: true });
  },
};
