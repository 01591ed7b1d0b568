//! A small software authenticator for tests: it builds registrations and
//! assertions byte by byte, so a test can set what Chromium's virtual authenticator
//! cannot (BE/BS, counters, short signatures, other algorithms, wrong hashes).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use ciborium::Value;
use edge_mfa_webauthn::json::{
    AssertionResponseJson, AttestationResponseJson, AuthenticationResponseJson,
    RegistrationResponseJson, b64url,
};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use sha2::{Digest, Sha256};

pub const UP: u8 = 0x01;
pub const UV: u8 = 0x04;
pub const BE: u8 = 0x08;
pub const BS: u8 = 0x10;
pub const AT: u8 = 0x40;

pub struct Soft {
    pub key: SigningKey,
    pub credential_id: Vec<u8>,
    pub aaguid: [u8; 16],
}

/// Everything a test may change about one ceremony's output.
#[derive(Clone)]
pub struct Params {
    pub type_: String,
    pub challenge: Vec<u8>,
    pub origin: String,
    pub rp_id: String,
    pub flags: u8,
    pub sign_count: u32,
    pub extra_client_data: String,
    /// COSE alg label written into the credential key.
    pub key_alg: i64,
    pub fmt: String,
    /// For `packed` self attestation: the statement's alg.
    pub stmt_alg: i64,
    pub user_handle: Option<Vec<u8>>,
    pub id_override: Option<Vec<u8>>,
}

impl Params {
    pub fn create(challenge: &[u8]) -> Params {
        Params {
            type_: "webauthn.create".into(),
            challenge: challenge.to_vec(),
            origin: "https://app.acme.test".into(),
            rp_id: "acme.test".into(),
            flags: UP | UV | AT,
            sign_count: 0,
            extra_client_data: String::new(),
            key_alg: -7,
            fmt: "packed".into(),
            stmt_alg: -7,
            user_handle: None,
            id_override: None,
        }
    }

    pub fn get(challenge: &[u8], sign_count: u32) -> Params {
        Params {
            type_: "webauthn.get".into(),
            flags: UP | UV,
            sign_count,
            ..Params::create(challenge)
        }
    }
}

impl Soft {
    pub fn new(seed: u8) -> Soft {
        Soft {
            key: SigningKey::from_slice(&[seed; 32]).unwrap(),
            credential_id: Sha256::digest([seed]).to_vec(),
            aaguid: [seed; 16],
        }
    }

    pub fn cose_key(&self, alg: i64) -> Vec<u8> {
        let point = self.key.verifying_key().to_sec1_point(false);
        let map = Value::Map(vec![
            (Value::Integer(1.into()), Value::Integer(2.into())),
            (Value::Integer(3.into()), Value::Integer(alg.into())),
            (Value::Integer((-1).into()), Value::Integer(1.into())),
            (
                Value::Integer((-2).into()),
                Value::Bytes(point.x().unwrap().to_vec()),
            ),
            (
                Value::Integer((-3).into()),
                Value::Bytes(point.y().unwrap().to_vec()),
            ),
        ]);
        cbor(&map)
    }

    fn client_data(p: &Params) -> Vec<u8> {
        format!(
            r#"{{"type":"{}","challenge":"{}","origin":"{}"{}}}"#,
            p.type_,
            b64url(&p.challenge),
            p.origin,
            p.extra_client_data
        )
        .into_bytes()
    }

    fn header(p: &Params) -> Vec<u8> {
        let mut data = Sha256::digest(p.rp_id.as_bytes()).to_vec();
        data.push(p.flags);
        data.extend_from_slice(&p.sign_count.to_be_bytes());
        data
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: Signature = self.key.sign(message);
        signature.to_der().as_bytes().to_vec()
    }

    pub fn register(&self, p: &Params) -> RegistrationResponseJson {
        let client_data = Self::client_data(p);
        let mut auth_data = Self::header(p);
        if p.flags & AT != 0 {
            auth_data.extend_from_slice(&self.aaguid);
            auth_data.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
            auth_data.extend_from_slice(&self.credential_id);
            auth_data.extend_from_slice(&self.cose_key(p.key_alg));
        }
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let stmt = match p.fmt.as_str() {
            "none" => Value::Map(vec![]),
            _ => Value::Map(vec![
                (Value::Text("alg".into()), Value::Integer(p.stmt_alg.into())),
                (Value::Text("sig".into()), Value::Bytes(self.sign(&signed))),
            ]),
        };
        let object = Value::Map(vec![
            (Value::Text("fmt".into()), Value::Text(p.fmt.clone())),
            (Value::Text("attStmt".into()), stmt),
            (Value::Text("authData".into()), Value::Bytes(auth_data)),
        ]);
        let id = b64url(p.id_override.as_deref().unwrap_or(&self.credential_id));
        RegistrationResponseJson {
            id: id.clone(),
            raw_id: id,
            response: AttestationResponseJson {
                client_data_json: b64url(&client_data),
                attestation_object: b64url(&cbor(&object)),
                transports: vec!["internal".into()],
            },
            authenticator_attachment: Some("platform".into()),
            client_extension_results: serde_json::json!({}),
            type_: edge_mfa_webauthn::json::PublicKeyCredentialType::PublicKey,
        }
    }

    /// An assertion; `signature` may replace the signature over the data.
    pub fn assert_with(
        &self,
        p: &Params,
        signer: impl Fn(&[u8]) -> Vec<u8>,
    ) -> AuthenticationResponseJson {
        let client_data = Self::client_data(p);
        let auth_data = Self::header(p);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let id = b64url(p.id_override.as_deref().unwrap_or(&self.credential_id));
        AuthenticationResponseJson {
            id: id.clone(),
            raw_id: id,
            response: AssertionResponseJson {
                client_data_json: b64url(&client_data),
                authenticator_data: b64url(&auth_data),
                signature: b64url(&signer(&signed)),
                user_handle: p.user_handle.as_ref().map(|h| b64url(h)),
            },
            authenticator_attachment: Some("platform".into()),
            client_extension_results: serde_json::json!({}),
            type_: edge_mfa_webauthn::json::PublicKeyCredentialType::PublicKey,
        }
    }

    pub fn assert(&self, p: &Params) -> AuthenticationResponseJson {
        self.assert_with(p, |m| self.sign(m))
    }
}

pub fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}
