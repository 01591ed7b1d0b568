"""The tenant backend's check of an mfa_token (docs/INTEGRATION.md, "What the
tenant's backend checks"), in Python with PyJWT. tests/e2e/backend_python.test.mjs
runs this file against both runtimes.

    from backend import verify_mfa_token
    claims = verify_mfa_token(base="https://mfa.example.com", tenant="acme",
                              token=token_from_the_spa, expected_user=session.user_id)

Needs `PyJWT[crypto]` (the ES256 key type comes from `cryptography`).
"""

import json
import sys

import jwt  # PyJWT

# One key set per tenant, kept 300 s (the JWKS's own max-age) and refetched on an
# unknown `kid` (after a signing-key rotation). Not `cache_keys=True`: PyJWT keeps
# those keys with no expiry, so a key the tenant retired (a leaked key) would
# still be trusted.
_key_sets = {}


def _key_set(base, tenant):
    url = f"{base.rstrip('/')}/v1/{tenant}/jwks.json"
    if url not in _key_sets:
        _key_sets[url] = jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=300)
    return _key_sets[url]


def verify_mfa_token(*, base, tenant, token, expected_user, require_mfa=True, seen=None):
    """Checks an mfa_token for `expected_user`, the user of your own login session.

    Returns its claims; raises jwt.InvalidTokenError (or a subclass: expired, wrong
    issuer, audience or subject, bad signature) unless every check of the checklist
    holds. `require_mfa`: a second factor must have been presented in this sign-in
    (`acr` "mfa"); an `allow` from assess (`acr` "0": policy, trusted device,
    bypass) is refused unless you pass False. `seen` (optional, a set) refuses a
    token whose `jti` was used before.
    """
    if not isinstance(expected_user, str) or not expected_user:
        raise ValueError("expected_user: the user your backend minted the ticket for")
    key = _key_set(base, tenant).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key,
        algorithms=["ES256"],  # pinned: never taken from the token
        issuer=f"edge-mfa:{tenant}",
        audience=tenant,
        subject=expected_user,  # a token of another user is refused
        leeway=30,
        options={"require": ["iss", "aud", "sub", "iat", "exp", "jti"]},
    )
    if require_mfa and claims.get("acr") != "mfa":
        raise jwt.InvalidTokenError(
            f"no second factor was presented in this sign-in (acr {claims.get('acr')!r}, "
            f"mfa_method {claims.get('mfa_method')!r})"
        )
    if seen is not None:
        if claims["jti"] in seen:
            raise jwt.InvalidTokenError("this mfa_token was used before")
        seen.add(claims["jti"])
    return claims


if __name__ == "__main__":
    # python3 backend.py BASE TENANT EXPECTED_USER [--allow-without-mfa] < token
    # Prints the claims as JSON, or the reason for refusing on stderr (exit 1).
    base, tenant, user = sys.argv[1:4]
    try:
        claims = verify_mfa_token(
            base=base,
            tenant=tenant,
            token=sys.stdin.read().strip(),
            expected_user=user,
            require_mfa="--allow-without-mfa" not in sys.argv[4:],
        )
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as refused:
        print(f"refused: {type(refused).__name__}: {refused}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(claims))
