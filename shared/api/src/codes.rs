//! SMS and email codes at the edge (API.md "Email and SMS codes"): destinations
//! checked as entered (E.164 through the [`PhoneNumbers`] port, addresses with
//! `email_address`), and each code sent through the tenant's webhook — or voided
//! when it is not.

use edge_mfa_core::command::RequestContext;
use std::str::FromStr;

use edge_mfa_core::command::{CodeDelivery, CodePurpose};
use edge_mfa_core::ids::UserId;
use edge_mfa_core::policy::Method;
use edge_mfa_core::tenant::Tenant;
use edge_mfa_core::{Env, NewDestination, Secret, UserCommand, UserRequest};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::answers::Delivery;
use crate::auth::{Caller, Deployment};
use crate::backend::Backend;
use crate::problem::ApiError;

/// Codes sent to one destination per hour at most, over all users of a tenant:
/// no number or address can be flooded through many accounts.
pub const MAX_SENDS_PER_DESTINATION_PER_HOUR: u32 = 10;

/// What a phone-number library makes of a number as entered (libphonenumber's
/// terms), for [`sms_destination`]'s rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneNumber {
    /// The number in E.164 form: `+`, the country calling code, the national number.
    pub e164: String,
    /// The country calling code, digits only (`"44"`).
    pub calling_code: String,
    /// Whether the number is valid for its region (its length and number ranges).
    pub valid: bool,
    pub number_type: NumberType,
}

/// libphonenumber's number types, as far as SMS cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberType {
    Mobile,
    /// A region that does not tell mobile and fixed-line numbers apart (the US).
    FixedLineOrMobile,
    /// Fixed-line, toll-free, premium-rate, shared-cost, VoIP, pager, …, unknown.
    Other,
}

/// Why a text is not a phone number at all (libphonenumber's parse errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneParseError {
    NotANumber,
    InvalidCountryCode,
    TooShort,
    TooLong,
    /// No number of its region has that many digits.
    InvalidLength,
    /// The library itself failed: not the caller's fault (a 500).
    LibraryFailed,
}

impl std::fmt::Display for PhoneParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PhoneParseError::NotANumber => "not a phone number",
            PhoneParseError::InvalidCountryCode => "no such country calling code",
            PhoneParseError::TooShort => "too short",
            PhoneParseError::TooLong => "too long",
            PhoneParseError::InvalidLength => "no number of its region is that long",
            PhoneParseError::LibraryFailed => "the phone-number library failed",
        })
    }
}

/// The phone-number port: libphonenumber's metadata through a library the runtime
/// carries. [`LibPhoneNumber`] (`phonenumber`, feature `sms`) on Spin; the Worker
/// brings libphonenumber-js, a tenth of the size in its bundle. Both answer
/// `shared/api/tests/phone_numbers.json` alike.
pub trait PhoneNumbers: std::fmt::Debug + Sync {
    /// Parses `text`, an international number (`+` first; spaces, dots, dashes and
    /// brackets allowed between digits).
    fn parse(&self, text: &str) -> Result<PhoneNumber, PhoneParseError>;
}

/// [`PhoneNumbers`] through the `phonenumber` crate (libphonenumber's metadata in
/// Rust: about 1.9 MB raw, 0.48 MB gzip, of a wasm module).
#[cfg(feature = "sms")]
#[derive(Clone, Copy, Debug, Default)]
pub struct LibPhoneNumber;

#[cfg(feature = "sms")]
impl PhoneNumbers for LibPhoneNumber {
    fn parse(&self, text: &str) -> Result<PhoneNumber, PhoneParseError> {
        use phonenumber::{Mode, ParseError};
        let number = phonenumber::parse(None, text).map_err(|e| match e {
            ParseError::InvalidCountryCode => PhoneParseError::InvalidCountryCode,
            ParseError::TooShortAfterIdd | ParseError::TooShortNsn => PhoneParseError::TooShort,
            ParseError::TooLong => PhoneParseError::TooLong,
            _ => PhoneParseError::NotANumber,
        })?;
        let number_type = number
            .metadata(&phonenumber::metadata::DATABASE)
            .map_or(NumberType::Other, |meta| {
                number_type(meta, &number.national().to_string())
            });
        Ok(PhoneNumber {
            e164: number.format().mode(Mode::E164).to_string(),
            calling_code: number.code().value().to_string(),
            valid: phonenumber::is_valid(&number),
            number_type,
        })
    }
}

