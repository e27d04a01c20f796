//! Network values: IP addresses and CIDR blocks (IPv4 and IPv6), parsed strictly and matched
//! exactly. Shared by query validation, the local engine's `cidr_contains` function and tests.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A CIDR block such as `10.0.0.0/8` or `2001:db8::/32`. A bare address is a block of one
/// (`/32` or `/128`). Host bits below the prefix are ignored when matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    /// The network address as written.
    pub addr: IpAddr,
    /// Prefix length in bits.
    pub prefix: u8,
}

/// Why a CIDR text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The address part is not an IPv4 or IPv6 address.
    #[error("not an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or 2001:db8::/32")]
    Address,
    /// The prefix length is missing, not a number, or too long for the address family.
    #[error("the prefix length must be a whole number from 0 to {max} for this address family")]
    Prefix {
        /// Longest prefix of the family (32 or 128).
        max: u8,
    },
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `x::y/n` or a bare address.
    pub fn parse(text: &str) -> Result<Self, CidrError> {
        let text = text.trim();
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr = IpAddr::from_str(addr_text).map_err(|_| CidrError::Address)?;
        let max = max_prefix(addr);
        let prefix = match prefix_text {
            None => max,
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                let n: u8 = p.parse().map_err(|_| CidrError::Prefix { max })?;
                if n > max {
                    return Err(CidrError::Prefix { max });
                }
                n
            }
            Some(_) => return Err(CidrError::Prefix { max }),
        };
        Ok(Cidr { addr, prefix })
    }

    /// The block with its host bits cleared (`10.0.1.5/16` → `10.0.0.0/16`): the form Trino
    /// accepts (it refuses a block with host bits).
    pub fn network(&self) -> Cidr {
        let addr = match self.addr {
            IpAddr::V4(a) => IpAddr::V4((u32::from(a) & mask_u32(self.prefix)).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a) & mask_u128(self.prefix)).into()),
        };
        Cidr {
            addr,
            prefix: self.prefix,
        }
    }

    /// Whether the block is IPv6.
    pub fn is_v6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// Whether the block holds exactly one address (`/32`, `/128`).
    pub fn is_single_address(&self) -> bool {
        self.prefix == max_prefix(self.addr)
    }

    /// Whether `ip` lies inside the block. Addresses of the other family never match.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = mask_u32(self.prefix);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = mask_u128(self.prefix);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn mask_u32(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

fn mask_u128(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

/// The private and special-purpose blocks that never count as internet traffic: RFC 1918,
/// carrier-grade NAT, loopback, link-local, IPv6 unique-local and link-local.
pub const NON_PUBLIC_BLOCKS: [&str; 9] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
];

/// Whether an address is a public (internet) address: outside every [`NON_PUBLIC_BLOCKS`] entry.
pub fn is_public(ip: IpAddr) -> bool {
    !NON_PUBLIC_BLOCKS
        .iter()
        .any(|b| Cidr::parse(b).map(|c| c.contains(ip)).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn matches_ipv4_and_ipv6_blocks() {
        let cases = [
            ("10.0.0.0/8", "10.255.1.2", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("10.1.2.3/16", "10.1.200.1", true),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("203.0.113.9", "203.0.113.9", true),
            ("203.0.113.9", "203.0.113.10", false),
            ("172.16.0.0/12", "172.31.255.255", true),
            ("172.16.0.0/12", "172.32.0.0", false),
            ("2001:db8::/32", "2001:db8:1::5", true),
            ("2001:db8::/32", "2001:db9::5", false),
            ("2001:db8::/32", "10.0.0.1", false),
            ("10.0.0.0/8", "::ffff:10.0.0.1", false),
        ];
        for (block, addr, want) in cases {
            assert_eq!(
                Cidr::parse(block).unwrap().contains(ip(addr)),
                want,
                "{block} ∋ {addr}"
            );
        }
    }

    #[test]
    fn refuses_bad_blocks() {
        assert_eq!(
            Cidr::parse("10.0.0.0/33"),
            Err(CidrError::Prefix { max: 32 })
        );
        assert_eq!(Cidr::parse("10.0.0.0/"), Err(CidrError::Prefix { max: 32 }));
        assert_eq!(
            Cidr::parse("10.0.0.0/+8"),
            Err(CidrError::Prefix { max: 32 })
        );
        assert_eq!(Cidr::parse("::/129"), Err(CidrError::Prefix { max: 128 }));
        assert_eq!(Cidr::parse("10.0.0/8"), Err(CidrError::Address));
        assert_eq!(Cidr::parse("10.0.0.1'--"), Err(CidrError::Address));
        assert_eq!(
            Cidr::parse("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert!(Cidr::parse("8.8.8.8").unwrap().is_single_address());
    }

    #[test]
    fn public_addresses() {
        assert!(is_public(ip("8.8.8.8")));
        assert!(!is_public(ip("10.1.2.3")));
        assert!(!is_public(ip("100.64.0.1")));
        assert!(!is_public(ip("fd00::1")));
        assert!(is_public(ip("2600:1f18::1")));
    }
}
