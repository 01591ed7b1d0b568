//! Tickets (JWS compact, JSON claims): any text, no panic; only a ticket signed
//! with the secret is ever accepted.
#![no_main]
use edge_mfa_jose::verify_ticket;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let _ = verify_ticket(
        token,
        b"a-tenant-ticket-secret-of-32-bytes!!",
        "acme",
        1_800_000_000,
    );
});
