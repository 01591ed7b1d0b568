//! Failed-verification counting: `max_failures` within a sliding `window_seconds`
//! locks the user out of every verification until the oldest of those failures
//! leaves the window. While locked nothing is evaluated, not even the right code,
//! so a locked account gives a guesser no signal at all.
//!
//! Whatever the policy says, at most [`MAX_FAILURES_PER_HOUR`] failures are evaluated
//! in any hour (OWASP ASVS V2.2.1): the policy validation refuses looser settings,
//! and this module holds the line for a record stored under an older policy.

use serde::{Deserialize, Serialize};

use crate::policy::Lockout;

/// The ceiling no policy can raise: failed guesses evaluated per account per hour.
pub const MAX_FAILURES_PER_HOUR: u32 = 100;
const HOUR: u64 = 3_600;

/// The hard ceiling as a sliding window of its own.
const CEILING: Lockout = Lockout {
    max_failures: MAX_FAILURES_PER_HOUR,
    window_seconds: HOUR,
};

impl Lockout {
    /// The most failures this setting lets a guesser have evaluated in one hour:
    /// `max_failures` in each of the `ceil(3600 / window_seconds)` windows an hour
    /// spans.
    pub fn failures_per_hour(&self) -> u64 {
        let windows = HOUR.div_ceil(self.window_seconds.max(1));
        u64::from(self.max_failures).saturating_mul(windows)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Failures(Vec<u64>);

impl Failures {
    /// Seconds until verification may be tried again, or `None` if it may now:
    /// the later of the policy's window and the hourly ceiling.
    pub fn locked_for(&self, policy: &Lockout, now: u64) -> Option<u64> {
        let by_policy = self.locked_by(policy, now);
        let by_ceiling = self.locked_by(&CEILING, now);
        by_policy.max(by_ceiling)
    }

    fn locked_by(&self, policy: &Lockout, now: u64) -> Option<u64> {
        let recent: Vec<u64> = self.recent(policy, now).collect();
        if recent.len() < policy.max_failures as usize {
            return None;
        }
        // The window reopens when enough failures have aged out of it.
        let excess = recent.len() + 1 - policy.max_failures as usize;
        let mut sorted = recent;
        sorted.sort_unstable();
        let unlock_at = sorted
            .get(excess - 1)
            .map_or(now, |t| t + policy.window_seconds);
        Some(unlock_at.saturating_sub(now).max(1))
    }

    pub fn record(&mut self, policy: &Lockout, now: u64) {
        // Kept for the longer of the policy's window and the ceiling's hour.
        let keep = Lockout {
            window_seconds: policy.window_seconds.max(HOUR),
            ..*policy
        };
        self.forget_old(&keep, now);
        self.0.push(now);
    }

    /// A success wipes the slate.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn count(&self, policy: &Lockout, now: u64) -> usize {
        self.recent(policy, now).count()
    }

    fn recent<'a>(&'a self, policy: &Lockout, now: u64) -> impl Iterator<Item = u64> + 'a {
        let since = now.saturating_sub(policy.window_seconds);
        self.0.iter().copied().filter(move |&t| t > since)
    }

    fn forget_old(&mut self, policy: &Lockout, now: u64) {
        let since = now.saturating_sub(policy.window_seconds);
        self.0.retain(|&t| t > since);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Lockout = Lockout {
        max_failures: 3,
        window_seconds: 60,
    };

    #[test]
    fn locks_at_the_limit_and_unlocks_when_the_oldest_ages_out() {
        let mut f = Failures::default();
        f.record(&POLICY, 100);
        f.record(&POLICY, 110);
        assert_eq!(f.locked_for(&POLICY, 111), None);
        f.record(&POLICY, 120);
        assert_eq!(f.locked_for(&POLICY, 121), Some(39)); // 100 + 60 - 121
        assert_eq!(f.locked_for(&POLICY, 159), Some(1));
        assert_eq!(f.locked_for(&POLICY, 160), None);
        f.clear();
        assert_eq!(f.count(&POLICY, 160), 0);
    }

    #[test]
    fn old_failures_are_forgotten() {
        let mut f = Failures::default();
        for t in [0, 10, 20] {
            f.record(&POLICY, t);
        }
        f.record(&POLICY, 1000);
        assert_eq!(f.count(&POLICY, 1000), 1);
        assert_eq!(f.locked_for(&POLICY, 1000), None);
    }

    #[test]
    fn no_policy_gets_more_than_the_hourly_ceiling() {
        // A policy stored before the ceiling existed: 100 per minute.
        let loose = Lockout {
            max_failures: 100,
            window_seconds: 60,
        };
        assert_eq!(loose.failures_per_hour(), 6_000);
        let mut f = Failures::default();
        let start = 1_000;
        let mut t = start;
        // 100 failures spread over the hour never trip the per-minute window...
        for _ in 0..MAX_FAILURES_PER_HOUR {
            assert_eq!(f.locked_by(&loose, t), None);
            f.record(&loose, t);
            t += 35;
        }
        // ...but the ceiling locks until the first of them is an hour old.
        assert_eq!(f.locked_for(&loose, t), Some(start + HOUR - t));
        assert_eq!(f.locked_for(&loose, start + HOUR), None);
    }

    #[test]
    fn failures_per_hour_counts_every_window_an_hour_spans() {
        let p = |max_failures, window_seconds| Lockout {
            max_failures,
            window_seconds,
        };
        assert_eq!(p(5, 900).failures_per_hour(), 20);
        assert_eq!(p(100, 3600).failures_per_hour(), 100);
        assert_eq!(p(100, 86_400).failures_per_hour(), 100);
        assert_eq!(p(10, 700).failures_per_hour(), 60);
        assert_eq!(p(26, 900).failures_per_hour(), 104);
    }

    #[test]
    fn a_lowered_limit_applies_at_once() {
        let mut f = Failures::default();
        for t in [100, 101, 102, 103] {
            f.record(
                &Lockout {
                    max_failures: 10,
                    window_seconds: 60,
                },
                t,
            );
        }
        // Four failures against a limit of three: locked until two have aged out.
        assert_eq!(f.locked_for(&POLICY, 104), Some(57)); // 101 + 60 - 104
    }
}