/// libphonenumber's number type (its `getNumberType`) of `national`, the national
/// number with its leading zeros, in its region's `meta`. Not the crate's own
/// `PhoneNumber::number_type`, which drops the leading zeros (phonenumber 0.3.10)
/// and so reads Benin's, Congo's and Côte d'Ivoire's mobile numbers as fixed-line.
/// A region whose metadata lists no mobile numbers (Tristan da Cunha) has
/// fixed-line-or-mobile ones, as libphonenumber-js reads it: the Worker's port
/// must agree (shared/api/tests/phone_numbers.json).
#[cfg(feature = "sms")]
fn number_type(meta: &phonenumber::Metadata, national: &str) -> NumberType {
    let d = meta.descriptors();
    let matches = |desc: Option<&phonenumber::metadata::Descriptor>| {
        desc.is_some_and(|desc| desc.is_match(national))
    };
    let not_personal = [
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ];
    if !d.general().is_match(national) || not_personal.into_iter().any(matches) {
        return NumberType::Other;
    }
    if matches(d.fixed_line()) {
        let same_as_mobile = match (d.fixed_line(), d.mobile()) {
            (_, None) => true,
            (Some(fixed), Some(mobile)) => {
                fixed.national_number().as_str() == mobile.national_number().as_str()
            }
            (None, Some(_)) => false,
        };
        return if same_as_mobile || matches(d.mobile()) {
            NumberType::FixedLineOrMobile
        } else {
            NumberType::Other
        };
    }
    if matches(d.mobile()) {
        NumberType::Mobile
    } else {
        NumberType::Other
    }
}

/// An SMS destination: an E.164 number (`+` and the country calling code), valid
/// for its region and a mobile number, through `numbers`; answered normalised,
/// masked, with its calling code. `400` says what is wrong with it.
pub fn sms_destination(numbers: &dyn PhoneNumbers, to: &str) -> Result<NewDestination, ApiError> {
    let bad = |why: &str| {
        ApiError::InvalidRequest(format!(
            "to must be a phone number in E.164 form, such as +447400123456: {why}"
        ))
    };
    let to = to.trim();
    if !to.starts_with('+') || to.len() > 20 {
        return Err(bad("start with + and the country calling code"));
    }
    // Digits only, with the separators people type. Letters are not keypad digits
    // here: `phonenumber` reads `+44 7400 12345a` as …452, libphonenumber-js as
    // too short, and a typo must not become somebody else's number.
    if !to[1..]
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')'))
    {
        return Err(bad(
            "digits only, with spaces, dots, dashes or brackets between them",
        ));
    }
    let number = numbers.parse(to).map_err(|e| match e {
        PhoneParseError::LibraryFailed => ApiError::Internal(e.to_string()),
        _ => bad(&e.to_string()),
    })?;
    if !number.valid {
        return Err(bad("not a valid number for its region"));
    }
    // Only numbers that take SMS for a person: not premium-rate, shared-cost,
    // toll-free, pager or VoIP ranges (a favourite of SMS pumping).
    if number.number_type == NumberType::Other {
        return Err(bad("not a mobile number"));
    }
    let PhoneNumber {
        e164, calling_code, ..
    } = number;
    let well_formed = e164.strip_prefix('+').is_some_and(|digits| {
        digits.starts_with(calling_code.as_str()) && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if !well_formed || calling_code.is_empty() {
        return Err(ApiError::Internal(format!(
            "the phone-number library answered {} digits of E.164 for calling code {calling_code:?}",
            e164.len()
        )));
    }
    let digits = e164.len();
    // `+44 •••••••123`: the calling code and the last three digits.
    let masked = format!(
        "+{calling_code} {}{}",
        "•".repeat(digits.saturating_sub(calling_code.len() + 4)),
        e164.get(digits.saturating_sub(3)..).unwrap_or_default()
    );
    Ok(NewDestination {
        to: Secret::new(e164),
        masked,
        calling_code: Some(calling_code),
    })
}

/// An email destination (RFC 5321 syntax), masked as `a•••@example.com`.
pub fn email_destination(to: &str) -> Result<NewDestination, ApiError> {
    let to = to.trim();
    let address = email_address::EmailAddress::from_str(to)
        .map_err(|e| ApiError::InvalidRequest(format!("to must be an email address: {e}")))?;
    if to.len() > 254 || !address.domain().contains('.') || address.domain().starts_with('[') {
        return Err(ApiError::InvalidRequest(
            "to must be an email address at a domain such as example.com".into(),
        ));
    }
    let local = address.local_part();
    let first: String = local.chars().take(1).collect();
    Ok(NewDestination {
        to: Secret::new(format!("{local}@{}", address.domain().to_ascii_lowercase())),
        masked: format!("{first}•••@{}", address.domain().to_ascii_lowercase()),
        calling_code: None,
    })
}

/// Sends `delivery`'s code through the tenant's webhook (`mfa.code.sms`,
/// `mfa.code.email`), within the hourly limits; a code that was not sent is voided
/// and the answer is `429` (limits) or `502 delivery_failed` (the webhook).
/// Answers the `delivery` member of the API's answer.
pub(crate) async fn send<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    tenant: &Tenant,
    caller: &Caller,
    delivery: CodeDelivery,
    context: RequestContext,
    env: &mut Env<'_>,
) -> Result<Delivery, ApiError> {
    let result = try_send(backend, deployment, tenant, &caller.user, &delivery, env).await;
    if let Err(e) = result {
        let void = UserRequest {
            command: UserCommand::VoidCode {
                id: delivery.id.clone(),
                reason: Some(e.code().to_string()),
            },
            step_up: false,
            context,
        };
        // Void it; should that fail too, say so where the operator looks.
        match backend.run_user(tenant, &caller.user, void, env.now).await {
            Ok(Ok(_)) => {}
            Ok(Err(v)) => eprintln!("edge-mfa: a code whose delivery failed was not voided: {v}"),
            Err(v) => eprintln!("edge-mfa: a code whose delivery failed was not voided: {v}"),
        }
        return Err(e);
    }
    Ok(Delivery {
        channel: channel(delivery.method),
        to_masked: delivery.masked,
    })
}

