//! Property tests: whatever bytes arrive — body, path, ticket — the answer is a
//! 2xx or a 4xx problem, never a 5xx and never a panic.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use proptest::prelude::*;
use support::{Memory, acme, ticket};

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/acme/enroll"),
    ("POST", "/v1/acme/enroll/e1/confirm"),
    ("POST", "/v1/acme/challenge"),
    ("POST", "/v1/acme/verify"),
    ("POST", "/v1/acme/backup-codes/redeem"),
    ("POST", "/v1/acme/backup-codes"),
    ("GET", "/v1/acme/factors"),
    ("DELETE", "/v1/acme/factors/x"),
    ("PATCH", "/v1/acme/factors/x"),
    ("POST", "/v1/acme/assess"),
    ("GET", "/v1/acme/devices"),
    ("DELETE", "/v1/acme/devices/x"),
    ("POST", "/v1/acme/help"),
    ("POST", "/v1/tenants"),
];

fn check(r: &edge_mfa_api::ApiResponse) {
    assert!(
        r.status < 500,
        "{} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    if r.status >= 400 {
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert!(body["code"].is_string() && body["detail"].is_string());
    }
}

/// JSON-ish bodies reach deeper than random bytes: objects with the real field names.
fn json_body() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just("null".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[a-z0-9 -]{0,20}".prop_map(|s| format!("{s:?}")),
        Just(r#"{"nested":[1,2]}"#.to_string()),
        Just("\"totp\"".to_string()),
        Just("true".to_string()),
        Just(r#"{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA","authenticatorData":"AA","signature":"AA"}}"#.to_string()),
        Just(r#"{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"!!","attestationObject":7}}"#.to_string()),
    ];
    let key = prop::sample::select(vec![
        "type",
        "code",
        "name",
        "challenge_id",
        "factor_id",
        "id",
        "origins",
        "policy",
        "message",
        "action",
        "minutes",
        "required",
        "enrollment_days",
        "audit_retention_days",
        "x",
    ]);
    prop::collection::vec((key, value), 0..5).prop_map(|fields| {
        let inner: Vec<String> = fields.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
        format!("{{{}}}", inner.join(",")).into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bodies(route in prop::sample::select(ROUTES), body in prop::collection::vec(any::<u8>(), 0..300)) {
        let memory = Memory::new();
        let (_, secret) = acme(&memory);
        let auth = format!("Bearer {}", ticket(&secret, "jane"));
        check(&memory.call(route.0, route.1, &[("authorization", &auth)], &body));
    }

    #[test]
    fn json_shaped_bodies(route in prop::sample::select(ROUTES), body in json_body()) {
        let memory = Memory::new();
        let (_, secret) = acme(&memory);
        let auth = format!("Bearer {}", ticket(&secret, "jane"));
        check(&memory.call(route.0, route.1, &[("authorization", &auth)], &body));
    }

    #[test]
    fn arbitrary_paths_and_methods(method in "[A-Z]{1,7}", path in "/[ -~]{0,80}") {
        let memory = Memory::new();
        acme(&memory);
        check(&memory.call(&method, &path, &[], b""));
    }

    #[test]
    fn arbitrary_tickets(token in "[ -~]{0,400}") {
        let memory = Memory::new();
        acme(&memory);
        let auth = format!("Bearer {token}");
        let r = memory.call("GET", "/v1/acme/factors", &[("authorization", &auth)], b"");
        check(&r);
        prop_assert!(r.status == 401 || r.status == 403, "{}", r.status);
    }

    #[test]
    fn arbitrary_header_values(name in "[a-z-]{1,20}", value in "[ -~]{0,100}") {
        let memory = Memory::new();
        let (_, secret) = acme(&memory);
        let auth = format!("Bearer {}", ticket(&secret, "jane"));
        check(&memory.call("GET", "/v1/acme/factors", &[("authorization", &auth), (&name, &value)], b""));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn admin_routes_with_arbitrary_bodies(
        route in prop::sample::select(vec![
            ("PUT", "/v1/acme/admin/policy"),
            ("POST", "/v1/acme/admin/users/jane/bypass"),
            ("PUT", "/v1/acme/admin/users/jane/requirement"),
            ("POST", "/v1/acme/admin/help-requests/h1/resolve"),
            ("PATCH", "/v1/acme/admin/tenant"),
        ]),
        body in json_body(),
    ) {
        let memory = Memory::new();
        let (admin, _) = acme(&memory);
        let auth = format!("Bearer {admin}");
        check(&memory.call(route.0, route.1, &[("authorization", &auth)], &body));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The admin views' query strings (filters, limits, cursors, formats).
    #[test]
    fn admin_queries(
        path in prop::sample::select(vec!["/v1/acme/admin/users", "/v1/acme/admin/audit", "/v1/acme/admin/help-requests"]),
        pairs in prop::collection::vec((
            prop::sample::select(vec!["state", "method", "q", "limit", "cursor", "format", "since", "until", "user", "type", "x"]),
            "[ -~]{0,24}",
        ), 0..4),
    ) {
        let memory = Memory::new();
        let (admin, _) = acme(&memory);
        let auth = format!("Bearer {admin}");
        let query: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        check(&memory.call("GET", &format!("{path}?{query}"), &[("authorization", &auth)], b""));
    }
}

#[test]
fn oversized_bodies_are_413() {
    let memory = Memory::new();
    let r = memory.call(
        "POST",
        "/v1/tenants",
        &[],
        &vec![b' '; edge_mfa_api::MAX_BODY_BYTES + 1],
    );
    assert_eq!(r.status, 413);
    check(&r);
}
