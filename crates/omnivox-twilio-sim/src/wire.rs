//! How Twilio writes values on the wire, as serde helpers: dates in RFC 2822
//! (`Fri, 14 Oct 2016 21:56:34 +0000`) and numbers such as `duration` as strings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// `Fri, 14 Oct 2016 21:56:34 +0000`, the format of every date in the 2010-04-01 API and of
/// the `Timestamp` webhook parameter.
#[must_use]
pub fn rfc2822(at: &DateTime<Utc>) -> String {
    at.to_rfc2822()
}

fn parse_rfc2822<E: serde::de::Error>(text: &str) -> Result<DateTime<Utc>, E> {
    DateTime::parse_from_rfc2822(text).map(|at| at.with_timezone(&Utc)).map_err(E::custom)
}

pub mod date {
    use super::*;

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc2822(at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        parse_rfc2822(&String::deserialize(d)?)
    }
}

pub mod opt_date {
    use super::*;

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_str(&rfc2822(at)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?.map(|text| parse_rfc2822(&text)).transpose()
    }
}

/// Twilio sends `duration` as a JSON string (`"4"`), never a number.
pub mod string_number {
    use super::*;

    pub fn serialize<S: Serializer>(value: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn dates_look_like_the_spec_examples() {
        let at = Utc.with_ymd_and_hms(2016, 10, 14, 21, 56, 34).single();
        assert_eq!(at.map(|at| rfc2822(&at)).as_deref(), Some("Fri, 14 Oct 2016 21:56:34 +0000"));
    }
}
