//! Structs come only from objects, at every depth; everything else reads as
//! serde_json reads it.
#![allow(clippy::unwrap_used)]

use serde::Deserialize;

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    inner: Option<Inner>,
    #[serde(default)]
    list: Vec<u8>,
    #[serde(default)]
    pair: Option<(u8, String)>,
    #[serde(default)]
    kind: Option<Kind>,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
struct Inner {
    #[serde(default)]
    a: u8,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Plain,
    Wrapped(Inner),
    Shaped { a: u8 },
}

fn strict(json: &str) -> Result<Body, serde_json::Error> {
    edge_mfa_json::from_str(json)
}

#[test]
fn arrays_in_place_of_structs_are_refused_at_any_depth() {
    // Each of these serde_json alone accepts.
    for json in [
        "[null]",
        "[]",
        r#"["t"]"#,
        r#"{"inner": []}"#,
        r#"{"inner": [1]}"#,
        r#"{"kind": {"wrapped": []}}"#,
        r#"{"kind": {"shaped": [1]}}"#,
    ] {
        assert!(
            serde_json::from_str::<Body>(json).is_ok(),
            "serde_json refuses {json}"
        );
        let e = strict(json).unwrap_err();
        assert!(e.to_string().contains("invalid type"), "{json}: {e}");
    }
}

#[test]
fn everything_else_reads_as_before() {
    for json in [
        "{}",
        r#"{"token": "t"}"#,
        r#"{"token": null}"#,
        r#"{"inner": {"a": 3}}"#,
        r#"{"list": [1, 2, 3]}"#,
        r#"{"pair": [1, "x"]}"#,
        r#"{"kind": "plain"}"#,
        r#"{"kind": {"wrapped": {"a": 1}}}"#,
        r#"{"kind": {"shaped": {"a": 2}}}"#,
        " { \"token\" : \"t\" } \n",
    ] {
        assert_eq!(
            strict(json).unwrap(),
            serde_json::from_str::<Body>(json).unwrap(),
            "{json}"
        );
    }
}

#[test]
fn the_checks_serde_json_makes_stay() {
    for json in [
        r#"{"tokn": "t"}"#,
        r#"{"token": 1}"#,
        r#"{} x"#,
        r#"{"list": [256]}"#,
        "",
        "{",
    ] {
        assert!(strict(json).is_err(), "{json}");
    }
}

#[test]
fn field_paths_still_name_the_field_under_serde_path_to_error() {
    let mut de = serde_json::Deserializer::from_str(r#"{"inner": [1]}"#);
    let e =
        serde_path_to_error::deserialize::<_, Body>(edge_mfa_json::Strict(&mut de)).unwrap_err();
    assert_eq!(e.path().to_string(), "inner");
}

#[derive(Debug, PartialEq, Deserialize)]
struct Numbers {
    minutes: u32,
    offset: i8,
    ratio: f64,
}

#[test]
fn integral_floats_are_integers_as_json_schema_reads_them() {
    let n: Numbers =
        edge_mfa_json::from_str(r#"{"minutes": 897.0, "offset": -3.0, "ratio": 2.0}"#).unwrap();
    assert_eq!(
        n,
        Numbers {
            minutes: 897,
            offset: -3,
            ratio: 2.0
        }
    );
    let n: Numbers =
        edge_mfa_json::from_str(r#"{"minutes": 1e2, "offset": -0.0, "ratio": 0.5}"#).unwrap();
    assert_eq!(
        n,
        Numbers {
            minutes: 100,
            offset: 0,
            ratio: 0.5
        }
    );
    // serde_json alone refuses the first; a fraction or an overflow stays refused.
    assert!(
        serde_json::from_str::<Numbers>(r#"{"minutes": 897.0, "offset": 0, "ratio": 1}"#).is_err()
    );
    for json in [
        r#"{"minutes": 897.5, "offset": 0, "ratio": 1}"#,
        r#"{"minutes": -1.0, "offset": 0, "ratio": 1}"#,
        r#"{"minutes": 4294967296.0, "offset": 0, "ratio": 1}"#,
        r#"{"minutes": 1e300, "offset": 0, "ratio": 1}"#,
        r#"{"minutes": 1, "offset": 128.0, "ratio": 1}"#,
    ] {
        assert!(edge_mfa_json::from_str::<Numbers>(json).is_err(), "{json}");
    }
}

#[test]
fn values_are_read_strictly_too() {
    let value = serde_json::json!({"inner": []});
    assert!(serde_json::from_value::<Body>(value.clone()).is_ok());
    assert!(Body::deserialize(edge_mfa_json::Strict(value)).is_err());
}
