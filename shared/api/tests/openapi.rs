//! The served OpenAPI document describes exactly the routes the code serves.

#![cfg(feature = "openapi")]
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use support::{Memory, acme, ticket};

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH"];

fn concrete(path: &str) -> String {
    path.replace("{tenant}", "acme")
        .replace("{factor_id}", "f1")
        .replace("{enrollment_id}", "e1")
        .replace("{user}", "jane")
        .replace("{device_id}", "d1")
}

/// The served document is the one generated from the wire types: no hand edit,
/// no type changed without it. `EDGE_MFA_WRITE_OPENAPI=1` (scripts/openapi)
/// writes the generation first.
#[test]
fn the_served_document_is_generated_from_the_wire_types() {
    let generated =
        serde_json::to_string_pretty(&edge_mfa_api::openapi::document().unwrap()).unwrap() + "\n";
    if std::env::var_os("EDGE_MFA_WRITE_OPENAPI").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        std::fs::write(path, &generated).unwrap();
        return;
    }
    assert!(
        generated == edge_mfa_api::OPENAPI,
        "shared/api/openapi.json is not the generated document: run scripts/openapi"
    );
}

#[test]
fn every_documented_operation_is_served_and_nothing_else_on_those_paths() {
    let doc: serde_json::Value = serde_json::from_str(edge_mfa_api::OPENAPI).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 15);
    for (path, item) in paths {
        for method in METHODS {
            // A fresh tenant per request: some routes change its keys.
            let memory = Memory::new();
            let (admin, secret) = acme(&memory);
            let user = ticket(&secret, "jane");
            let documented = item.get(method.to_lowercase()).is_some();
            let token = if path.contains("/admin/") {
                admin.as_str()
            } else {
                user.as_str()
            };
            let (status, body) = memory.json(method, &concrete(path), Some(token), "{}");
            if documented {
                let no_route = status == 405 || (status == 404 && body["detail"] == "no such path");
                assert!(
                    !no_route,
                    "{method} {path} is documented but not served: {status} {body}"
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {path} is served but not documented: {body}"
                );
            }
        }
    }
}

#[test]
fn the_document_lists_every_served_path_and_no_other() {
    let doc: serde_json::Value = serde_json::from_str(edge_mfa_api::OPENAPI).unwrap();
    let mut documented: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|p| p.strip_prefix("/v1/{tenant}/").map(str::to_string))
        .collect();
    documented.sort();
    let mut served: Vec<String> = edge_mfa_api::TENANT_PATHS
        .iter()
        .map(|p| p.to_string())
        .collect();
    served.sort();
    assert_eq!(documented, served);
    // And each listed template is a route: not "no such path".
    let memory = Memory::new();
    let (admin, _) = acme(&memory);
    for path in edge_mfa_api::TENANT_PATHS {
        let (status, body) = memory.json(
            "OPTIONS",
            &concrete(&format!("/v1/{{tenant}}/{path}")),
            Some(&admin),
            "",
        );
        assert!(
            !(status == 404 && body["detail"] == "no such path"),
            "{path} is listed but not routed"
        );
    }
}

#[test]
fn undocumented_paths_are_not_found() {
    let memory = Memory::new();
    let (_, secret) = acme(&memory);
    let user = ticket(&secret, "jane");
    for path in [
        "/",
        "/v1",
        "/v1/acme",
        "/v1/acme/",
        "/v1/acme/assess-later",
        "/v1/acme/factors/a/b",
        "/v2/tenants",
    ] {
        let (status, _) = memory.json("GET", path, Some(&user), "");
        assert_eq!(status, 404, "{path}");
    }
}

#[test]
fn test_hooks_are_ignored_unless_enabled() {
    // The in-memory deployment has test hooks off: an injected clock far in the
    // future must not expire the ticket, an injected country must not be seen.
    let memory = Memory::new();
    let (_, secret) = acme(&memory);
    let auth = format!("Bearer {}", ticket(&secret, "jane"));
    let future = (support::NOW + 10 * 365 * 86_400).to_string();
    let r = memory.call(
        "GET",
        "/v1/acme/factors",
        &[("authorization", &auth), ("x-edge-mfa-test-now", &future)],
        b"",
    );
    assert_eq!(r.status, 200, "the injected clock was honoured");
}

/// `{anything}` → `{}`, so `{device_id}` and `{id}` name the same slot.
fn slots(path: &str) -> String {
    let mut out = String::new();
    let mut in_slot = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_slot = true;
                out.push_str("{}");
            }
            '}' => in_slot = false,
            _ if !in_slot => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn docs_api_md_documents_every_served_operation() {
    // The contract clients read must not drift from the code: every operation of
    // the OpenAPI document (itself checked against the router above) has a line of
    // docs/API.md naming its path and its method.
    let api_md = include_str!("../../../docs/API.md");
    let lines: Vec<String> = api_md.lines().map(slots).collect();
    let doc: serde_json::Value = serde_json::from_str(edge_mfa_api::OPENAPI).unwrap();
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let path = slots(path);
        for method in METHODS {
            if item.get(method.to_lowercase()).is_none() {
                continue;
            }
            let named = |line: &String| {
                line.contains(&format!("`{path}`"))
                    || line.contains(&format!("{path}`"))
                    || line.contains(&format!("{path} "))
            };
            let documented = lines
                .iter()
                .any(|line| named(line) && line.contains(&format!("`{method}")));
            if !documented {
                missing.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/API.md does not document: {missing:?}"
    );
}

#[test]
fn bodies_are_objects_and_405_names_the_methods() {
    let memory = Memory::new();
    let (_, secret) = acme(&memory);
    let user = ticket(&secret, "jane");
    // serde reads a struct from an array of its members; the API must not.
    for body in ["[null]", "[]", "[{}]", "null", "1"] {
        let (status, answer) = memory.json("POST", "/v1/acme/assess", Some(&user), body);
        assert_eq!(status, 400, "{body}: {answer}");
    }
    let auth = format!("Bearer {user}");
    let r = memory.call("PUT", "/v1/acme/verify", &[("authorization", &auth)], b"");
    assert_eq!(r.status, 405);
    // End-user routes answer CORS preflights: OPTIONS is theirs too.
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    let r = memory.call("POST", "/v1/acme/factors", &[("authorization", &auth)], b"");
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    let r = memory.call("POST", "/v1/acme/jwks.json", &[], b"");
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
}
