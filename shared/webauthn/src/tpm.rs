//! TPM attestation (WebAuthn §8.3, TPM 2.0 Part 2 structures), as Windows Hello
//! sends it: the TPM certifies the credential key (`pubArea`) in a `TPMS_ATTEST`
//! (`certInfo`) whose `extraData` is the hash of `authData || clientDataHash`, and
//! signs that with an attestation identity key (AIK) certified by `x5c`.
//!
//! Structures are big-endian and length-prefixed; every length is checked.

use sha2::Digest;

use crate::cose::{self, CoseKey};
use crate::der::{self, Certificate};
use crate::error::WebauthnError;

const TPM_GENERATED_VALUE: u32 = 0xff54_4347;
const TPM_ST_ATTEST_CERTIFY: u16 = 0x8017;
const TPM_ALG_RSA: u16 = 0x0001;
const TPM_ALG_SHA1: u16 = 0x0004;
const TPM_ALG_SHA256: u16 = 0x000b;
const TPM_ALG_SHA384: u16 = 0x000c;
const TPM_ALG_SHA512: u16 = 0x000d;
const TPM_ALG_NULL: u16 = 0x0010;
const TPM_ALG_ECC: u16 = 0x0023;
const TPM_ECC_NIST_P256: u16 = 0x0003;

fn refused(why: &'static str) -> WebauthnError {
    WebauthnError::Attestation(why)
}

/// A reader over TPM's big-endian structures.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WebauthnError> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(refused(what))?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], WebauthnError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(refused(what))?;
        self.0 = rest;
        Ok(*head)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, WebauthnError> {
        self.array::<2>(what).map(u16::from_be_bytes)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, WebauthnError> {
        self.array::<4>(what).map(u32::from_be_bytes)
    }

    /// A `TPMT_*_SCHEME` (or `TPMT_KDF_SCHEME`): an algorithm, and its hash
    /// algorithm unless the algorithm is `TPM_ALG_NULL`.
    fn scheme(&mut self, what: &'static str) -> Result<(), WebauthnError> {
        if self.u16(what)? != TPM_ALG_NULL {
            self.u16(what)?;
        }
        Ok(())
    }

    /// A `TPM2B_*`: a u16 size, then that many bytes.
    fn sized(&mut self, what: &'static str) -> Result<&'a [u8], WebauthnError> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }
}

/// The key a `TPMT_PUBLIC` describes.
#[derive(Debug, PartialEq, Eq)]
enum PubAreaKey<'a> {
    Rsa { n: &'a [u8], e: u32 },
    Ecc { x: &'a [u8], y: &'a [u8] },
}

/// `TPMT_PUBLIC` (TPM 2.0 Part 2 §12.2.4): (nameAlg, key).
fn parse_pub_area(pub_area: &[u8]) -> Result<(u16, PubAreaKey<'_>), WebauthnError> {
    let mut r = Reader(pub_area);
    let kind = r.u16("pubArea type")?;
    let name_alg = r.u16("pubArea nameAlg")?;
    let _object_attributes = r.u32("pubArea objectAttributes")?;
    let _auth_policy = r.sized("pubArea authPolicy")?;
    let key = match kind {
        TPM_ALG_RSA => {
            // TPMS_RSA_PARMS: symmetric, scheme, keyBits, exponent.
            if r.u16("pubArea symmetric")? != TPM_ALG_NULL {
                return Err(refused("pubArea: a signing key has no symmetric algorithm"));
            }
            r.scheme("pubArea scheme")?;
            let _key_bits = r.u16("pubArea keyBits")?;
            let e = r.u32("pubArea exponent")?;
            let n = r.sized("pubArea unique")?;
            PubAreaKey::Rsa { n, e }
        }
        TPM_ALG_ECC => {
            // TPMS_ECC_PARMS: symmetric, scheme, curveID, kdf.
            if r.u16("pubArea symmetric")? != TPM_ALG_NULL {
                return Err(refused("pubArea: a signing key has no symmetric algorithm"));
            }
            r.scheme("pubArea scheme")?;
            if r.u16("pubArea curveID")? != TPM_ECC_NIST_P256 {
                return Err(refused("pubArea: only the P-256 curve is supported"));
            }
            r.scheme("pubArea kdf")?;
            let x = r.sized("pubArea unique x")?;
            let y = r.sized("pubArea unique y")?;
            PubAreaKey::Ecc { x, y }
        }
        _ => return Err(refused("pubArea: neither an RSA nor an ECC key")),
    };
    if !r.0.is_empty() {
        return Err(refused("pubArea: trailing bytes"));
    }
    Ok((name_alg, key))
}

/// Whether the `pubArea` key is the credential public key (§8.3 step 2).
fn same_key(pub_area: &PubAreaKey<'_>, credential: &CoseKey) -> bool {
    match (pub_area, credential) {
        (PubAreaKey::Rsa { n, e }, CoseKey::Rs256(key)) => {
            // An exponent of 0 means the default, 65537.
            let e = if *e == 0 { 65_537 } else { *e };
            let (key_n, key_e) = key.n_e();
            let e_bytes = e.to_be_bytes();
            let first = e_bytes.iter().position(|&b| b != 0).unwrap_or(3);
            strip(n) == key_n && e_bytes.get(first..).unwrap_or_default() == key_e
        }
        (PubAreaKey::Ecc { x, y }, CoseKey::Es256(_)) => {
            cose::ec2_point(x, y).is_ok_and(|point| CoseKey::Es256(point) == *credential)
        }
        _ => false,
    }
}

