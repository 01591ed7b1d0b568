//! The policy decision: given the tenant's policy, what we know of the user and the
//! request's signals, is MFA needed now? Pure; `ops` feeds it from the record.
//!
//! The order of the rules (each documented in README "Policy"):
//! 1. adaptive mode and the request's country is denied → `deny`;
//! 2. an admin bypass is active → `allow` (bypass);
//! 3. an admin required MFA for this user (`PUT …/requirement`) → as `required`,
//!    whatever the mode or groups, with the requirement's own enrollment period;
//!    otherwise a `require` group forces MFA, whatever the mode; otherwise an `exempt` group
//!    skips it (require wins over exempt: exempt wins only where no require group
//!    names the user);
//! 4. mode `off` → `allow`;
//! 5. no factor: `optional` → `allow`; `required`/`adaptive` → `allow` during the
//!    grace period, else `enroll`;
//! 6. a factor: `adaptive` and a country this user never verified from →
//!    `challenge`; a valid trusted device → `allow`; `optional`/`required` →
//!    `challenge`; `adaptive` → `allow` from a trusted network, `challenge` from an
//!    untrusted device, else `allow`.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::cidr::Cidr;
use crate::policy::{Mode, Policy};

const DAY: u64 = 86_400;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Allow,
    Challenge,
    Enroll,
    Deny,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentState {
    Enrolled,
    NotEnrolled,
    Grace,
    Expired,
    Bypassed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Enrollment {
    pub state: EnrollmentState,
    /// End of the grace period (grace, expired) or of the bypass (bypassed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
}

/// Why an `allow` needs no second factor now: the `mfa_method` of its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllowedBy {
    TrustedDevice,
    Bypass,
    Policy,
}

impl AllowedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            AllowedBy::TrustedDevice => "trusted_device",
            AllowedBy::Bypass => "bypass",
            AllowedBy::Policy => "policy",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub action: Action,
    pub reasons: Vec<String>,
    pub enrollment: Enrollment,
    pub allowed_by: Option<AllowedBy>,
    /// With the reason `locked`: seconds until codes are accepted again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// What we know of the user.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub has_factor: bool,
    pub first_seen: u64,
    pub bypass_until: Option<u64>,
    /// From the ticket.
    pub groups: &'a [String],
    /// Countries of this user's earlier successful verifications.
    pub known_countries: &'a [String],
    /// An admin required MFA for this user: the end of their enrollment period.
    pub required_by: Option<u64>,
}

/// What the request tells.
#[derive(Clone, Copy, Debug, Default)]
pub struct Signals<'a> {
    pub ip: Option<IpAddr>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<&'a str>,
    /// A valid, unexpired remember-device token came with the request.
    pub trusted_device: bool,
}

/// The user's enrollment state at `now` (also shown by the admin status).
pub fn enrollment(policy: &Policy, subject: &Subject<'_>, now: u64) -> Enrollment {
    if let Some(until) = subject.bypass_until.filter(|&until| until > now) {
        return Enrollment {
            state: EnrollmentState::Bypassed,
            deadline: Some(until),
        };
    }
    if subject.has_factor {
        return Enrollment {
            state: EnrollmentState::Enrolled,
            deadline: None,
        };
    }
    // A per-user requirement brings its own enrollment period, from when it was set.
    let deadline = match subject.required_by {
        Some(deadline) => deadline,
        None if policy.grace_period_days == 0 => {
            return Enrollment {
                state: EnrollmentState::NotEnrolled,
                deadline: None,
            };
        }
        None => subject
            .first_seen
            .saturating_add(u64::from(policy.grace_period_days) * DAY),
    };
    let state = if now < deadline {
        EnrollmentState::Grace
    } else {
        EnrollmentState::Expired
    };
    Enrollment {
        state,
        deadline: Some(deadline),
    }
}

fn decision(
    action: Action,
    reasons: &[&str],
    enrollment: Enrollment,
    allowed_by: Option<AllowedBy>,
) -> Decision {
    Decision {
        action,
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
        enrollment,
        allowed_by,
        retry_after: None,
    }
}

