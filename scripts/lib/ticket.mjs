// Mints edge-mfa tickets the way a tenant backend would: HS256 over the claims of
// API.md, keyed with the bytes of the tenant's ticket_secret string. Uses the
// independent `jose` library, not our Rust code.
import { SignJWT } from 'jose';

export async function mintTicket({ tenant, secret, sub, ttl = 300, now = Math.floor(Date.now() / 1000), extra = {} }) {
  return new SignJWT({ ...extra })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(tenant)
    .setSubject(sub)
    .setAudience('edge-mfa')
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .sign(new TextEncoder().encode(secret));
}
