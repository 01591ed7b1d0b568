//! Authenticator data (WebAuthn §6.1), parsed by hand with every length checked:
//!
//! ```text
//! rpIdHash (32) | flags (1) | signCount (4, big-endian)
//!   [ attestedCredentialData: aaguid (16) | credentialIdLength (2) | credentialId | credentialPublicKey (CBOR) ]  if AT
//!   [ extensions (CBOR map) ]                                                                                  if ED
//! ```

use ciborium::Value;
use sha2::{Digest, Sha256};

use crate::cbor;
use crate::cose::CoseKey;
use crate::error::WebauthnError;
use crate::flags::Flags;

const MIN_LEN: usize = 37;
/// §7.1 step 25.
pub const MAX_CREDENTIAL_ID_LEN: usize = 1023;
/// A credential id names one credential among all of an RP's: an empty one names
/// none. CTAP2 authenticators make ids of at least 16 bytes, and WebAuthn §4 asks
/// that ids made by servers hold at least 16 bytes of entropy; any non-empty id an
/// authenticator chose is taken, an empty one is refused.
pub const MIN_CREDENTIAL_ID_LEN: usize = 1;

#[derive(Clone, Debug, PartialEq)]
pub struct AuthenticatorData<'a> {
    pub rp_id_hash: [u8; 32],
    pub flags: Flags,
    pub sign_count: u32,
    pub attested_credential_data: Option<AttestedCredentialData<'a>>,
    pub extensions: Option<Value>,
    /// The bytes as received: what signatures cover.
    pub raw: &'a [u8],
}

#[derive(Clone, Debug, PartialEq)]
pub struct AttestedCredentialData<'a> {
    pub aaguid: [u8; 16],
    pub credential_id: &'a [u8],
    pub credential_public_key: CoseKey,
    /// The COSE_Key bytes as received, for storage.
    pub credential_public_key_bytes: &'a [u8],
}

fn malformed(why: &'static str) -> WebauthnError {
    WebauthnError::AuthenticatorDataMalformed(why)
}

fn take<const N: usize>(input: &mut &[u8], why: &'static str) -> Result<[u8; N], WebauthnError> {
    let (head, rest) = input
        .split_first_chunk::<N>()
        .ok_or_else(|| malformed(why))?;
    *input = rest;
    Ok(*head)
}

impl AuthenticatorData<'_> {
    /// The checks both ceremonies make of authenticator data: §7.1 steps 13–16 and
    /// §7.2 steps 15–18 — rpIdHash, user present, user verified when required, and
    /// backup state only with backup eligibility.
    pub fn check(
        &self,
        rp_id: &str,
        user_verification_required: bool,
    ) -> Result<(), WebauthnError> {
        let rp_id_hash: [u8; 32] = Sha256::digest(rp_id.as_bytes()).into();
        if self.rp_id_hash != rp_id_hash {
            return Err(WebauthnError::RpIdHash);
        }
        if !self.flags.contains(Flags::UP) {
            return Err(WebauthnError::UserNotPresent);
        }
        if user_verification_required && !self.flags.contains(Flags::UV) {
            return Err(WebauthnError::UserNotVerified);
        }
        if self.flags.contains(Flags::BS) && !self.flags.contains(Flags::BE) {
            return Err(WebauthnError::BackupStateWithoutEligibility);
        }
        Ok(())
    }
}

