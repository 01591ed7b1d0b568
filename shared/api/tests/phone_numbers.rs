//! The Rust phone-number port (`phonenumber`, feature `sms`: Spin's `enroll`)
//! against the vectors the Worker's port (libphonenumber-js) answers too
//! (tests/phone-numbers/vectors.test.mjs).
#![cfg(feature = "sms")]
#![allow(clippy::panic, clippy::indexing_slicing)]

use edge_mfa_api::codes::{LibPhoneNumber, NumberType, PhoneNumbers, sms_destination};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/phone_numbers.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    doc["vectors"].as_array().cloned().unwrap_or_default()
}

#[test]
fn the_rust_port_answers_every_vector() {
    let vectors = vectors();
    assert!(vectors.len() >= 200, "{} vectors", vectors.len());
    let mut failures = Vec::new();
    for v in &vectors {
        let input = v["input"].as_str().unwrap_or_default();
        let answer = LibPhoneNumber.parse(input);
        let expected_ok = v.get("error").is_none();
        let same = match &answer {
            Err(_) => !expected_ok,
            Ok(n) => {
                let number_type = match n.number_type {
                    NumberType::Mobile => "mobile",
                    NumberType::FixedLineOrMobile => "fixed_line_or_mobile",
                    NumberType::Other => "other",
                };
                expected_ok
                    && v["e164"] == n.e164.as_str()
                    && v["calling_code"] == n.calling_code.as_str()
                    && v["valid"] == n.valid
                    && v["number_type"] == number_type
            }
        };
        if !same {
            failures.push(format!("{input}: {answer:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The API takes exactly the valid mobile numbers (or a region's "fixed line or
/// mobile"), whatever the library.
#[test]
fn the_api_takes_the_valid_mobile_vectors_only() {
    for v in vectors() {
        let input = v["input"].as_str().unwrap_or_default();
        let takes = v["valid"] == true && v["number_type"] != "other";
        let answer = sms_destination(&LibPhoneNumber, input);
        assert_eq!(answer.is_ok(), takes, "{input}");
        if let Ok(d) = answer {
            assert_eq!(v["e164"], d.to.expose().as_str(), "{input}");
        }
    }
}
