//! E.164 phone numbers. Contacts are matched by phone number, so the same
//! number written two ways (`+1 (415) 555-0100`, `+14155550100`) must become
//! one value.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an E.164 phone number (a '+' followed by 8 to 15 digits)")]
pub struct InvalidPhoneNumber(pub String);

impl PhoneNumber {
    /// Parses an E.164 number, tolerating the usual separators (spaces,
    /// dashes, dots, parentheses). Twilio also puts `client:alice` or SIP
    /// URIs in `From`/`To`; those are not phone numbers and are rejected.
    pub fn parse(raw: &str) -> Result<Self, InvalidPhoneNumber> {
        let trimmed = raw.trim();
        let invalid = || InvalidPhoneNumber(raw.chars().take(64).collect());
        let rest = trimmed.strip_prefix('+').ok_or_else(invalid)?;
        let mut digits = String::with_capacity(16);
        digits.push('+');
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(invalid()),
            }
        }
        let count = digits.len() - 1;
        if !(8..=15).contains(&count) || digits.as_bytes()[1] == b'0' {
            return Err(invalid());
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_separators() {
        let a = PhoneNumber::parse("+1 (415) 555-0100").unwrap();
        let b = PhoneNumber::parse("+14155550100").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "+14155550100");
    }

    #[test]
    fn rejects_non_numbers() {
        for bad in [
            "",
            "+",
            "14155550100",
            "client:alice",
            "sip:bob@example.com",
            "+0123456789",
            "+1234567",
            "+1234567890123456",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn every_e164_number_round_trips(first in 1u8..=9, rest in "[0-9]{7,14}") {
            let raw = format!("+{first}{rest}");
            let parsed = PhoneNumber::parse(&raw).unwrap();
            prop_assert_eq!(parsed.as_str(), raw.as_str());
        }

        #[test]
        fn parsing_is_idempotent(s in "\\+?[0-9 ()-]{0,20}") {
            if let Ok(p) = PhoneNumber::parse(&s) {
                prop_assert_eq!(PhoneNumber::parse(p.as_str()).unwrap(), p);
            }
        }
    }
}