fn strip(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// The digest of `data` under a TPM hash algorithm.
fn digest(alg: u16, data: &[u8]) -> Result<Vec<u8>, WebauthnError> {
    Ok(match alg {
        TPM_ALG_SHA1 => sha1::Sha1::digest(data).to_vec(),
        TPM_ALG_SHA256 => sha2::Sha256::digest(data).to_vec(),
        TPM_ALG_SHA384 => sha2::Sha384::digest(data).to_vec(),
        TPM_ALG_SHA512 => sha2::Sha512::digest(data).to_vec(),
        _ => return Err(refused("an unsupported TPM hash algorithm")),
    })
}

/// The statement's parts.
pub(crate) struct TpmStatement<'a> {
    pub ver: Option<&'a str>,
    pub alg: Option<i64>,
    pub sig: Option<&'a [u8]>,
    pub x5c: Option<&'a [&'a [u8]]>,
    pub cert_info: Option<&'a [u8]>,
    pub pub_area: Option<&'a [u8]>,
}

/// §8.3 "Verification procedure". `att_to_be_signed` is authenticatorData ||
/// clientDataHash.
pub(crate) fn verify(
    crypto: &dyn edge_mfa_crypto::Crypto,
    stmt: &TpmStatement<'_>,
    att_to_be_signed: &[u8],
    credential: &CoseKey,
    aaguid: &[u8; 16],
) -> Result<(), WebauthnError> {
    if stmt.ver != Some("2.0") {
        return Err(refused("tpm: ver is not \"2.0\""));
    }
    let alg = stmt.alg.ok_or(refused("tpm needs alg"))?;
    let sig = stmt.sig.ok_or(refused("tpm needs sig"))?;
    let cert_info = stmt.cert_info.ok_or(refused("tpm needs certInfo"))?;
    let pub_area = stmt.pub_area.ok_or(refused("tpm needs pubArea"))?;
    // ECDAA is withdrawn from WebAuthn L3: x5c is required.
    let [aik, ..] = stmt.x5c.unwrap_or_default() else {
        return Err(refused("tpm needs x5c"));
    };

    // Step 2: the key in pubArea is the credential public key.
    let (name_alg, key) = parse_pub_area(pub_area)?;
    if !same_key(&key, credential) {
        return Err(refused("tpm: pubArea is not the credential public key"));
    }

    // Step 4: certInfo is a TPMS_ATTEST certifying that key over our data.
    let mut r = Reader(cert_info);
    if r.u32("certInfo magic")? != TPM_GENERATED_VALUE {
        return Err(refused("tpm: certInfo magic is not TPM_GENERATED_VALUE"));
    }
    if r.u16("certInfo type")? != TPM_ST_ATTEST_CERTIFY {
        return Err(refused("tpm: certInfo type is not TPM_ST_ATTEST_CERTIFY"));
    }
    let _qualified_signer = r.sized("certInfo qualifiedSigner")?;
    let extra_data = r.sized("certInfo extraData")?;
    let _clock_info = r.take(17, "certInfo clockInfo")?;
    let _firmware_version = r.take(8, "certInfo firmwareVersion")?;
    let attested_name = r.sized("certInfo attested.name")?;
    let _qualified_name = r.sized("certInfo attested.qualifiedName")?;
    if !r.0.is_empty() {
        return Err(refused("tpm: certInfo has trailing bytes"));
    }
    // extraData is the hash of attToBeSigned under the statement's alg.
    let expected = match alg {
        cose::RS1 => sha1::Sha1::digest(att_to_be_signed).to_vec(),
        cose::RS256 | cose::ES256 => sha2::Sha256::digest(att_to_be_signed).to_vec(),
        _ => return Err(refused("tpm: an unsupported alg")),
    };
    if extra_data != expected.as_slice() {
        return Err(refused(
            "tpm: extraData is not the hash of authData || clientDataHash",
        ));
    }
    // attested.name is nameAlg || H_nameAlg(pubArea) (TPM 2.0 Part 1 §16).
    let mut name = name_alg.to_be_bytes().to_vec();
    name.extend_from_slice(&digest(name_alg, pub_area)?);
    if attested_name != name.as_slice() {
        return Err(refused("tpm: attested name is not pubArea's"));
    }

    // Step 5: the AIK certificate meets §8.3.1 and signed certInfo.
    let cert = Certificate::parse(aik)?;
    check_aik_certificate(&cert, aaguid)?;
    cert.public_key.verify(
        crypto,
        alg,
        cert_info,
        sig,
        true,
        "tpm: the AIK signature over certInfo does not verify",
    )
}

/// §8.3.1 "TPM Attestation Statement Certificate Requirements".
fn check_aik_certificate(cert: &Certificate, aaguid: &[u8; 16]) -> Result<(), WebauthnError> {
    if cert.version != 2 {
        return Err(refused("tpm: AIK certificate is not X.509 v3"));
    }
    if !cert.subject.is_empty() {
        return Err(refused("tpm: AIK certificate subject is not empty"));
    }
    // The TPM's identity is in the subject alternative name, critical because the
    // subject is empty (RFC 5280 §4.2.1.6).
    if cert.subject_alt_name != Some(true) {
        return Err(refused(
            "tpm: AIK certificate lacks a critical subject alternative name",
        ));
    }
    if !cert
        .extended_key_usage
        .iter()
        .any(|oid| oid == der::OID_TCG_KP_AIK_CERTIFICATE)
    {
        return Err(refused(
            "tpm: AIK certificate is not for tcg-kp-AIKCertificate",
        ));
    }
    if cert.is_ca {
        return Err(refused("tpm: AIK certificate is a CA"));
    }
    if cert.aaguid.is_some_and(|a| a != *aaguid) {
        return Err(refused(
            "tpm: AIK certificate AAGUID differs from authenticator data",
        ));
    }
    Ok(())
}