impl<'a> AuthenticatorData<'a> {
    pub fn parse(raw: &'a [u8]) -> Result<AuthenticatorData<'a>, WebauthnError> {
        if raw.len() < MIN_LEN {
            return Err(malformed("shorter than 37 bytes"));
        }
        let mut input = raw;
        let rp_id_hash = take::<32>(&mut input, "rpIdHash")?;
        let [flags] = take::<1>(&mut input, "flags")?;
        let flags = Flags::from_bits(flags);
        let sign_count = u32::from_be_bytes(take::<4>(&mut input, "signCount")?);

        let attested_credential_data = if flags.contains(Flags::AT) {
            let aaguid = take::<16>(&mut input, "aaguid")?;
            let id_len = usize::from(u16::from_be_bytes(take::<2>(
                &mut input,
                "credentialIdLength",
            )?));
            if id_len > MAX_CREDENTIAL_ID_LEN {
                return Err(WebauthnError::CredentialIdTooLong);
            }
            if id_len < MIN_CREDENTIAL_ID_LEN {
                return Err(WebauthnError::CredentialIdTooShort);
            }
            let (credential_id, rest) = input
                .split_at_checked(id_len)
                .ok_or_else(|| malformed("credentialId"))?;
            let (key, after_key) = cbor::decode_prefix(rest)
                .map_err(|e| WebauthnError::Cbor("the credential public key", e))?;
            let key_bytes = rest
                .get(..rest.len() - after_key.len())
                .ok_or_else(|| malformed("credentialPublicKey"))?;
            input = after_key;
            Some(AttestedCredentialData {
                aaguid,
                credential_id,
                credential_public_key: CoseKey::from_cbor(&key)?,
                credential_public_key_bytes: key_bytes,
            })
        } else {
            None
        };

        let extensions = if flags.contains(Flags::ED) {
            let (ext, rest) =
                cbor::decode_prefix(input).map_err(|e| WebauthnError::Cbor("the extensions", e))?;
            if !ext.is_map() {
                return Err(malformed("extensions is not a map"));
            }
            input = rest;
            Some(ext)
        } else {
            None
        };
        if !input.is_empty() {
            return Err(malformed("trailing bytes"));
        }
        Ok(AuthenticatorData {
            rp_id_hash,
            flags,
            sign_count,
            attested_credential_data,
            extensions,
            raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(flags: u8) -> Vec<u8> {
        let mut v = vec![0xaa; 32];
        v.push(flags);
        v.extend_from_slice(&7u32.to_be_bytes());
        v
    }

    #[test]
    fn minimal_assertion_data() {
        let raw = header(0x05);
        let ad = AuthenticatorData::parse(&raw).unwrap();
        assert_eq!(ad.sign_count, 7);
        assert!(ad.attested_credential_data.is_none() && ad.extensions.is_none());
    }

    #[test]
    fn length_checks() {
        assert!(
            AuthenticatorData::parse(&header(0x05)[..36]).is_err(),
            "short"
        );
        let mut trailing = header(0x05);
        trailing.push(0);
        assert_eq!(
            AuthenticatorData::parse(&trailing),
            Err(malformed("trailing bytes"))
        );
        // AT set but nothing follows.
        assert!(AuthenticatorData::parse(&header(0x45)).is_err());
        // AT with a credential id longer than the data.
        let mut short_id = header(0x45);
        short_id.extend_from_slice(&[0; 16]);
        short_id.extend_from_slice(&100u16.to_be_bytes());
        short_id.extend_from_slice(&[1; 10]);
        assert_eq!(
            AuthenticatorData::parse(&short_id),
            Err(malformed("credentialId"))
        );
        let mut long_id = header(0x45);
        long_id.extend_from_slice(&[0; 16]);
        long_id.extend_from_slice(&1024u16.to_be_bytes());
        long_id.extend_from_slice(&[1; 1024]);
        assert_eq!(
            AuthenticatorData::parse(&long_id),
            Err(WebauthnError::CredentialIdTooLong)
        );
        // ED set: the extensions must be a CBOR map and nothing may follow.
        let mut ed = header(0x85);
        ed.push(0xa0); // {}
        assert!(AuthenticatorData::parse(&ed).unwrap().extensions.is_some());
        let mut ed_not_map = header(0x85);
        ed_not_map.push(0x01);
        assert!(AuthenticatorData::parse(&ed_not_map).is_err());
        assert!(
            AuthenticatorData::parse(&header(0x85)).is_err(),
            "ED without extensions"
        );
    }
}
