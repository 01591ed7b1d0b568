//! What the ceremony fuzz targets share.

use edge_mfa_webauthn::json::from_b64url;

/// The challenge and origin a base64url clientDataJSON names, so that a target's
/// ceremony expects what the input says and the fuzzer gets past those
/// comparisons into the parts after them.
pub fn ceremony_of(client_data_json: &str) -> (Vec<u8>, Vec<String>) {
    let client_data = from_b64url(client_data_json, "c").unwrap_or_default();
    let client_data: serde_json::Value = serde_json::from_slice(&client_data).unwrap_or_default();
    let challenge = client_data["challenge"].as_str().unwrap_or_default();
    let challenge = from_b64url(challenge, "c").unwrap_or_default();
    let origin = client_data["origin"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (challenge, vec![origin])
}
