//! The measured workloads, one function each, built once by [`Workloads::new`] so
//! that only the operation itself is timed. Criterion runs them natively
//! (`benches/operations.rs`); `src/main.rs` runs the same functions compiled to
//! wasm32-wasip1 under Node (V8) and Wasmtime. See docs/PERFORMANCE.md.

// `serde_json::Value` indexing yields `Null` for what is missing; it cannot panic.
#![allow(clippy::indexing_slicing)]

use edge_mfa_core::command::ConfirmWith;
use edge_mfa_core::env::SeededRandom;
use edge_mfa_core::ids::{TenantId, UserId};
use edge_mfa_core::policy::{Method, Policy};
use edge_mfa_core::seal::{MasterKey, Sealed};
use edge_mfa_core::tenant::{NewTenant, Tenant};
use edge_mfa_core::{Env, Outcome, UserCommand, UserRequest};
use edge_mfa_jose::{MfaTokenClaims, TokenVerifier};
use edge_mfa_otp::Totp;
use edge_mfa_webauthn::crypto::RustCrypto;
use edge_mfa_webauthn::json::{AuthenticationResponseJson, RegistrationResponseJson, from_b64url};
use edge_mfa_webauthn::{
    AuthenticationCeremony, RegisteredCredential, RegistrationCeremony, StoredCredential,
};

const NOW: u64 = 1_800_000_000;
const FIXTURE: &str =
    include_str!("../../shared/webauthn/tests/fixtures/ctap2-internal-none-discoverable.json");

/// Everything the workloads need, prepared outside the timed part.
#[derive(Debug)]
pub struct Workloads {
    totp_secret: Vec<u8>,
    ticket: String,
    ticket_secret: Vec<u8>,
    verifier: TokenVerifier,
    token: String,
    claims: MfaTokenClaims,
    master: MasterKey,
    sealed: Sealed,
    tenant: Tenant,
    user: UserId,
    record_json: String,
    totp_code: String,
    webauthn: WebauthnFixture,
}

#[derive(Debug)]
struct WebauthnFixture {
    origins: Vec<String>,
    auth_challenge: Vec<u8>,
    credential: RegisteredCredential,
    user_handle: Vec<u8>,
    assertion: AuthenticationResponseJson,
}

fn expect<T, E: std::fmt::Debug>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        #[allow(clippy::panic)]
        Err(e) => panic!("benchmark setup: {what}: {e:?}"),
    }
}

fn webauthn_fixture() -> WebauthnFixture {
    let fixture: serde_json::Value = expect(serde_json::from_str(FIXTURE), "fixture");
    let origins = vec![fixture["origin"].as_str().unwrap_or_default().to_string()];
    let reg_options = &fixture["registration"]["options"];
    let reg_challenge = expect(
        from_b64url(reg_options["challenge"].as_str().unwrap_or_default(), "c"),
        "challenge",
    );
    let registration: RegistrationResponseJson = expect(
        serde_json::from_value(fixture["registration"]["response"].clone()),
        "registration",
    );
    let credential = expect(
        edge_mfa_webauthn::verify_registration(
            &RustCrypto,
            &RegistrationCeremony {
                challenge: &reg_challenge,
                rp_id: "localhost",
                origins: &origins,
                user_verification_required: false,
                algorithms: &[-7],
                existing: &[],
                trust_anchors: None,
            },
            &registration,
        ),
        "registration verifies",
    );
    let auth = &fixture["authentications"][0];
    WebauthnFixture {
        auth_challenge: expect(
            from_b64url(
                auth["options"]["challenge"].as_str().unwrap_or_default(),
                "c",
            ),
            "challenge",
        ),
        user_handle: expect(
            from_b64url(reg_options["user"]["id"].as_str().unwrap_or_default(), "u"),
            "user",
        ),
        assertion: expect(
            serde_json::from_value(auth["response"].clone()),
            "assertion",
        ),
        origins,
        credential,
    }
}

