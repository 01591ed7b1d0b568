//! Just enough ASN.1 DER to read an attestation certificate (RFC 5280 §4.1): the
//! version, the subject, the public key (P-256 or RSA), and the extensions the
//! attestation formats look at. Every length is checked; anything unexpected is an
//! error, never a panic.

use p256::ecdsa::VerifyingKey;

use crate::cose::{CoseKey, RsaKey};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DerError(pub &'static str);

/// A certificate (or an extension in it) that does not read is an attestation
/// statement that does not verify.
impl From<DerError> for crate::WebauthnError {
    fn from(e: DerError) -> crate::WebauthnError {
        crate::WebauthnError::Attestation(e.0)
    }
}

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
/// rsaEncryption, 1.2.840.113549.1.1.1.
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const OID_EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
/// Android Key Attestation's KeyDescription, 1.3.6.1.4.1.11129.2.1.17 (§8.4).
const OID_ANDROID_KEY_DESCRIPTION: &[u8] =
    &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x01, 0x11];
/// tcg-kp-AIKCertificate, 2.23.133.8.3 (§8.3.1).
pub const OID_TCG_KP_AIK_CERTIFICATE: &[u8] = &[0x67, 0x81, 0x05, 0x08, 0x03];
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

/// Reads one TLV from the front of `input`: (tag, contents). Tags of the
/// high-tag-number form (`0x1f` low bits, then base-128 bytes) come back as their
/// first byte; [`tlv_long`] gives their number.
fn tlv<'a>(input: &mut &'a [u8]) -> Result<(u8, &'a [u8]), DerError> {
    let (tag, _, contents) = tlv_long(input)?;
    Ok((tag, contents))
}

/// One TLV: (first tag byte, tag number, contents).
pub(crate) fn tlv_long<'a>(input: &mut &'a [u8]) -> Result<(u8, u32, &'a [u8]), DerError> {
    let (&tag, mut rest) = input.split_first().ok_or(DerError("truncated tag"))?;
    let mut number = u32::from(tag & 0x1f);
    if number == 0x1f {
        number = 0;
        loop {
            let (&b, after) = rest.split_first().ok_or(DerError("truncated tag"))?;
            rest = after;
            if number > 0x00ff_ffff {
                return Err(DerError("tag number too large"));
            }
            number = (number << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
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
    Ok((tag, number, contents))
}

pub(crate) fn expect<'a>(
    input: &mut &'a [u8],
    want: u8,
    what: &'static str,
) -> Result<&'a [u8], DerError> {
    match tlv(input)? {
        (tag, contents) if tag == want => Ok(contents),
        _ => Err(DerError(what)),
    }
}

/// One subject attribute: (type OID, value bytes).
type Attribute = (Vec<u8>, Vec<u8>);

/// A certificate's subject public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    P256(VerifyingKey),
    Rsa(RsaKey),
}

impl PublicKey {
    /// Verifies an attestation statement's `sig` over `message` with this key, by
    /// the statement's `alg`: ES256 for P-256 keys; RS256 for RSA keys, and RS1
    /// where `allow_rs1` (TPM statements only). A signature that does not verify is
    /// refused as `Attestation(refusal)`.
    pub fn verify(
        &self,
        crypto: &dyn edge_mfa_crypto::Crypto,
        alg: i64,
        message: &[u8],
        sig: &[u8],
        allow_rs1: bool,
        refusal: &'static str,
    ) -> Result<(), crate::WebauthnError> {
        use edge_mfa_crypto::Algorithm;
        let verified = match (self, alg) {
            (PublicKey::P256(key), crate::cose::ES256) => {
                crate::cose::verify_es256(crypto, key, message, sig).is_ok()
            }
            (PublicKey::Rsa(key), crate::cose::RS256) => {
                crypto.verify(Algorithm::Rs256, key.port_key(), message, sig)
            }
            (PublicKey::Rsa(key), crate::cose::RS1) if allow_rs1 => {
                crypto.verify(Algorithm::Rs1, key.port_key(), message, sig)
            }
            _ => {
                return Err(crate::WebauthnError::Attestation(
                    "the statement's alg does not fit the certificate's key",
                ));
            }
        };
        if verified {
            Ok(())
        } else {
            Err(crate::WebauthnError::Attestation(refusal))
        }
    }

