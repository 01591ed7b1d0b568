//! IP prefixes (RFC 4632 for IPv4, RFC 4291 §2.3 for IPv6) for the policy's
//! `trusted_networks`.

use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr/prefix`. Host bits may be set (`10.1.2.3/8` means `10.0.0.0/8`).
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = text.split_once('/')?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) || prefix.len() > 3 {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let network: IpAddr = addr.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { network, prefix })
    }

    /// Whether the prefix covers a large part of the Internet: shorter than /8
    /// (IPv4) or /16 (IPv6). `0.0.0.0/0` would make every address "trusted".
    pub fn is_too_broad(&self) -> bool {
        self.prefix < if self.network.is_ipv4() { 8 } else { 16 }
    }

    /// Whether `ip` lies in this prefix. An IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`) is compared as the IPv4 address it carries.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                32,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(u128::from(net), u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn same_prefix(a: u128, b: u128, width: u32, prefix: u8) -> bool {
    let prefix = u32::from(prefix);
    if prefix == 0 {
        return true;
    }
    let shift = width - prefix;
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_edges() {
        let net = Cidr::parse("192.168.4.0/22").unwrap();
        assert!(net.contains(ip("192.168.4.0")));
        assert!(net.contains(ip("192.168.7.255")));
        assert!(!net.contains(ip("192.168.3.255")));
        assert!(!net.contains(ip("192.168.8.0")));
        assert!(Cidr::parse("10.1.2.3/32").unwrap().contains(ip("10.1.2.3")));
        assert!(!Cidr::parse("10.1.2.3/32").unwrap().contains(ip("10.1.2.4")));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("255.255.255.255"))
        );
        assert!(
            Cidr::parse("10.9.9.9/8").unwrap().contains(ip("10.0.0.1")),
            "host bits ignored"
        );
    }

    #[test]
    fn ipv6_edges() {
        let net = Cidr::parse("2001:db8::/32").unwrap();
        assert!(net.contains(ip("2001:db8::1")));
        assert!(net.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert!(!net.contains(ip("2001:db9::")));
        assert!(!net.contains(ip("2001:db7:ffff::")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("::1")));
        let host = Cidr::parse("2001:db8::5/128").unwrap();
        assert!(host.contains(ip("2001:db8::5")) && !host.contains(ip("2001:db8::6")));
        let odd = Cidr::parse("2001:db8:8000::/33").unwrap();
        assert!(odd.contains(ip("2001:db8:8000::1")) && !odd.contains(ip("2001:db8:7fff::1")));
    }

    #[test]
    fn families_and_mapped_addresses() {
        let v4 = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(v4.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        assert!(!v4.contains(ip("2001:db8::1")));
        assert!(
            !Cidr::parse("::/0").unwrap().contains(ip("10.0.0.1")),
            "IPv6 prefix, IPv4 address"
        );
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "/8",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/0008",
        ] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }
}