impl Workloads {
    pub fn new() -> Workloads {
        let master = expect(MasterKey::from_bytes(&[3u8; 32]), "master key");
        let mut rng = SeededRandom::new(9);
        let mut env = Env::new(NOW, &mut rng);
        let new = NewTenant {
            id: expect(TenantId::try_from("bench".to_string()), "tenant id"),
            name: "Bench".into(),
            rp_id: "localhost".into(),
            origins: vec!["http://localhost:8787".into()],
            policy: Some(Policy::default()),
        };
        let (tenant, credentials) = expect(
            Tenant::create(
                new,
                edge_mfa_core::policy::Capabilities {
                    country: true,
                    webhook: false,
                },
                &master,
                &mut env,
            ),
            "tenant",
        );
        let user = expect(UserId::try_from("user-1".to_string()), "user");
        let claims = MfaTokenClaims {
            iss: "edge-mfa:bench".into(),
            aud: "bench".into(),
            sub: "user-1".into(),
            iat: NOW,
            exp: NOW + 300,
            auth_time: NOW,
            jti: "jti".into(),
            amr: vec!["otp".into()],
            mfa_method: "totp".into(),
            acr: "mfa".into(),
        };
        let token = expect(tenant.sign_token(&master, &RustCrypto, &claims), "token");
        let verifier = expect(
            tenant.verifiers().into_iter().next().ok_or("none"),
            "verifier",
        );
        let ticket_claims = format!(
            r#"{{"iss":"bench","sub":"user-1","aud":"edge-mfa","iat":{},"exp":{}}}"#,
            NOW - 10,
            NOW + 290
        );
        let ticket =
            edge_mfa_jose::sign_ticket(&ticket_claims, credentials.ticket_secret.as_bytes());

        // A user with one TOTP factor, enrolled through the core.
        let mut record = edge_mfa_core::user::UserRecord::default();
        let enroll = UserRequest {
            command: UserCommand::EnrollTotp {
                name: None,
                account: "u".into(),
            },
            step_up: false,
            context: Default::default(),
        };
        let Ok(Outcome::TotpEnrollment {
            enrollment_id,
            secret,
            ..
        }) = edge_mfa_core::execute(&mut record, &tenant, &master, &user, enroll, &mut env)
        else {
            #[allow(clippy::panic)]
            {
                panic!("benchmark setup: enrollment")
            }
        };
        let totp_secret = expect(data_encoding_base32(secret.expose()), "secret");
        let code = Totp::default().code_at(&totp_secret, NOW);
        let confirm = UserRequest {
            command: UserCommand::Confirm {
                enrollment_id,
                with: ConfirmWith::Code(code.into()),
            },
            step_up: false,
            context: Default::default(),
        };
        expect(
            edge_mfa_core::execute(&mut record, &tenant, &master, &user, confirm, &mut env),
            "confirm",
        );

        Workloads {
            totp_code: Totp::default().code_at(&totp_secret, NOW + 30),
            record_json: expect(serde_json::to_string(&record), "record"),
            sealed: master.seal("bench", &[7u8; 20], &mut env),
            verifier,
            ticket_secret: credentials.ticket_secret.into_bytes(),
            webauthn: webauthn_fixture(),
            totp_secret,
            ticket,
            token,
            claims,
            master,
            tenant,
            user,
        }
    }

    /// RFC 6238 verification with skew 1: three HMAC-SHA1 computations.
    pub fn totp_verify(&self) -> bool {
        let totp = Totp::default();
        totp.verify(
            &self.totp_secret,
            &totp.code_at(&self.totp_secret, NOW),
            NOW,
            None,
        )
        .is_ok()
    }

    /// HS256 ticket verification: the gate of every end-user request.
    pub fn ticket_verify(&self) -> bool {
        edge_mfa_jose::verify_ticket(&self.ticket, &self.ticket_secret, "bench", NOW).is_ok()
    }

    /// ES256 mfa_token signing as a request does it: open the sealed scalar, sign
    /// (RFC 6979), all in Rust.
    pub fn token_sign(&self) -> usize {
        self.tenant
            .sign_token(&self.master, &RustCrypto, &self.claims)
            .map_or(0, |t| t.len())
    }

    /// ES256 mfa_token verification (step-up).
    pub fn token_verify(&self) -> bool {
        self.verifier
            .verify(&RustCrypto, &self.token, "bench", NOW)
            .is_ok()
    }

    /// AES-256-GCM open of a sealed TOTP secret.
    pub fn seal_open(&self) -> bool {
        self.master.open("bench", &self.sealed).is_ok()
    }

    /// A WebAuthn assertion (§7.2): JSON, CBOR/authData parsing, ES256 verify.
    pub fn webauthn_assertion(&self) -> bool {
        let w = &self.webauthn;
        let stored = StoredCredential {
            id: &w.credential.id,
            public_key: &w.credential.public_key,
            sign_count: w.credential.sign_count,
            backup_eligible: w.credential.backup_eligible,
        };
        edge_mfa_webauthn::verify_authentication(
            &RustCrypto,
            &AuthenticationCeremony {
                challenge: &w.auth_challenge,
                rp_id: "localhost",
                origins: &w.origins,
                user_verification_required: false,
                allow_credentials: &[],
                user_handle: &w.user_handle,
            },
            &[stored],
            &w.assertion,
        )
        .is_ok()
    }

    /// What a user's Durable Object does for `POST /verify` with a TOTP code: parse
    /// the stored record, open the secret, verify, serialise the record back.
    pub fn apply_verify_totp(&self) -> bool {
        let mut rng = SeededRandom::new(1);
        let mut env = Env::new(NOW + 30, &mut rng);
        let request = UserRequest {
            command: UserCommand::VerifyCode {
                challenge_id: None,
                method: Some(Method::Totp),
                code: self.totp_code.clone().into(),
            },
            step_up: false,
            context: Default::default(),
        };
        let applied = edge_mfa_core::apply(
            Some(&self.record_json),
            &self.tenant,
            &self.master,
            &self.user,
            request,
            &mut env,
        );
        applied.reply.is_ok() && applied.store.is_some()
    }
}

impl Default for Workloads {
    fn default() -> Self {
        Workloads::new()
    }
}

fn data_encoding_base32(text: &str) -> Result<Vec<u8>, String> {
    // RFC 4648 base32 without padding, as the enrollment shows it.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).ok_or("not base32")? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// The workloads by name, for the wasm runner and the report.
pub const NAMES: &[&str] = &[
    "totp_verify",
    "ticket_verify",
    "token_sign",
    "token_verify",
    "seal_open",
    "webauthn_assertion",
    "apply_verify_totp",
];

impl Workloads {
    pub fn run(&self, name: &str) -> bool {
        match name {
            "totp_verify" => self.totp_verify(),
            "ticket_verify" => self.ticket_verify(),
            "token_sign" => self.token_sign() > 0,
            "token_verify" => self.token_verify(),
            "seal_open" => self.seal_open(),
            "webauthn_assertion" => self.webauthn_assertion(),
            "apply_verify_totp" => self.apply_verify_totp(),
            _ => false,
        }
    }
}