    /// Whether this is the same key as a credential's.
    pub fn is(&self, credential: &CoseKey) -> bool {
        match (self, credential) {
            (PublicKey::P256(a), CoseKey::Es256(b)) => a == b,
            (PublicKey::Rsa(a), CoseKey::Rs256(b)) => a == b,
            _ => false,
        }
    }
}

/// The parts of an X.509 certificate WebAuthn attestation needs.
#[derive(Debug)]
pub struct Certificate {
    /// 0 for v1 … 2 for v3.
    pub version: u8,
    /// (attribute OID, value bytes) of the subject's RDNs.
    pub subject: Vec<Attribute>,
    pub public_key: PublicKey,
    pub is_ca: bool,
    pub aaguid: Option<[u8; 16]>,
    /// The key purposes of the extended key usage extension (OIDs), if present.
    pub extended_key_usage: Vec<Vec<u8>>,
    /// Whether a subject alternative name extension is present (and whether it is
    /// critical).
    pub subject_alt_name: Option<bool>,
    /// The DER of Android's KeyDescription extension, if present.
    pub android_key_description: Option<Vec<u8>>,
    /// What the issuer signed: the TBSCertificate's whole DER.
    pub tbs_der: Vec<u8>,
    /// The issuer's signature algorithm (OID) and signature.
    pub signature_algorithm: Vec<u8>,
    pub signature: Vec<u8>,
    /// The issuer's and the subject's names, as DER contents (compared bytewise).
    pub issuer: Vec<u8>,
    pub subject_der: Vec<u8>,
    /// Validity, in Unix seconds.
    pub not_before: u64,
    pub not_after: u64,
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
        let whole = cert;
        let mut tbs = expect(&mut cert, SEQUENCE, "tbsCertificate")?;
        let tbs_der = whole
            .get(..whole.len() - cert.len())
            .ok_or(DerError("tbsCertificate"))?
            .to_vec();
        let mut signature_algorithm = expect(&mut cert, SEQUENCE, "signatureAlgorithm")?;
        let signature_algorithm =
            expect(&mut signature_algorithm, OID, "signatureAlgorithm")?.to_vec();
        let signature = match expect(&mut cert, BIT_STRING, "signatureValue")? {
            [0, bits @ ..] => bits.to_vec(),
            _ => return Err(DerError("signatureValue")),
        };

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
        let issuer = expect(&mut tbs, SEQUENCE, "issuer")?.to_vec();
        let mut validity = expect(&mut tbs, SEQUENCE, "validity")?;
        let not_before = parse_time(&mut validity)?;
        let not_after = parse_time(&mut validity)?;
        let subject_der = expect(&mut tbs, SEQUENCE, "subject")?;
        let subject = parse_name(subject_der)?;
        let subject_der = subject_der.to_vec();
        let public_key = parse_spki(expect(&mut tbs, SEQUENCE, "subjectPublicKeyInfo")?)?;

        let mut is_ca = false;
        let mut aaguid = None;
        let mut apple_nonce = None;
        let mut extended_key_usage = Vec::new();
        let mut subject_alt_name = None;
        let mut android_key_description = None;
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
                } else if oid == OID_EXTENDED_KEY_USAGE {
                    let mut v = value;
                    let mut purposes = expect(&mut v, SEQUENCE, "extKeyUsage")?;
                    while !purposes.is_empty() {
                        extended_key_usage
                            .push(expect(&mut purposes, OID, "KeyPurposeId")?.to_vec());
                    }
                } else if oid == OID_SUBJECT_ALT_NAME {
                    subject_alt_name = Some(critical);
                } else if oid == OID_ANDROID_KEY_DESCRIPTION {
                    android_key_description = Some(value.to_vec());
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
            extended_key_usage,
            subject_alt_name,
            android_key_description,
            tbs_der,
            signature_algorithm,
            signature,
            issuer,
            subject_der,
            not_before,
            not_after,
        })
    }
}

