#!/usr/bin/env python3
"""Writes fuzz/seeds/<target>/ from the project's own fixtures: the W3C spec's test
vectors and the captured Chromium ceremonies. Seeds start libFuzzer deep inside each
format instead of at random bytes. Rerun after adding fixtures; the output is
committed."""
import base64, json, pathlib, re

root = pathlib.Path(__file__).resolve().parent.parent
fixtures = root / "shared/webauthn/tests/fixtures"
seeds = root / "fuzz/seeds"


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def write(target, name, data):
    d = seeds / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def cbor(data, i=0):
    """A small CBOR decoder (major types 0-5, 7): (value, next index)."""
    head = data[i]
    major, info = head >> 5, head & 0x1F
    i += 1
    if info < 24:
        n = info
    else:
        size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
        n = int.from_bytes(data[i:i + size], "big")
        i += size
    if major == 0:
        return n, i
    if major == 1:
        return -1 - n, i
    if major in (2, 3):
        raw = data[i:i + n]
        return (raw if major == 2 else raw.decode()), i + n
    if major == 4:
        items = []
        for _ in range(n):
            item, i = cbor(data, i)
            items.append(item)
        return items, i
    if major == 5:
        entries = {}
        for _ in range(n):
            k, i = cbor(data, i)
            v, i = cbor(data, i)
            entries[k] = v
        return entries, i
    return None, i


def cose_key_of(auth_data):
    # rpIdHash 32 | flags 1 | signCount 4 | aaguid 16 | credIdLen 2 | credId | COSE key
    if len(auth_data) < 55 or not auth_data[32] & 0x40:
        return None
    n = int.from_bytes(auth_data[53:55], "big")
    return auth_data[55 + n:]


# The spec's vectors: name = h'hex' lines, per section.
section = None
for line in (fixtures / "w3c/test-vectors.bs").read_text().splitlines():
    m = re.match(r"## .* \{#sctn-test-vectors-(.*)\}", line)
    if m:
        section, phase = m.group(1), "reg"
        continue
    if line.startswith("[=authentication ceremony"):
        phase = "auth"
    m = re.match(r"(\w+) = h'([0-9a-f]*)'", line)
    if not (m and section):
        continue
    name, data = m.group(1), bytes.fromhex(m.group(2))
    tag = f"w3c-{section}-{phase}"
    if name == "attestationObject":
        write("cbor", tag, data)
        write("attestation_object", tag, data)
        # authData is the last value of the map: a byte string at the end.
    elif name == "authenticatorData":
        write("authenticator_data", tag, data)
    elif name == "clientDataJSON":
        write("client_data", tag, data)
    elif name == "attestation_ca_cert":
        write("der", tag, data)

# The captured ceremonies (RegistrationResponseJSON / AuthenticationResponseJSON).
for path in sorted(fixtures.glob("*.json")):
    f = json.loads(path.read_text())
    tag = path.stem
    reg = f["registration"]["response"]
    write("registration", tag, json.dumps(reg))
    auth_data = b64url(reg["response"]["authenticatorData"]) if "authenticatorData" in reg["response"] else None
    if auth_data:
        write("authenticator_data", f"{tag}-reg", auth_data)
        key = cose_key_of(auth_data)
        if key:
            write("cose_key", tag, key)
    for i, a in enumerate(f.get("authentications", [])):
        write("authentication", f"{tag}-{i}", json.dumps(a["response"]))

# Peers' real-device ceremonies (tpm, android-key, apple, packed, fido-u2f, none).
for path in sorted((fixtures / "peers").glob("*.json")):
    f = json.loads(path.read_text())
    tag = path.stem
    credential = f["registration"]["credential"]
    write("registration", tag, json.dumps(credential))
    object = b64url(credential["response"]["attestationObject"])
    write("attestation_object", tag, object)
    statement = cbor(object)[0].get("attStmt", {})
    for n, cert in enumerate(statement.get("x5c", [])):
        write("der", f"{tag}-x5c-{n}", cert)
    if f.get("authentication"):
        write("authentication", tag, json.dumps(f["authentication"]["credential"]))

# Tickets, codes, otpauth names, HTTP bodies.
write("ticket", "hs256", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJhY21lIiwic3ViIjoidSIsImF1ZCI6ImVkZ2UtbWZhIiwiaWF0IjoxODAwMDAwMDAwLCJleHAiOjE4MDAwMDAzMDB9.c2lnbmF0dXJl")
write("ticket", "none", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.")
for i, code in enumerate(["123 456", "123-456", "abcd-efgh-jkmn", "ABCD EFGH JKMN", "0o1i-lL00-0000", "１２３４５６"]):
    write("codes", f"code-{i}", code)
for i, name in enumerate(["Acme: Support\u0000urn:user:42", "A&B #1 + 50% off\u0000jane+tag@example.com", "Ünïcødé 東京\u0000a b&c#d%e"]):
    write("otpauth", f"names-{i}", name)
write("http_bodies", "policy", json.dumps({"mode": "adaptive", "adaptive": {"trusted_networks": ["10.0.0.0/8"], "deny_countries": ["KP", "T1"]}, "lockout": {"max_failures": 5, "window_seconds": 900}}))
write("http_bodies", "path", "jane%40acme.test%2F%C3%A9")
