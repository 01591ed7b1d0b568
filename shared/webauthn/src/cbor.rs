//! CBOR decoding with `ciborium`, strict and bounded, in one place: every CBOR item
//! WebAuthn reads (attestation object, attestation statement, COSE key, extensions)
//! comes through here.
//!
//! - A map with a repeated key is refused, whatever the values' types (RFC 8949
//!   §5.6: such a map is not valid; CTAP2's canonical CBOR has none). Otherwise a
//!   reader that takes the first `fmt` and one that takes the last disagree about
//!   what was signed.
//! - Nesting is limited, and so is the size of every map and array: deeper or larger
//!   than any attestation object or COSE key, and the duplicate check stays cheap.
//! - Callers say whether trailing bytes are allowed.

use ciborium::Value;

/// Deeper nesting than any attestation object or COSE key has.
const RECURSION_LIMIT: usize = 16;
/// More entries than any map or array WebAuthn defines (an `x5c` chain, an RSA
/// COSE key, a TPM statement all stay far below).
pub const MAX_CONTAINER_LEN: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CborError {
    /// Not well-formed CBOR, or nested too deep.
    Malformed,
    /// A map holds the same key twice.
    DuplicateKey,
    /// A map or array has more than [`MAX_CONTAINER_LEN`] entries.
    TooLarge,
}

/// Decodes one CBOR item from the front of `input` and returns it with the rest.
pub fn decode_prefix(input: &[u8]) -> Result<(Value, &[u8]), CborError> {
    let mut rest = input;
    let value = ciborium::de::from_reader_with_recursion_limit(&mut rest, RECURSION_LIMIT)
        .map_err(|_| CborError::Malformed)?;
    check_strict(&value)?;
    Ok((value, rest))
}

/// Decodes exactly one CBOR item: trailing bytes are an error.
pub fn decode_exact(input: &[u8]) -> Result<Value, CborError> {
    match decode_prefix(input)? {
        (value, []) => Ok(value),
        _ => Err(CborError::Malformed),
    }
}

impl CborError {
    pub fn describe(self) -> &'static str {
        match self {
            CborError::Malformed => "is not well-formed CBOR",
            CborError::DuplicateKey => "repeats a map key",
            CborError::TooLarge => "has a map or array of more than 64 entries",
        }
    }
}

fn check_strict(value: &Value) -> Result<(), CborError> {
    match value {
        Value::Map(entries) => {
            if entries.len() > MAX_CONTAINER_LEN {
                return Err(CborError::TooLarge);
            }
            for (i, (key, item)) in entries.iter().enumerate() {
                if entries.iter().skip(i + 1).any(|(other, _)| other == key) {
                    return Err(CborError::DuplicateKey);
                }
                check_strict(key)?;
                check_strict(item)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            if items.len() > MAX_CONTAINER_LEN {
                return Err(CborError::TooLarge);
            }
            items.iter().try_for_each(check_strict)
        }
        Value::Tag(_, inner) => check_strict(inner),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(value, &mut out).unwrap();
        out
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn repeated_keys_are_refused_whatever_the_values_and_wherever_the_map() {
        let twice_fmt = Value::Map(vec![
            (text("fmt"), Value::Integer(1.into())),
            (text("fmt"), text("none")),
        ]);
        assert_eq!(
            decode_exact(&encode(&twice_fmt)),
            Err(CborError::DuplicateKey)
        );
        let twice_int = Value::Map(vec![
            (Value::Integer(3.into()), Value::Integer((-7).into())),
            (Value::Integer(3.into()), Value::Integer((-8).into())),
        ]);
        assert_eq!(
            decode_exact(&encode(&twice_int)),
            Err(CborError::DuplicateKey)
        );
        let nested = Value::Map(vec![(
            text("attStmt"),
            Value::Array(vec![Value::Map(vec![
                (text("x"), Value::Null),
                (text("x"), Value::Null),
            ])]),
        )]);
        assert_eq!(decode_exact(&encode(&nested)), Err(CborError::DuplicateKey));
        // Different keys that compare unequal across types are fine.
        let mixed = Value::Map(vec![
            (text("1"), Value::Null),
            (Value::Integer(1.into()), Value::Null),
        ]);
        assert!(decode_exact(&encode(&mixed)).is_ok());
    }

    #[test]
    fn containers_are_bounded() {
        let wide = Value::Array(vec![Value::Null; MAX_CONTAINER_LEN + 1]);
        assert_eq!(decode_exact(&encode(&wide)), Err(CborError::TooLarge));
        let ok = Value::Array(vec![Value::Null; MAX_CONTAINER_LEN]);
        assert!(decode_exact(&encode(&ok)).is_ok());
        let mut deep = Value::Null;
        for _ in 0..RECURSION_LIMIT + 1 {
            deep = Value::Array(vec![deep]);
        }
        assert_eq!(decode_exact(&encode(&deep)), Err(CborError::Malformed));
    }
}
