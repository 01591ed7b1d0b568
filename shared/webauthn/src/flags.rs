//! The flags byte of authenticator data (WebAuthn §6.1, bit 0 = least significant).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Flags(u8);

impl Flags {
    /// User Present.
    pub const UP: Flags = Flags(0x01);
    /// User Verified.
    pub const UV: Flags = Flags(0x04);
    /// Backup Eligibility: the credential may be synced (a multi-device passkey).
    pub const BE: Flags = Flags(0x08);
    /// Backup State: the credential is currently backed up.
    pub const BS: Flags = Flags(0x10);
    /// Attested credential data included.
    pub const AT: Flags = Flags(0x40);
    /// Extension data included.
    pub const ED: Flags = Flags(0x80);

    pub const fn from_bits(bits: u8) -> Flags {
        Flags(bits)
    }

    pub const fn bits(self) -> u8 {
        self.0
    }

    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl std::fmt::Debug for Flags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = [
            (Flags::UP, "UP"),
            (Flags::UV, "UV"),
            (Flags::BE, "BE"),
            (Flags::BS, "BS"),
            (Flags::AT, "AT"),
            (Flags::ED, "ED"),
        ];
        let set: Vec<&str> = names
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, n)| *n)
            .collect();
        write!(f, "Flags({:#04x} {})", self.0, set.join("|"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromium_flags() {
        // Chromium's virtual authenticator: 0x45 at registration, 0x05 on assertions.
        let reg = Flags::from_bits(0x45);
        assert!(reg.contains(Flags::UP | Flags::UV | Flags::AT));
        assert!(!reg.contains(Flags::BE) && !reg.contains(Flags::ED));
        assert_eq!(format!("{reg:?}"), "Flags(0x45 UP|UV|AT)");
        assert!(!Flags::from_bits(0x05).contains(Flags::AT));
    }
}