fn channel(method: Method) -> &'static str {
    match method {
        Method::Sms => "sms",
        _ => "email",
    }
}

async fn try_send<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    tenant: &Tenant,
    user: &UserId,
    delivery: &CodeDelivery,
    env: &mut Env<'_>,
) -> Result<(), ApiError> {
    // Counted under an HMAC of the destination (keyed with the tenant's pepper: a
    // bare hash of a phone number is reversed by trying them all). Codes to a
    // destination nobody has confirmed yet (enrollments) count apart from the
    // codes its owner signs in with, so flooding a number through enrollments
    // cannot lock its owner out of their own codes.
    let pepper = tenant.backup_code_pepper(&deployment.master)?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&pepper)
        .map_err(|_| ApiError::Internal("pepper".into()))?;
    mac.update(b"send limit|");
    mac.update(delivery.to.expose().to_ascii_lowercase().as_bytes());
    if delivery.purpose == CodePurpose::Challenge {
        mac.update(b"|");
        mac.update(user.as_str().as_bytes());
    }
    let hashed = edge_mfa_jose::b64url_encode(&mac.finalize().into_bytes());
    let destination = match delivery.purpose {
        CodePurpose::Enroll => format!("enroll-to:{hashed}"),
        CodePurpose::Challenge => format!("to:{hashed}"),
    };
    let mut limits = vec![(destination, MAX_SENDS_PER_DESTINATION_PER_HOUR)];
    if delivery.method == Method::Sms {
        limits.push(("sms".into(), tenant.policy.delivery.max_sms_per_hour));
    }
    for (key, limit) in limits {
        if let Some(retry_after) = backend
            .reserve_send(&tenant.id, &key, limit, env.now)
            .await
            .map_err(|e| ApiError::Internal(e.0))?
        {
            return Err(ApiError::RateLimited { retry_after });
        }
    }
    let (event, id_field) = match (delivery.method, delivery.purpose) {
        (Method::Sms, CodePurpose::Enroll) => ("mfa.code.sms", "enrollment_id"),
        (Method::Sms, _) => ("mfa.code.sms", "challenge_id"),
        (_, CodePurpose::Enroll) => ("mfa.code.email", "enrollment_id"),
        _ => ("mfa.code.email", "challenge_id"),
    };
    let mut data = json!({
        "user": user.as_str(),
        "to": delivery.to.expose(),
        "code": delivery.code.expose(),
        "purpose": match delivery.purpose { CodePurpose::Enroll => "enroll", CodePurpose::Challenge => "challenge" },
        "expires_at": delivery.expires_at,
        "tenant_name": tenant.name,
    });
    if let Some(map) = data.as_object_mut() {
        map.insert(id_field.into(), json!(delivery.id));
    }
    crate::webhooks::send(backend, deployment, tenant, event, data, env).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "sms")]
    fn numbers_are_e164_and_valid_for_their_region() {
        let sms_destination = |to| sms_destination(&LibPhoneNumber, to);
        let d = sms_destination("+44 7400 123456").unwrap();
        assert_eq!(d.to.expose(), "+447400123456");
        assert_eq!(d.calling_code.as_deref(), Some("44"));
        assert!(d.masked.starts_with("+44 ") && d.masked.ends_with("456"));
        assert!(!d.masked.contains("7400"));
        let us = sms_destination("+1 650 253 0000").unwrap();
        assert_eq!(us.calling_code.as_deref(), Some("1"));
        // National numbers with leading zeros are mobile where they are: the crate's
        // own number_type drops the zeros and said fixed-line (Benin, Côte d'Ivoire).
        for mobile in ["+229 0195123456", "+225 0123456789", "+242 061234567"] {
            assert!(sms_destination(mobile).is_ok(), "{mobile}");
        }
        for bad in [
            "07700900123",
            "+44 12",
            "+999 123456789",
            "+1 abc",
            "",
            "+",
            "+44 909 8790000",
            "+44 7400 12345a",
            "+44 7400 l23456",
            "+44\u{a0}7400 123456",
        ] {
            assert!(sms_destination(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_are_checked_and_masked() {
        let d = email_destination("alice@example.com").unwrap();
        assert_eq!(d.masked, "a•••@example.com");
        for bad in [
            "alice",
            "alice@",
            "@example.com",
            "a b@example.com",
            "alice@localhost",
            "a@[127.0.0.1]",
        ] {
            assert!(email_destination(bad).is_err(), "{bad}");
        }
    }
}
