// The reference for bench/compare.mjs: what a team would build without edge-mfa.
// Node `http`, `@simplewebauthn/server` for assertions, `otplib` for TOTP, `jose`
// for the HS256 ticket in and the ES256 token out, state in memory (one process,
// no durability, no audit log). It speaks the subset of edge-mfa's contract the
// benchmark drives, so one load client measures both:
//   POST /v1/{tenant}/assess, /challenge {"type":"webauthn"}, /verify
// plus POST /bench/users to seed a user (secret and credential made by the client).
//   node bench/reference/server.mjs [port]   (prints {"port"} when listening)
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { verify as verifyTotp } from 'otplib';
import { generateAuthenticationOptions, verifyAuthenticationResponse } from '@simplewebauthn/server';

const TENANT = 'reference';
const TICKET_SECRET = new TextEncoder().encode(process.env.REFERENCE_TICKET_SECRET ?? 'reference-ticket-secret-of-32-bytes!');
const RP_ID = 'localhost';
const ORIGIN = process.env.REFERENCE_ORIGIN ?? 'http://localhost:8788';
const TOKEN_LIFETIME = 300;
const CHALLENGE_LIFETIME = 300;

// The token key is made and imported once, at start, as a team would.
const { privateKey, publicKey } = await generateKeyPair('ES256');
const kid = randomUUID();
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };

/** sub -> { totpSecret, lastStep, credential: {id, publicKey, counter}, challenges: Map } */
const users = new Map();

const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const problem = (res, status, detail) => json(res, status, { type: 'about:blank', status, detail });

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

// Benchmarks move the clock forward so each TOTP code is a new step, as edge-mfa's
// test hooks allow; without the header it is the real time.
const nowOf = (req) => Number(req.headers['x-edge-mfa-test-now'] ?? Math.floor(Date.now() / 1000));

async function caller(req, now) {
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!bearer) return undefined;
  try {
    const { payload } = await jwtVerify(bearer, TICKET_SECRET, {
      issuer: TENANT, audience: 'edge-mfa', algorithms: ['HS256'], currentDate: new Date(now * 1000),
    });
    return payload.sub;
  } catch {
    return undefined;
  }
}

const mfaToken = (sub, method, amr, now) => new SignJWT({ amr, mfa_method: method, acr: 'mfa', auth_time: now, jti: randomUUID() })
  .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
  .setIssuer(`edge-mfa:${TENANT}`).setAudience(TENANT).setSubject(sub)
  .setIssuedAt(now).setExpirationTime(now + TOKEN_LIFETIME)
  .sign(privateKey);

async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'GET' && url.pathname === `/v1/${TENANT}/jwks.json`) return json(res, 200, jwks);
  if (req.method === 'GET' && url.pathname === '/health') return json(res, 200, { status: 'ok' });
  if (req.method !== 'POST') return problem(res, 405, 'method not allowed');
  const body = await readJson(req).catch(() => undefined);
  if (body === undefined) return problem(res, 400, 'the body is not JSON');
  if (url.pathname === '/bench/users') {
    users.set(body.sub, {
      totpSecret: body.totp_secret, lastStep: 0, challenges: new Map(),
      credential: { id: body.credential_id, publicKey: Buffer.from(body.credential_public_key, 'base64url'), counter: 0 },
    });
    return json(res, 201, {});
  }
  const now = nowOf(req);
  const sub = await caller(req, now);
  if (!sub) return problem(res, 401, 'the ticket is missing or invalid');
  const user = users.get(sub);
  switch (url.pathname) {
    case `/v1/${TENANT}/assess`: {
      // Required for everyone: challenge with the user's factors, else enroll.
      if (!user) return json(res, 200, { action: 'enroll', reasons: ['required'], factors: [] });
      return json(res, 200, {
        action: 'challenge', reasons: ['required'],
        factors: [{ id: 'totp', type: 'totp', name: 'Authenticator app' }, { id: 'key', type: 'webauthn', name: 'Security key' }],
        enrollment: { state: 'enrolled' },
      });
    }
    case `/v1/${TENANT}/challenge`: {
      if (!user || body.type !== 'webauthn') return problem(res, 422, 'no such factor');
      const options = await generateAuthenticationOptions({
        rpID: RP_ID, allowCredentials: [{ id: user.credential.id }], userVerification: 'preferred',
      });
      const id = randomUUID();
      user.challenges.set(id, { challenge: options.challenge, expires: now + CHALLENGE_LIFETIME });
      return json(res, 201, { challenge_id: id, type: 'webauthn', expires_at: now + CHALLENGE_LIFETIME, public_key: options });
    }
    case `/v1/${TENANT}/verify`: {
      if (!user) return problem(res, 422, 'no factor');
      if (body.type === 'totp') {
        // One step either side (RFC 6238 §5.2), and never a step twice.
        const result = await verifyTotp({ secret: user.totpSecret, token: String(body.code ?? ''), epoch: now, epochTolerance: 30, afterTimeStep: user.lastStep });
        if (!result.valid) return problem(res, 422, 'the code is not valid');
        user.lastStep = result.timeStep;
        return json(res, 200, { mfa_token: await mfaToken(sub, 'totp', ['otp'], now), expires_in: TOKEN_LIFETIME });
      }
      const pending = user.challenges.get(body.challenge_id);
      user.challenges.delete(body.challenge_id);
      if (!pending || pending.expires < now || !body.credential) return problem(res, 422, 'no such challenge');
      try {
        const { verified, authenticationInfo } = await verifyAuthenticationResponse({
          response: body.credential, expectedChallenge: pending.challenge, expectedOrigin: ORIGIN,
          expectedRPID: RP_ID, credential: user.credential, requireUserVerification: false,
        });
        if (!verified) return problem(res, 422, 'the assertion does not verify');
        user.credential.counter = authenticationInfo.newCounter;
      } catch (e) {
        return problem(res, 422, String(e.message));
      }
      return json(res, 200, { mfa_token: await mfaToken(sub, 'webauthn', ['hwk', 'user'], now), expires_in: TOKEN_LIFETIME });
    }
    default:
      return problem(res, 404, 'not found');
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch((e) => problem(res, 500, String(e)));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port, ticket_secret: new TextDecoder().decode(TICKET_SECRET), tenant: TENANT }));
});
