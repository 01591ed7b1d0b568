//! Failed-verification counting: `max_failures` within a sliding `window_seconds`
//! locks the user out of every verification until the oldest of those failures
//! leaves the window. While locked nothing is evaluated, not even the right code,
//! so a locked account gives a guesser no signal at all.

use serde::{Deserialize, Serialize};

use crate::policy::Lockout;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Failures(Vec<u64>);

impl Failures {
    /// Seconds until verification may be tried again, or `None` if it may now.
    pub fn locked_for(&self, policy: &Lockout, now: u64) -> Option<u64> {
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
        self.forget_old(policy, now);
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
