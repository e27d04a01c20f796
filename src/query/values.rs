//! Validated user values: every one of them is checked here before it can reach a plan.

use std::fmt;

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// Accepts exactly 12 ASCII digits.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(text.to_string()))
        } else {
            Err("an AWS account id is 12 digits, e.g. 111122223333".to_string())
        }
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An AWS region name such as `us-east-1` or `us-gov-west-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(String);

impl Region {
    /// Accepts `<area>-[gov-|iso-…]<direction>-<digit>` in lower case.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split('-').collect();
        let ok = parts.len() >= 3
            && parts.len() <= 4
            && parts[..parts.len() - 1].iter().all(|p| {
                !p.is_empty() && p.len() <= 12 && p.bytes().all(|b| b.is_ascii_lowercase())
            })
            && parts[parts.len() - 1].len() == 1
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(Region(text.to_string()))
        } else {
            Err("an AWS region looks like us-east-1".to_string())
        }
    }

    /// The region name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An EC2 resource id with a known prefix: `vpc-…`, `subnet-…`, `eni-…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(String);

impl ResourceId {
    /// Accepts `<prefix>-` followed by 8 to 17 lower-case hex digits.
    pub fn parse(text: &str, prefix: &str) -> Result<Self, String> {
        let ok = text
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|hex| {
                (8..=17).contains(&hex.len())
                    && hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            });
        if ok {
            Ok(ResourceId(text.to_string()))
        } else {
            Err(format!(
                "expected a {prefix} id: {prefix}- and 8 to 17 hex digits, e.g. {prefix}-0a1b2c3d4e5f60718"
            ))
        }
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA protocol number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Protocol(pub u8);

impl Protocol {
    /// Accepts a number 0–255 or a name: tcp, udp, icmp, icmpv6, gre, esp.
    pub fn parse(text: &str) -> Result<Self, String> {
        let named = match text.to_ascii_lowercase().as_str() {
            "tcp" => Some(6),
            "udp" => Some(17),
            "icmp" => Some(1),
            "icmpv6" => Some(58),
            "gre" => Some(47),
            "esp" => Some(50),
            _ => None,
        };
        named
            .or_else(|| text.parse::<u8>().ok())
            .map(Protocol)
            .ok_or_else(|| {
                "expected a protocol number 0-255 or one of tcp, udp, icmp, icmpv6, gre, esp"
                    .to_string()
            })
    }

    /// The conventional name of well-known protocol numbers.
    pub fn name(number: i64) -> Option<&'static str> {
        match number {
            1 => Some("ICMP"),
            6 => Some("TCP"),
            17 => Some("UDP"),
            47 => Some("GRE"),
            50 => Some("ESP"),
            58 => Some("ICMPv6"),
            _ => None,
        }
    }
}

/// The flow-log `action` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowActionFilter {
    /// ACCEPT (OCSF Allowed, id 1).
    Accept,
    /// REJECT (OCSF Denied/Blocked, id 2).
    Reject,
}

impl FlowActionFilter {
    /// Accepts accept/allowed or reject/denied/blocked, in any case.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "accept" | "allowed" | "allow" => Ok(FlowActionFilter::Accept),
            "reject" | "denied" | "deny" | "blocked" => Ok(FlowActionFilter::Reject),
            _ => Err("expected ACCEPT or REJECT".to_string()),
        }
    }

    /// The OCSF action/disposition id.
    pub fn id(self) -> i32 {
        match self {
            FlowActionFilter::Accept => 1,
            FlowActionFilter::Reject => 2,
        }
    }
}

/// The flow-log `flow-direction` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowDirectionFilter {
    /// ingress (OCSF Inbound, id 1).
    Ingress,
    /// egress (OCSF Outbound, id 2).
    Egress,
}

impl FlowDirectionFilter {
    /// Accepts ingress/inbound or egress/outbound, in any case.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "ingress" | "inbound" => Ok(FlowDirectionFilter::Ingress),
            "egress" | "outbound" => Ok(FlowDirectionFilter::Egress),
            _ => Err("expected ingress or egress".to_string()),
        }
    }

    /// The OCSF direction id.
    pub fn id(self) -> i32 {
        match self {
            FlowDirectionFilter::Ingress => 1,
            FlowDirectionFilter::Egress => 2,
        }
    }
}

/// Parses a port 0–65535.
pub fn parse_port(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .map_err(|_| "expected a port number from 0 to 65535".to_string())
}

/// Traffic-path boundaries by name (flow-log `traffic-path` meaning) or id.
const BOUNDARIES: [(i32, &str); 9] = [
    (0, "unknown"),
    (1, "same vpc"),
    (2, "intra-region vpc"),
    (3, "inter-region vpc"),
    (4, "virtual private gateway"),
    (5, "internet gateway"),
    (6, "intra-region vpc peering"),
    (7, "inter-region vpc peering"),
    (8, "local gateway"),
];

/// Parses a traffic-path boundary name or id.
pub fn parse_boundary(text: &str) -> Result<i32, String> {
    let lower = text.to_ascii_lowercase();
    BOUNDARIES
        .iter()
        .find(|(id, name)| *name == lower || id.to_string() == lower)
        .map(|(id, _)| *id)
        .ok_or_else(|| {
            format!(
                "expected a traffic-path boundary id 0-8 or one of: {}",
                BOUNDARIES.map(|(_, n)| n).join(", ")
            )
        })
}

/// Parses an AWS service name as AWS's published address ranges write it (`S3`, `DYNAMODB`,
/// `AMAZON`, `EC2_INSTANCE_CONNECT`), in any case.
pub fn parse_aws_service(text: &str) -> Result<String, String> {
    let name = text.trim().to_ascii_uppercase();
    let valid = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(name)
    } else {
        Err("expected an AWS service name as AWS's address ranges write it: letters, digits and _ (e.g. S3, DYNAMODB, AMAZON)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_reject_anything_that_could_carry_sql() {
        for bad in [
            "111122223333'",
            "11112222333",
            "1111 2222 3333",
            "１１１１２２２２３３３３",
        ] {
            assert!(AccountId::parse(bad).is_err(), "{bad}");
        }
        for bad in [
            "us-east-1'--",
            "US-EAST-1",
            "us-east",
            "us-east-1;drop",
            "us‐east‐1",
        ] {
            assert!(Region::parse(bad).is_err(), "{bad}");
        }
        assert!(Region::parse("us-gov-west-1").is_ok());
        assert!(ResourceId::parse("vpc-0a1b2c3d", "vpc").is_ok());
        assert!(ResourceId::parse("vpc-0a1b2c3d'", "vpc").is_err());
        assert!(ResourceId::parse("subnet-0a1b2c3d", "vpc").is_err());
        assert_eq!(Protocol::parse("TCP"), Ok(Protocol(6)));
        assert!(Protocol::parse("256").is_err());
        assert_eq!(parse_boundary("Internet Gateway"), Ok(5));
        assert_eq!(parse_aws_service(" s3 "), Ok("S3".into()));
        assert_eq!(
            parse_aws_service("S3' OR 1=1"),
            Err("expected an AWS service name as AWS's address ranges write it: letters, digits and _ (e.g. S3, DYNAMODB, AMAZON)".into())
        );
    }
}