const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// A `Time` (RFC 5280 §4.1.2.5): UTCTime `YYMMDDHHMMSSZ` (years 1950–2049) or
/// GeneralizedTime `YYYYMMDDHHMMSSZ`, as Unix seconds.
fn parse_time(input: &mut &[u8]) -> Result<u64, DerError> {
    let (tag, text) = tlv(input)?;
    let digits = |s: &[u8]| -> Option<u64> {
        s.iter().try_fold(0u64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
        })
    };
    let (year, rest) = match (tag, text.len()) {
        (UTC_TIME, 13) => {
            let yy = digits(text.get(..2).unwrap_or_default()).ok_or(DerError("time"))?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, text.get(2..))
        }
        (GENERALIZED_TIME, 15) => (
            digits(text.get(..4).unwrap_or_default()).ok_or(DerError("time"))?,
            text.get(4..),
        ),
        _ => return Err(DerError("time")),
    };
    let rest = rest.ok_or(DerError("time"))?;
    if rest.last() != Some(&b'Z') {
        return Err(DerError("time is not UTC"));
    }
    let field = |r: std::ops::Range<usize>| rest.get(r).and_then(digits).ok_or(DerError("time"));
    let (month, day) = (field(0..2)?, field(2..4)?);
    let (hour, minute, second) = (field(4..6)?, field(6..8)?, field(8..10)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(DerError("time"));
    }
    // Days from civil (Howard Hinnant's algorithm), for the proleptic Gregorian
    // calendar, in signed arithmetic: a year 0 in January is day -719,528, and
    // times before 1970 read as 0 (valid from the start of Unix time).
    let year = i64::try_from(year).map_err(|_| DerError("time"))?;
    let (month, day) = (month as i64, day as i64);
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + (hour * 3_600 + minute * 60 + second) as i64;
    Ok(u64::try_from(seconds).unwrap_or(0))
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

fn parse_spki(mut spki: &[u8]) -> Result<PublicKey, DerError> {
    let mut algorithm = expect(&mut spki, SEQUENCE, "algorithm")?;
    let oid = expect(&mut algorithm, OID, "algorithm")?;
    let [0, key @ ..] = expect(&mut spki, BIT_STRING, "subjectPublicKey")? else {
        return Err(DerError("subjectPublicKey"));
    };
    if oid == OID_EC_PUBLIC_KEY {
        if expect(&mut algorithm, OID, "curve")? != OID_P256 {
            return Err(DerError("not a P-256 key"));
        }
        VerifyingKey::from_sec1_bytes(key)
            .map(PublicKey::P256)
            .map_err(|_| DerError("not a P-256 point"))
    } else if oid == OID_RSA_ENCRYPTION {
        // RFC 8017 A.1.1: RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
        let mut key = key;
        let mut rsa = expect(&mut key, SEQUENCE, "RSAPublicKey")?;
        let n = expect(&mut rsa, INTEGER, "modulus")?;
        let e = expect(&mut rsa, INTEGER, "publicExponent")?;
        RsaKey::new(n, e)
            .map(PublicKey::Rsa)
            .ok_or(DerError("not an RSA key of 2048-4096 bits"))
    } else {
        Err(DerError("neither a P-256 nor an RSA key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(tag: u8, text: &str) -> Result<u64, DerError> {
        let mut der = vec![tag, text.len() as u8];
        der.extend_from_slice(text.as_bytes());
        parse_time(&mut der.as_slice())
    }

    #[test]
    fn times_are_read_as_unix_seconds() {
        assert_eq!(time(GENERALIZED_TIME, "20240101000000Z"), Ok(1_704_067_200));
        assert_eq!(time(UTC_TIME, "240101000000Z"), Ok(1_704_067_200));
        assert_eq!(time(UTC_TIME, "491231235959Z"), Ok(2_524_607_999));
        assert_eq!(
            time(GENERALIZED_TIME, "30240101000000Z"),
            Ok(33_260_976_000)
        );
        // Before Unix time: 0. The fuzzer found year 0 in January overflowing.
        assert_eq!(time(UTC_TIME, "500101000000Z"), Ok(0));
        assert_eq!(time(GENERALIZED_TIME, "00000101000000Z"), Ok(0));
        assert_eq!(time(GENERALIZED_TIME, "00000229000000Z"), Ok(0));
        for bad in [
            "2024010100000Z",
            "20241301000000Z",
            "20240100000000Z",
            "20240101240000Z",
            "20240101000000+0100",
            "2024o101000000Z",
        ] {
            assert!(time(GENERALIZED_TIME, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_fuzzers_certificates_are_errors_not_panics() {
        // fuzz/artifacts/der, kept as fixtures: the spec's CA with its validity
        // rewritten by libFuzzer into year 0.
        let found = include_bytes!("../tests/fixtures/fuzz/der-generalized-time-year-zero.der");
        let _ = Certificate::parse(found);
    }

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
