//! Twilio resource identifiers: a two-letter prefix naming the resource
//! kind followed by 32 hexadecimal digits (`CA…` calls, `RE…` recordings,
//! `AC…` accounts). Parsing rejects anything else, so a SID that reaches the
//! database or a URL path is known to be safe to use there.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SidError {
    #[error("{kind} must start with {prefix:?} followed by 32 hexadecimal digits")]
    Malformed { kind: &'static str, prefix: &'static str },
}

fn is_valid(value: &str, prefix: &str) -> bool {
    value.len() == 34 && value.starts_with(prefix) && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

macro_rules! sid_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn parse(value: &str) -> Result<Self, SidError> {
                let value = value.trim();
                if is_valid(value, $prefix) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(SidError::Malformed { kind: $kind, prefix: $prefix })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = SidError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

sid_type!(
    /// `CallSid` of a call leg (`CA…`).
    CallSid, "CA", "CallSid"
);
sid_type!(
    /// `RecordingSid` (`RE…`).
    RecordingSid, "RE", "RecordingSid"
);
sid_type!(
    /// `AccountSid` (`AC…`).
    AccountSid, "AC", "AccountSid"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_a_real_shaped_sid() {
        let sid = CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(sid.as_str(), "CA0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn rejects_wrong_prefix_length_and_path_tricks() {
        for bad in [
            "",
            "RE0123456789abcdef0123456789abcdef",
            "CA0123456789abcdef0123456789abcde",
            "CA0123456789abcdef0123456789abcdef0",
            "CA../../../../etc/passwd00000000000",
            "CA0123456789abcdef0123456789abcdeg",
        ] {
            assert!(CallSid::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn any_32_hex_digits_parse_and_round_trip(hex in "[0-9a-f]{32}") {
            let raw = format!("RE{hex}");
            let sid = RecordingSid::parse(&raw).unwrap();
            prop_assert_eq!(sid.to_string(), raw);
        }

        #[test]
        fn arbitrary_text_never_panics(s in ".*") {
            let _ = AccountSid::parse(&s);
        }
    }
}
