//! The phone-number port on Workers: libphonenumber-js, through
//! `js/phone-numbers.mjs`, in place of the `phonenumber` crate (libphonenumber's
//! metadata and a regex engine in wasm: 0.48 MB of the 1.3 MB gzip Worker). Both
//! answer `shared/api/tests/phone_numbers.json` alike.

use edge_mfa_api::codes::{NumberType, PhoneNumber, PhoneNumbers, PhoneParseError};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(module = "/js/phone-numbers.mjs")]
extern "C" {
    /// `[e164, callingCode, valid, type]`, or the number of a parse error (-1:
    /// the library failed; the module catches every exception).
    #[wasm_bindgen(js_name = parse)]
    fn parse_js(text: &str) -> JsValue;
}

/// libphonenumber-js, with its full ("max") metadata.
#[derive(Clone, Copy, Debug, Default)]
pub struct LibPhoneNumberJs;

impl PhoneNumbers for LibPhoneNumberJs {
    fn parse(&self, text: &str) -> Result<PhoneNumber, PhoneParseError> {
        let answer = parse_js(text);
        if let Some(error) = answer.as_f64() {
            return Err(match error as i8 {
                1 => PhoneParseError::InvalidCountryCode,
                2 => PhoneParseError::TooShort,
                3 => PhoneParseError::TooLong,
                4 => PhoneParseError::InvalidLength,
                -1 => PhoneParseError::LibraryFailed,
                _ => PhoneParseError::NotANumber,
            });
        }
        let answer = worker::js_sys::Array::from(&answer);
        let text = |i| answer.get(i).as_string().unwrap_or_default();
        Ok(PhoneNumber {
            e164: text(0),
            calling_code: text(1),
            valid: answer.get(2).as_bool() == Some(true),
            number_type: match answer.get(3).as_f64() {
                Some(1.0) => NumberType::Mobile,
                Some(2.0) => NumberType::FixedLineOrMobile,
                _ => NumberType::Other,
            },
        })
    }
}
