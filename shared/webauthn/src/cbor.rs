//! CBOR decoding with `ciborium`, bounded: nesting is limited, and callers say
//! whether trailing bytes are allowed.

use ciborium::Value;

/// Deeper nesting than any attestation object or COSE key has.
const RECURSION_LIMIT: usize = 16;

#[derive(Debug)]
pub struct CborError;

/// Decodes one CBOR item from the front of `input` and returns it with the rest.
pub fn decode_prefix(input: &[u8]) -> Result<(Value, &[u8]), CborError> {
    let mut rest = input;
    let value = ciborium::de::from_reader_with_recursion_limit(&mut rest, RECURSION_LIMIT)
        .map_err(|_| CborError)?;
    Ok((value, rest))
}

/// Decodes exactly one CBOR item: trailing bytes are an error.
pub fn decode_exact(input: &[u8]) -> Result<Value, CborError> {
    match decode_prefix(input)? {
        (value, []) => Ok(value),
        _ => Err(CborError),
    }
}
