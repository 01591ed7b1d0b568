// The tenant backend's two jobs with edge-mfa (docs/INTEGRATION.md), in Node with
// the `jose` npm package: mint a ticket after your own login, and check the
// mfa_token the SPA brings back. tests/e2e/integration.test.mjs runs this file.
import { SignJWT, createRemoteJWKSet, jwtVerify } from 'jose';

/// A ticket for `user` (the id of YOUR login session's user): HS256, keyed with
/// the bytes of the tenant's ticket_secret string as given (do not base64-decode
/// it). `ttl` at most 900 s; `claims` may add `email`, `phone`, `groups`, `jti`.
export async function mintTicket({ tenant, ticketSecret, user, ttl = 300, claims = {} }) {
  if (!(ttl > 0 && ttl <= 900)) throw new RangeError('a ticket lives at most 900 s');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(tenant)
    .setSubject(user)
    .setAudience('edge-mfa')
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .sign(new TextEncoder().encode(ticketSecret));
}

// One key set per tenant: jose caches the keys and refetches on an unknown `kid`
// (after a signing-key rotation).
const keySets = new Map();
function keySet(base, tenant) {
  const url = `${base.replace(/\/+$/, '')}/v1/${tenant}/jwks.json`;
  if (!keySets.has(url)) keySets.set(url, createRemoteJWKSet(new URL(url)));
  return keySets.get(url);
}

/// Checks an mfa_token for `expectedUser`, the user of your own login session.
/// Throws unless it is valid; returns its claims and whether a second factor was
/// presented now (`mfa`: acr "mfa"). `seen` (optional, a Set or anything with
/// has/add) refuses a token whose jti was used before.
export async function verifyMfaToken({ base, tenant, token, expectedUser, seen }) {
  if (typeof expectedUser !== 'string' || expectedUser === '') {
    throw new TypeError('expectedUser: the user your backend minted the ticket for');
  }
  const { payload } = await jwtVerify(token, keySet(base, tenant), {
    algorithms: ['ES256'], // pinned: never taken from the token
    issuer: `edge-mfa:${tenant}`,
    audience: tenant,
    subject: expectedUser, // a token of another user is refused
    requiredClaims: ['iat', 'exp', 'jti'],
    clockTolerance: 30,
  });
  if (seen) {
    if (seen.has(payload.jti)) throw new Error('this mfa_token was used before');
    seen.add(payload.jti);
  }
  return { claims: payload, mfa: payload.acr === 'mfa' };
}
