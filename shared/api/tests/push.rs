//! Push approval through the API, over the in-memory backend, with the WebAuthn
//! crate's software authenticator as the phone: the deployment's VAPID key is one
//! key, made once, and it outlives a `MASTER_KEY` rotation (re-sealed under the
//! new key while the previous one still opens it), so phones subscribed with it
//! keep working. The real runtimes and push services: tests/e2e/push.test.mjs.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../../webauthn/tests/soft_authenticator/mod.rs"]
mod soft_authenticator;
mod support;

use edge_mfa_api::Deployment;
use serde_json::{Value, json};
use soft_authenticator::{Params, Soft};
use support::{MASTER_KEY, Memory, OPERATOR_KEY, PUSH_SERVICE, acme, ticket};

const ORIGIN: &str = "https://mfa.example.test";
const NEW_MASTER_KEY: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBE";

fn unb64(text: &str) -> Vec<u8> {
    data_encoding::BASE64URL_NOPAD
        .decode(text.as_bytes())
        .unwrap()
}

/// A tenant whose policy allows push: (admin key, ticket secret).
fn tenant(memory: &Memory) -> (String, String) {
    let (admin, secret) = acme(memory);
    let policy = r#"{"allowed_methods": ["totp", "push", "backup_code"]}"#;
    let (status, body) = memory.json("PATCH", "/v1/acme/admin/policy", Some(&admin), policy);
    assert_eq!(status, 200, "{body}");
    (admin, secret)
}

fn approver(memory: &Memory, route: &str, body: &Value) -> (u16, Value) {
    let response = memory.call(
        "POST",
        &format!("/v1/acme/approver/{route}"),
        &[("origin", ORIGIN), ("content-type", "application/json")],
        body.to_string().as_bytes(),
    );
    (
        response.status,
        serde_json::from_slice(&response.body).unwrap_or(Value::Null),
    )
}

/// Starts `user`'s push enrollment: the activation link the sign-in page shows,
/// and the Approver's activation request from what its fragment holds.
fn enroll_push(memory: &Memory, ticket: &str, user: &str) -> (String, Value) {
    let (status, enrollment) = memory.json(
        "POST",
        "/v1/acme/enroll",
        Some(ticket),
        r#"{"type":"push"}"#,
    );
    assert_eq!(status, 201, "{enrollment}");
    let url = enrollment["activation_url"].as_str().unwrap().to_string();
    let fragment = url.split_once("#activate=").unwrap().1;
    let link: Value = serde_json::from_slice(&unb64(fragment)).unwrap();
    assert_eq!(
        (link["t"].as_str(), link["u"].as_str()),
        (Some("acme"), Some(user))
    );
    let activation =
        json!({ "user": user, "enrollment_id": link["e"], "activation_code": link["c"] });
    (url, activation)
}

/// Enrolls `user`'s phone and asks it to approve a sign-in: the VAPID `k` the
/// push carried.
fn push_key(memory: &Memory, secret: &str, user: &str, phone: &Soft) -> String {
    let ticket = ticket(secret, user);
    let (_, activation) = enroll_push(memory, &ticket, user);
    let (status, options) = approver(memory, "activation", &activation);
    assert_eq!(status, 200, "{options}");
    let challenge = unb64(options["public_key"]["challenge"].as_str().unwrap());
    let mut params = Params::create(&challenge);
    params.origin = ORIGIN.into();
    params.rp_id = "mfa.example.test".into();
    let credential = phone.register(&params);
    let mut activate = activation.clone();
    activate["credential"] = serde_json::to_value(&credential).unwrap();
    activate["subscription"] = json!({
        "endpoint": format!("{PUSH_SERVICE}fcm/send/{user}"),
        "keys": {
            "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "auth": "BTBZMqHH6r4Tts7J_aSIgg"
        }
    });
    let (status, body) = approver(memory, "activate", &activate);
    assert_eq!(status, 201, "{body}");
    let confirm = format!(
        "/v1/acme/enroll/{}/confirm",
        activation["enrollment_id"].as_str().unwrap()
    );
    let (status, body) = memory.json("POST", &confirm, Some(&ticket), "{}");
    assert_eq!(status, 201, "{body}");

    let (status, body) = memory.json(
        "POST",
        "/v1/acme/challenge",
        Some(&ticket),
        r#"{"type":"push"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let delivered = memory.delivered.borrow();
    let (url, headers, message) = delivered.last().unwrap();
    assert_eq!(url, &format!("{PUSH_SERVICE}fcm/send/{user}"));
    assert!(
        message.len() > 86
            && !message
                .windows(2)
                .any(|w| w == body["number"].as_str().unwrap().as_bytes())
    );
    let authorization = &headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1;
    let k = authorization.rsplit_once(", k=").unwrap().1.to_string();
    assert_eq!(unb64(&k).len(), 65);
    k
}

#[test]
fn the_vapid_key_is_made_once_and_outlives_a_master_key_rotation() {
    let memory = Memory::new();
    let (admin, secret) = tenant(&memory);
    let first = push_key(&memory, &secret, "ada", &Soft::new(1));
    // The same key for every push of the deployment.
    assert_eq!(push_key(&memory, &secret, "bea", &Soft::new(2)), first);

    // Rotating: the new key seals, the previous one still opens.
    let rotating = Deployment::new(NEW_MASTER_KEY, OPERATOR_KEY)
        .unwrap()
        .with_previous_master_keys(MASTER_KEY)
        .unwrap();
    let memory = memory.rekeyed(rotating);
    assert_eq!(push_key(&memory, &secret, "bo", &Soft::new(3)), first);
    // The tenant re-sealed too (an admin change does it at its ordering point).
    let (status, body) = memory.json(
        "PATCH",
        "/v1/acme/admin/tenant",
        Some(&admin),
        r#"{"name":"ACME"}"#,
    );
    assert_eq!(status, 200, "{body}");

    // Rotated: the previous key is gone, and the VAPID key opens all the same.
    let rotated = Deployment::new(NEW_MASTER_KEY, OPERATOR_KEY).unwrap();
    let memory = memory.rekeyed(rotated);
    assert_eq!(push_key(&memory, &secret, "cy", &Soft::new(4)), first);
}

#[test]
fn a_configured_public_origin_is_the_approvers() {
    let mut deployment = Deployment::new(MASTER_KEY, OPERATOR_KEY).unwrap();
    assert!(
        deployment
            .set_public_origin("http://mfa.example.com")
            .is_err(),
        "https only"
    );
    assert!(
        deployment
            .set_public_origin("https://mfa.example.com/path")
            .is_err()
    );
    deployment
        .set_public_origin("https://approve.example.com")
        .unwrap();
    let memory = Memory::new().rekeyed(deployment);
    let (_, secret) = tenant(&memory);
    let (url, body) = enroll_push(&memory, &ticket(&secret, "ada"), "ada");
    assert!(
        url.starts_with("https://approve.example.com/approver/#activate="),
        "{url}"
    );
    // The request reached https://mfa.example.test (support's origin): the
    // Approver's routes take the configured origin only.
    let (status, _) = approver(&memory, "activation", &body);
    assert_eq!(
        status, 403,
        "the request's own origin is not the Approver's here"
    );
    let response = memory.call(
        "POST",
        "/v1/acme/approver/activation",
        &[("origin", "https://approve.example.com")],
        body.to_string().as_bytes(),
    );
    assert_eq!(response.status, 200);
    let options: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(options["public_key"]["rp"]["id"], "approve.example.com");
}
