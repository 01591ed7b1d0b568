//! Just enough ASN.1 DER to read an attestation certificate (RFC 5280 §4.1): the
//! version, the subject, the P-256 public key, and two extensions. Every length is
//! checked; anything unexpected is an error, never a panic.

use p256::ecdsa::VerifyingKey;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DerError(pub &'static str);

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const BOOLEAN: u8 = 0x01;
const VERSION_TAG: u8 = 0xa0;
const EXTENSIONS_TAG: u8 = 0xa3;

const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
/// id-fido-gen-ce-aaguid, 1.3.6.1.4.1.45724.1.1.4 (WebAuthn §8.2.1).
const OID_FIDO_AAGUID: &[u8] = &[
    0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xe5, 0x1c, 0x01, 0x01, 0x04,
];
/// Apple's anonymous attestation nonce, 1.2.840.113635.100.8.2 (WebAuthn §8.8).
const OID_APPLE_NONCE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x63, 0x64, 0x08, 0x02];
const CONTEXT_1: u8 = 0xa1;
pub const OID_COUNTRY: &[u8] = &[0x55, 0x04, 0x06];
pub const OID_ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
pub const OID_ORGANIZATIONAL_UNIT: &[u8] = &[0x55, 0x04, 0x0b];
pub const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

/// Reads one TLV from the front of `input`: (tag, contents).
fn tlv<'a>(input: &mut &'a [u8]) -> Result<(u8, &'a [u8]), DerError> {
    let (&tag, rest) = input.split_first().ok_or(DerError("truncated tag"))?;
    let (&first, mut rest) = rest.split_first().ok_or(DerError("truncated length"))?;
    let len = match first {
        0..=0x7f => usize::from(first),
        0x81..=0x83 => {
            let n = usize::from(first & 0x7f);
            let (bytes, after) = rest
                .split_at_checked(n)
                .ok_or(DerError("truncated length"))?;
            rest = after;
            bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        }
        _ => return Err(DerError("unsupported length form")),
    };
    let (contents, after) = rest
        .split_at_checked(len)
        .ok_or(DerError("truncated contents"))?;
    *input = after;
    Ok((tag, contents))
}

fn expect<'a>(input: &mut &'a [u8], want: u8, what: &'static str) -> Result<&'a [u8], DerError> {
    match tlv(input)? {
        (tag, contents) if tag == want => Ok(contents),
        _ => Err(DerError(what)),
    }
}

/// One subject attribute: (type OID, value bytes).
type Attribute = (Vec<u8>, Vec<u8>);

/// The parts of an X.509 certificate WebAuthn attestation needs.
#[derive(Debug)]
pub struct Certificate {
    /// 0 for v1 … 2 for v3.
    pub version: u8,
    /// (attribute OID, value bytes) of the subject's RDNs.
    pub subject: Vec<Attribute>,
    pub public_key: VerifyingKey,
    pub is_ca: bool,
    pub aaguid: Option<[u8; 16]>,
    /// Apple's nonce extension: `SEQUENCE { [1] EXPLICIT OCTET STRING (32) }`.
    pub apple_nonce: Option<[u8; 32]>,
}

impl Certificate {
    pub fn subject_value(&self, oid: &[u8]) -> Option<&[u8]> {
        self.subject
            .iter()
            .find(|(o, _)| o == oid)
            .map(|(_, v)| v.as_slice())
    }

