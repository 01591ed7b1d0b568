//! Android Key Attestation (WebAuthn §8.4): the credential key was made in
//! Android's keystore for this very ceremony, as the leaf certificate's
//! KeyDescription extension (1.3.6.1.4.1.11129.2.1.17) says.
//!
//! ```text
//! KeyDescription ::= SEQUENCE {
//!   attestationVersion INTEGER, attestationSecurityLevel ENUMERATED,
//!   keyMintVersion INTEGER, keyMintSecurityLevel ENUMERATED,
//!   attestationChallenge OCTET STRING, uniqueId OCTET STRING,
//!   softwareEnforced AuthorizationList, hardwareEnforced AuthorizationList }
//! AuthorizationList ::= SEQUENCE { purpose [1] EXPLICIT SET OF INTEGER OPTIONAL, ...,
//!   allApplications [600] EXPLICIT NULL OPTIONAL, ..., origin [702] EXPLICIT INTEGER OPTIONAL, ... }
//! ```

use crate::cose::CoseKey;
use crate::der::{self, Certificate, DerError};
use crate::error::WebauthnError;

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const ENUMERATED: u8 = 0x0a;
const OCTET_STRING: u8 = 0x04;
const TAG_PURPOSE: u32 = 1;
const TAG_ALL_APPLICATIONS: u32 = 600;
const TAG_ORIGIN: u32 = 702;
/// KM_PURPOSE_SIGN.
const PURPOSE_SIGN: i64 = 2;
/// KM_ORIGIN_GENERATED: made inside the keystore, not imported.
const ORIGIN_GENERATED: i64 = 0;

fn refused(why: &'static str) -> WebauthnError {
    WebauthnError::Attestation(why)
}

/// A small non-negative DER INTEGER.
fn small_int(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    Some(bytes.iter().fold(0i64, |acc, &b| (acc << 8) | i64::from(b)))
}

/// What one AuthorizationList says about the key.
#[derive(Debug, Default)]
struct Authorizations {
    purposes: Vec<i64>,
    all_applications: bool,
    origin: Option<i64>,
}

fn authorizations(mut list: &[u8]) -> Result<Authorizations, DerError> {
    let mut out = Authorizations::default();
    while !list.is_empty() {
        let (_, number, mut explicit) = der::tlv_long(&mut list)?;
        match number {
            TAG_PURPOSE => {
                let mut set = der::expect(&mut explicit, SET, "purpose")?;
                while !set.is_empty() {
                    let p = der::expect(&mut set, INTEGER, "purpose")?;
                    out.purposes.push(small_int(p).ok_or(DerError("purpose"))?);
                }
            }
            TAG_ALL_APPLICATIONS => out.all_applications = true,
            TAG_ORIGIN => {
                let o = der::expect(&mut explicit, INTEGER, "origin")?;
                out.origin = Some(small_int(o).ok_or(DerError("origin"))?);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// §8.4 "Verification procedure", after the signature: the leaf certificate's key
/// is the credential's, and its KeyDescription binds it to this ceremony.
pub(crate) fn verify(
    leaf: &Certificate,
    credential: &CoseKey,
    client_data_hash: &[u8; 32],
) -> Result<(), WebauthnError> {
    if !leaf.public_key.is(credential) {
        return Err(refused(
            "android-key: the certificate key is not the credential key",
        ));
    }
    let extension = leaf
        .android_key_description
        .as_deref()
        .ok_or(refused("android-key: no KeyDescription extension"))?;
    let mut input = extension;
    let mut description = der::expect(&mut input, SEQUENCE, "KeyDescription")?;
    let d = &mut description;
    der::expect(d, INTEGER, "attestationVersion")?;
    der::expect(d, ENUMERATED, "attestationSecurityLevel")?;
    der::expect(d, INTEGER, "keyMintVersion")?;
    der::expect(d, ENUMERATED, "keyMintSecurityLevel")?;
    let challenge = der::expect(d, OCTET_STRING, "attestationChallenge")?;
    der::expect(d, OCTET_STRING, "uniqueId")?;
    let software = der::expect(d, SEQUENCE, "softwareEnforced")?;
    let hardware = der::expect(d, SEQUENCE, "hardwareEnforced")?;
    let (software, hardware) = (authorizations(software)?, authorizations(hardware)?);
    if challenge != client_data_hash.as_slice() {
        return Err(refused(
            "android-key: attestationChallenge is not the client data hash",
        ));
    }
    // The key must be scoped to this RP, not shared by all applications.
    if software.all_applications || hardware.all_applications {
        return Err(refused("android-key: the key is for all applications"));
    }
    // The union of both lists (we accept keys outside a TEE too).
    let origin = hardware.origin.or(software.origin);
    if origin != Some(ORIGIN_GENERATED) {
        return Err(refused(
            "android-key: the key was not generated in the keystore",
        ));
    }
    // "The value in the AuthorizationList.purpose field is equal to KM_PURPOSE_SIGN":
    // stated, and nothing else.
    let mut purposes = hardware
        .purposes
        .iter()
        .chain(&software.purposes)
        .peekable();
    if purposes.peek().is_none() || purposes.any(|&p| p != PURPOSE_SIGN) {
        return Err(refused("android-key: the key is not for signing only"));
    }
    Ok(())
}