pub fn decide(policy: &Policy, subject: &Subject<'_>, signals: &Signals<'_>, now: u64) -> Decision {
    let enrollment = enrollment(policy, subject, now);
    let adaptive = &policy.adaptive;
    let in_groups = |groups: &[String]| subject.groups.iter().any(|g| groups.contains(g));

    // 1. A denied country is refused before anything else (adaptive mode), by the
    // same gate every command that issues proof goes through.
    if policy.denies_country(signals.country) {
        return decision(Action::Deny, &["denied_country"], enrollment, None);
    }
    // 2. An admin bypass.
    if enrollment.state == EnrollmentState::Bypassed {
        return decision(
            Action::Allow,
            &["bypass_active"],
            enrollment,
            Some(AllowedBy::Bypass),
        );
    }
    // 3. A per-user requirement, then groups.
    let mut reasons: Vec<&str> = Vec::new();
    let mode = if subject.required_by.is_some() {
        reasons.push("required_user");
        Mode::Required
    } else if in_groups(&policy.groups.require) {
        reasons.push("required_group");
        Mode::Required
    } else if in_groups(&policy.groups.exempt) {
        return decision(
            Action::Allow,
            &["exempt_group"],
            enrollment,
            Some(AllowedBy::Policy),
        );
    } else {
        policy.mode
    };
    // 4. Off.
    if mode == Mode::Off {
        return decision(
            Action::Allow,
            &["mode_off"],
            enrollment,
            Some(AllowedBy::Policy),
        );
    }
    // 5. No factor yet.
    if !subject.has_factor {
        reasons.push("not_enrolled");
        return match (mode, enrollment.state) {
            (Mode::Optional, _) => {
                reasons.push("mfa_optional");
                decision(Action::Allow, &reasons, enrollment, Some(AllowedBy::Policy))
            }
            (_, EnrollmentState::Grace) => {
                reasons.push("grace_period");
                decision(Action::Allow, &reasons, enrollment, Some(AllowedBy::Policy))
            }
            (_, EnrollmentState::Expired) => {
                reasons.push("grace_period_expired");
                decision(Action::Enroll, &reasons, enrollment, None)
            }
            _ => decision(Action::Enroll, &reasons, enrollment, None),
        };
    }
    // 6. A factor. In an adaptive tenant a new country challenges even a remembered
    // device (a stolen device cookie should not travel), also for members of a
    // require group, whose effective mode is `required`.
    let new_country = policy.mode == Mode::Adaptive
        && adaptive.challenge_new_country
        && signals
            .country
            .is_some_and(|country| !subject.known_countries.iter().any(|c| c == country));
    let new_device =
        mode == Mode::Adaptive && adaptive.challenge_new_device && !signals.trusted_device;
    if new_country {
        reasons.push("new_country");
        if new_device {
            reasons.push("new_device");
        }
        return decision(Action::Challenge, &reasons, enrollment, None);
    }
    if signals.trusted_device && policy.remember_device.enabled {
        reasons.push("trusted_device");
        return decision(
            Action::Allow,
            &reasons,
            enrollment,
            Some(AllowedBy::TrustedDevice),
        );
    }
    if mode != Mode::Adaptive {
        reasons.push("mfa_required");
        return decision(Action::Challenge, &reasons, enrollment, None);
    }
    if let Some(ip) = signals.ip
        && adaptive
            .trusted_networks
            .iter()
            .filter_map(|n| Cidr::parse(n))
            .any(|n| n.contains(ip))
    {
        reasons.push("trusted_network");
        return decision(Action::Allow, &reasons, enrollment, Some(AllowedBy::Policy));
    }
    if new_device {
        reasons.push("new_device");
        return decision(Action::Challenge, &reasons, enrollment, None);
    }
    reasons.push("no_risk_signal");
    decision(Action::Allow, &reasons, enrollment, Some(AllowedBy::Policy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Adaptive, Groups};

    const NOW: u64 = 1_800_000_000;

    fn policy(mode: Mode) -> Policy {
        Policy {
            mode,
            grace_period_days: 7,
            groups: Groups {
                require: vec!["admins".into()],
                exempt: vec!["kiosk".into()],
            },
            adaptive: Adaptive {
                trusted_networks: vec!["10.0.0.0/8".into(), "2001:db8::/32".into()],
                challenge_new_device: true,
                challenge_new_country: true,
                deny_countries: vec!["KP".into()],
                no_country_acknowledged: false,
            },
            ..Policy::default()
        }
    }

    #[derive(Clone, Copy)]
    enum Enrolled {
        Yes,
        No,
        NoGrace,
        NoExpired,
        Bypassed,
    }

    #[derive(Clone, Copy)]
    enum Group {
        None,
        Require,
        Exempt,
        Both,
    }

    #[derive(Clone, Copy)]
    enum Signal {
        None,
        TrustedDevice,
        TrustedNetwork,
        NewCountry,
        KnownCountry,
        DeniedCountry,
    }

    fn run(mode: Mode, enrolled: Enrolled, group: Group, signal: Signal) -> Decision {
        let mut p = policy(mode);
        let first_seen = match enrolled {
            Enrolled::NoGrace => NOW - DAY,
            Enrolled::NoExpired => NOW - 8 * DAY,
            Enrolled::No => {
                p.grace_period_days = 0;
                NOW
            }
            _ => NOW - 30 * DAY,
        };
        let groups: Vec<String> = match group {
            Group::None => vec!["staff".into()],
            Group::Require => vec!["admins".into()],
            Group::Exempt => vec!["kiosk".into()],
            Group::Both => vec!["kiosk".into(), "admins".into()],
        };
        let known = vec!["DE".to_string()];
        let subject = Subject {
            has_factor: matches!(enrolled, Enrolled::Yes | Enrolled::Bypassed),
            first_seen,
            bypass_until: matches!(enrolled, Enrolled::Bypassed).then_some(NOW + 60),
            groups: &groups,
            known_countries: &known,
            required_by: None,
        };
        let signals = match signal {
            Signal::None => Signals {
                ip: Some("203.0.113.9".parse().unwrap()),
                country: Some("DE"),
                trusted_device: false,
            },
            Signal::TrustedDevice => Signals {
                ip: None,
                country: Some("DE"),
                trusted_device: true,
            },
            Signal::TrustedNetwork => Signals {
                ip: Some("10.20.30.40".parse().unwrap()),
                country: Some("DE"),
                trusted_device: false,
            },
            Signal::NewCountry => Signals {
                ip: None,
                country: Some("FR"),
                trusted_device: true,
            },
            Signal::KnownCountry => Signals {
                ip: None,
                country: Some("DE"),
                trusted_device: true,
            },
            Signal::DeniedCountry => Signals {
                ip: None,
                country: Some("KP"),
                trusted_device: true,
            },
        };
        decide(&p, &subject, &signals, NOW)
    }

    fn check(
        mode: Mode,
        enrolled: Enrolled,
        group: Group,
        signal: Signal,
        action: Action,
        reasons: &[&str],
        by: Option<AllowedBy>,
    ) {
        let d = run(mode, enrolled, group, signal);
        let label = format!(
            "{mode:?} / enrolled {:?} / group {:?} / signal {:?}",
            enrolled as u8, group as u8, signal as u8
        );
        assert_eq!(d.action, action, "{label}: {d:?}");
        assert_eq!(d.reasons, reasons, "{label}");
        assert_eq!(d.allowed_by, by, "{label}");
    }

    use Action::*;
    use AllowedBy::{Bypass, Policy as ByPolicy, TrustedDevice};

    #[test]
    fn decision_table() {
        let e = Enrolled::Yes;
        // mode × enrollment, no group, no signal
        check(
            Mode::Off,
            e,
            Group::None,
            Signal::None,
            Allow,
            &["mode_off"],
            Some(ByPolicy),
        );
        check(
            Mode::Off,
            Enrolled::No,
            Group::None,
            Signal::None,
            Allow,
            &["mode_off"],
            Some(ByPolicy),
        );
        check(
            Mode::Optional,
            e,
            Group::None,
            Signal::None,
            Challenge,
            &["mfa_required"],
            None,
        );
        check(
            Mode::Optional,
            Enrolled::No,
            Group::None,
            Signal::None,
            Allow,
            &["not_enrolled", "mfa_optional"],
            Some(ByPolicy),
        );
        check(
            Mode::Required,
            e,
            Group::None,
            Signal::None,
            Challenge,
            &["mfa_required"],
            None,
        );
        check(
            Mode::Required,
            Enrolled::No,
            Group::None,
            Signal::None,
            Enroll,
            &["not_enrolled"],
            None,
        );
        check(
            Mode::Required,
            Enrolled::NoGrace,
            Group::None,
            Signal::None,
            Allow,
            &["not_enrolled", "grace_period"],
            Some(ByPolicy),
        );
        check(
            Mode::Required,
            Enrolled::NoExpired,
            Group::None,
            Signal::None,
            Enroll,
            &["not_enrolled", "grace_period_expired"],
            None,
        );
        check(
            Mode::Adaptive,
            Enrolled::NoExpired,
            Group::None,
            Signal::None,
            Enroll,
            &["not_enrolled", "grace_period_expired"],
            None,
        );
        check(
            Mode::Adaptive,
            Enrolled::NoGrace,
            Group::None,
            Signal::None,
            Allow,
            &["not_enrolled", "grace_period"],
            Some(ByPolicy),
        );
        // bypass wins over every mode, but not over a denied country
        for mode in [Mode::Off, Mode::Optional, Mode::Required, Mode::Adaptive] {
            check(
                mode,
                Enrolled::Bypassed,
                Group::Require,
                Signal::None,
                Allow,
                &["bypass_active"],
                Some(Bypass),
            );
        }
        check(
            Mode::Adaptive,
            Enrolled::Bypassed,
            Group::None,
            Signal::DeniedCountry,
            Deny,
            &["denied_country"],
            None,
        );
        // groups: require forces MFA even when off; exempt skips it; require wins over exempt
        check(
            Mode::Off,
            e,
            Group::Require,
            Signal::None,
            Challenge,
            &["required_group", "mfa_required"],
            None,
        );
        check(
            Mode::Optional,
            Enrolled::No,
            Group::Require,
            Signal::None,
            Enroll,
            &["required_group", "not_enrolled"],
            None,
        );
        check(
            Mode::Required,
            e,
            Group::Exempt,
            Signal::None,
            Allow,
            &["exempt_group"],
            Some(ByPolicy),
        );
        check(
            Mode::Adaptive,
            e,
            Group::Exempt,
            Signal::NewCountry,
            Allow,
            &["exempt_group"],
            Some(ByPolicy),
        );
        check(
            Mode::Adaptive,
            e,
            Group::None,
            Signal::NewCountry,
            Challenge,
            &["new_country"],
            None,
        );
        check(
            Mode::Required,
            e,
            Group::None,
            Signal::NewCountry,
            Allow,
            &["trusted_device"],
            Some(TrustedDevice),
        );
        check(
            Mode::Required,
            e,
            Group::Both,
            Signal::None,
            Challenge,
            &["required_group", "mfa_required"],
            None,
        );
        // trusted device
        check(
            Mode::Required,
            e,
            Group::None,
            Signal::TrustedDevice,
            Allow,
            &["trusted_device"],
            Some(TrustedDevice),
        );
        check(
            Mode::Optional,
            e,
            Group::None,
            Signal::TrustedDevice,
            Allow,
            &["trusted_device"],
            Some(TrustedDevice),
        );
        check(
            Mode::Required,
            Enrolled::No,
            Group::None,
            Signal::TrustedDevice,
            Enroll,
            &["not_enrolled"],
            None,
        );
        // adaptive signals
        check(
            Mode::Adaptive,
            e,
            Group::None,
            Signal::None,
            Challenge,
            &["new_device"],
            None,
        );
        check(
            Mode::Adaptive,
            e,
            Group::None,
            Signal::TrustedNetwork,
            Allow,
            &["trusted_network"],
            Some(ByPolicy),
        );
        check(
            Mode::Adaptive,
            e,
            Group::None,
            Signal::KnownCountry,
            Allow,
            &["trusted_device"],
            Some(TrustedDevice),
        );
        check(
            Mode::Adaptive,
            e,
            Group::None,
            Signal::DeniedCountry,
            Deny,
            &["denied_country"],
            None,
        );
        check(
            Mode::Required,
            e,
            Group::None,
            Signal::DeniedCountry,
            Allow,
            &["trusted_device"],
            Some(TrustedDevice),
        );
        check(
            Mode::Adaptive,
            e,
            Group::Require,
            Signal::TrustedNetwork,
            Challenge,
            &["required_group", "mfa_required"],
            None,
        );
        // A require group in an adaptive tenant: a remembered device from a new
        // country is still challenged; from a known one it is remembered.
        check(
            Mode::Adaptive,
            e,
            Group::Require,
            Signal::NewCountry,
            Challenge,
            &["required_group", "new_country"],
            None,
        );
        check(
            Mode::Adaptive,
            e,
            Group::Require,
            Signal::KnownCountry,
            Allow,
            &["required_group", "trusted_device"],
            Some(TrustedDevice),
        );
    }

    #[test]
    fn adaptive_new_country_and_device() {
        let mut p = policy(Mode::Adaptive);
        let known = vec!["DE".to_string()];
        let subject = Subject {
            has_factor: true,
            first_seen: NOW,
            bypass_until: None,
            groups: &[],
            known_countries: &known,
            required_by: None,
        };
        let fr = Signals {
            ip: None,
            country: Some("FR"),
            trusted_device: false,
        };
        assert_eq!(
            decide(&p, &subject, &fr, NOW).reasons,
            ["new_country", "new_device"]
        );
        p.adaptive.challenge_new_device = false;
        assert_eq!(decide(&p, &subject, &fr, NOW).reasons, ["new_country"]);
        p.adaptive.challenge_new_country = false;
        let d = decide(&p, &subject, &fr, NOW);
        assert_eq!(
            (d.action, d.reasons.as_slice()),
            (Action::Allow, ["no_risk_signal".to_string()].as_slice())
        );
        // Remember-device disabled: a device token counts for nothing.
        let mut q = policy(Mode::Required);
        q.remember_device.enabled = false;
        let device = Signals {
            ip: None,
            country: None,
            trusted_device: true,
        };
        assert_eq!(decide(&q, &subject, &device, NOW).action, Action::Challenge);
    }

    #[test]
    fn grace_deadline_boundaries() {
        let p = Policy {
            grace_period_days: 3,
            ..Policy::default()
        };
        let first_seen = NOW;
        let subject = Subject {
            has_factor: false,
            first_seen,
            bypass_until: None,
            groups: &[],
            known_countries: &[],
            required_by: None,
        };
        let deadline = first_seen + 3 * DAY;
        assert_eq!(
            enrollment(&p, &subject, deadline - 1),
            Enrollment {
                state: EnrollmentState::Grace,
                deadline: Some(deadline)
            }
        );
        assert_eq!(
            enrollment(&p, &subject, deadline),
            Enrollment {
                state: EnrollmentState::Expired,
                deadline: Some(deadline)
            }
        );
        assert_eq!(
            enrollment(&p, &subject, first_seen).state,
            EnrollmentState::Grace
        );
        let none = Policy {
            grace_period_days: 0,
            ..Policy::default()
        };
        assert_eq!(
            enrollment(&none, &subject, first_seen).state,
            EnrollmentState::NotEnrolled
        );
        let max = Policy {
            grace_period_days: 365,
            ..Policy::default()
        };
        assert_eq!(
            enrollment(
                &max,
                &Subject {
                    first_seen: u64::MAX - 10,
                    ..subject
                },
                NOW
            )
            .deadline,
            Some(u64::MAX)
        );
        // A bypass that has ended no longer counts.
        let ended = Subject {
            bypass_until: Some(NOW),
            ..subject
        };
        assert_eq!(enrollment(&p, &ended, NOW).state, EnrollmentState::Grace);
        let active = Subject {
            bypass_until: Some(NOW + 1),
            ..subject
        };
        assert_eq!(
            enrollment(&p, &active, NOW),
            Enrollment {
                state: EnrollmentState::Bypassed,
                deadline: Some(NOW + 1)
            }
        );
    }
}