    pub fn parse(der: &[u8]) -> Result<Certificate, DerError> {
        let mut input = der;
        let cert = expect(&mut input, SEQUENCE, "certificate")?;
        if !input.is_empty() {
            return Err(DerError("trailing bytes"));
        }
        let mut cert = cert;
        let mut tbs = expect(&mut cert, SEQUENCE, "tbsCertificate")?;

        let mut version = 0;
        if tbs.first() == Some(&VERSION_TAG) {
            let mut explicit = expect(&mut tbs, VERSION_TAG, "version")?;
            let v = expect(&mut explicit, INTEGER, "version")?;
            version = match v {
                [v] => *v,
                _ => return Err(DerError("version")),
            };
        }
        expect(&mut tbs, INTEGER, "serialNumber")?;
        expect(&mut tbs, SEQUENCE, "signature")?;
        expect(&mut tbs, SEQUENCE, "issuer")?;
        expect(&mut tbs, SEQUENCE, "validity")?;
        let subject = parse_name(expect(&mut tbs, SEQUENCE, "subject")?)?;
        let public_key = parse_spki(expect(&mut tbs, SEQUENCE, "subjectPublicKeyInfo")?)?;

        let mut is_ca = false;
        let mut aaguid = None;
        let mut apple_nonce = None;
        while !tbs.is_empty() {
            let (tag, contents) = tlv(&mut tbs)?;
            if tag != EXTENSIONS_TAG {
                continue; // issuerUniqueID / subjectUniqueID
            }
            let mut explicit = contents;
            let mut extensions = expect(&mut explicit, SEQUENCE, "extensions")?;
            while !extensions.is_empty() {
                let mut ext = expect(&mut extensions, SEQUENCE, "extension")?;
                let oid = expect(&mut ext, OID, "extnID")?;
                let mut critical = false;
                if ext.first() == Some(&BOOLEAN) {
                    critical = expect(&mut ext, BOOLEAN, "critical")? != [0];
                }
                let value = expect(&mut ext, OCTET_STRING, "extnValue")?;
                if oid == OID_BASIC_CONSTRAINTS {
                    let mut v = value;
                    let mut bc = expect(&mut v, SEQUENCE, "basicConstraints")?;
                    if bc.first() == Some(&BOOLEAN) {
                        is_ca = expect(&mut bc, BOOLEAN, "cA")? != [0];
                    }
                } else if oid == OID_APPLE_NONCE {
                    let mut v = value;
                    let mut seq = expect(&mut v, SEQUENCE, "apple nonce")?;
                    let mut explicit = expect(&mut seq, CONTEXT_1, "apple nonce")?;
                    let nonce = expect(&mut explicit, OCTET_STRING, "apple nonce")?;
                    apple_nonce = Some(
                        nonce
                            .try_into()
                            .map_err(|_| DerError("apple nonce is not 32 bytes"))?,
                    );
                } else if oid == OID_FIDO_AAGUID {
                    // §8.2.1: the extension MUST NOT be marked critical.
                    if critical {
                        return Err(DerError("aaguid extension is critical"));
                    }
                    let mut v = value;
                    let inner = expect(&mut v, OCTET_STRING, "aaguid")?;
                    aaguid = Some(
                        inner
                            .try_into()
                            .map_err(|_| DerError("aaguid is not 16 bytes"))?,
                    );
                }
            }
        }
        Ok(Certificate {
            version,
            subject,
            public_key,
            is_ca,
            aaguid,
            apple_nonce,
        })
    }
}

fn parse_name(mut name: &[u8]) -> Result<Vec<Attribute>, DerError> {
    let mut out = Vec::new();
    while !name.is_empty() {
        let mut rdn = expect(&mut name, SET, "RelativeDistinguishedName")?;
        while !rdn.is_empty() {
            let mut atv = expect(&mut rdn, SEQUENCE, "AttributeTypeAndValue")?;
            let oid = expect(&mut atv, OID, "attribute type")?;
            let (_, value) = tlv(&mut atv)?;
            out.push((oid.to_vec(), value.to_vec()));
        }
    }
    Ok(out)
}

fn parse_spki(mut spki: &[u8]) -> Result<VerifyingKey, DerError> {
    let mut algorithm = expect(&mut spki, SEQUENCE, "algorithm")?;
    if expect(&mut algorithm, OID, "algorithm")? != OID_EC_PUBLIC_KEY {
        return Err(DerError("not an EC public key"));
    }
    if expect(&mut algorithm, OID, "curve")? != OID_P256 {
        return Err(DerError("not a P-256 key"));
    }
    match expect(&mut spki, BIT_STRING, "subjectPublicKey")? {
        [0, point @ ..] => {
            VerifyingKey::from_sec1_bytes(point).map_err(|_| DerError("not a P-256 point"))
        }
        _ => Err(DerError("subjectPublicKey")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_and_odd_lengths_are_errors() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x00],
            &[0x30, 0x80],
            &[0x30, 0x84, 0, 0, 0, 1, 0],
            &[0x30, 0x82, 0xff],
        ] {
            assert!(Certificate::parse(bad).is_err(), "{bad:?}");
        }
    }
}
