//! The date range of an import, as people type it: a day (`2026-02-16`,
//! the whole day in UTC) or an instant (`2026-02-16T14:30:00Z`). Both ends
//! are inclusive, as Twilio's `DateCreated>=` and `DateCreated<=` are.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

/// One end of a range as given, kept so it can be sent to Twilio as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateBound {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

impl DateBound {
    /// `YYYY-MM-DD` or an RFC 3339 date-time.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            return Some(Self::Day(day));
        }
        DateTime::parse_from_rfc3339(value).ok().map(|t| Self::Instant(t.with_timezone(&Utc)))
    }

    /// The value for Twilio's `DateCreated` filters.
    pub fn to_twilio(self) -> String {
        match self {
            Self::Day(day) => day.format("%Y-%m-%d").to_string(),
            Self::Instant(at) => at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    /// The first instant this bound admits.
    fn first_instant(self) -> DateTime<Utc> {
        match self {
            Self::Day(day) => day.and_time(NaiveTime::MIN).and_utc(),
            Self::Instant(at) => at,
        }
    }

    /// The last instant this bound admits (to the millisecond, what the database keeps).
    fn last_instant(self) -> DateTime<Utc> {
        match self {
            Self::Day(day) => {
                day.and_time(NaiveTime::MIN).and_utc() + chrono::Duration::days(1) - chrono::Duration::milliseconds(1)
            }
            Self::Instant(at) => at,
        }
    }
}

/// A closed range of creation times; an open end is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DateRange {
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// Which input was wrong, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct RangeError {
    pub field: &'static str,
    pub problem: String,
}

impl DateRange {
    /// Parses both ends; `fields` names them in errors (`dateCreatedAfter`, `--since`, …).
    pub fn parse(
        after: Option<&str>,
        before: Option<&str>,
        fields: (&'static str, &'static str),
    ) -> Result<(Self, Option<DateBound>, Option<DateBound>), RangeError> {
        let bound = |value: Option<&str>, field: &'static str| match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => DateBound::parse(v).map(Some).ok_or_else(|| RangeError {
                field,
                problem: format!("expected a date as YYYY-MM-DD or an RFC 3339 date-time, got {v:?}"),
            }),
        };
        let (a, b) = (bound(after, fields.0)?, bound(before, fields.1)?);
        let range = DateRange { after: a.map(DateBound::first_instant), before: b.map(DateBound::last_instant) };
        if let (Some(x), Some(y)) = (range.after, range.before) {
            if y < x {
                return Err(RangeError { field: fields.1, problem: format!("must not be before {}", fields.0) });
            }
        }
        Ok((range, a, b))
    }

    /// Whether two closed ranges share an instant.
    pub fn overlaps(&self, other: &DateRange) -> bool {
        let starts_before_other_ends = match (self.after, other.before) {
            (Some(a), Some(b)) => a <= b,
            _ => true,
        };
        let other_starts_before_self_ends = match (other.after, self.before) {
            (Some(a), Some(b)) => a <= b,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_self_ends
    }
}

impl std::fmt::Display for DateRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let end = |t: Option<DateTime<Utc>>| match t {
            Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            None => "…".to_owned(),
        };
        write!(f, "{} to {}", end(self.after), end(self.before))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const F: (&str, &str) = ("since", "until");

    fn range(a: Option<&str>, b: Option<&str>) -> DateRange {
        DateRange::parse(a, b, F).unwrap().0
    }

    #[test]
    fn days_cover_the_whole_day_and_instants_are_exact() {
        let r = range(Some("2026-02-16"), Some("2026-02-16"));
        assert_eq!(r.after.unwrap().to_rfc3339(), "2026-02-16T00:00:00+00:00");
        assert_eq!(r.before.unwrap().timestamp_millis() + 1, r.after.unwrap().timestamp_millis() + 86_400_000);
        let r = range(Some("2026-02-16T14:30:00+01:00"), None);
        assert_eq!(r.after.unwrap().to_rfc3339(), "2026-02-16T13:30:00+00:00");
        assert_eq!(r.before, None);
    }

    #[test]
    fn errors_name_the_field() {
        let e = DateRange::parse(Some("yesterday"), None, F).unwrap_err();
        assert_eq!(e.field, "since");
        assert!(e.to_string().contains("yesterday"), "{e}");
        let e = DateRange::parse(Some("2026-02-17"), Some("2026-02-16"), F).unwrap_err();
        assert_eq!(e.field, "until");
        assert!(DateRange::parse(Some(" "), None, F).unwrap().0 == DateRange::default());
    }

    #[test]
    fn overlap_is_inclusive_and_open_ends_are_unbounded() {
        let jan = range(Some("2026-01-01"), Some("2026-01-31"));
        let feb = range(Some("2026-02-01"), Some("2026-02-28"));
        let jan_end = range(Some("2026-01-31"), Some("2026-02-01"));
        assert!(!jan.overlaps(&feb) && !feb.overlaps(&jan));
        assert!(jan.overlaps(&jan_end) && feb.overlaps(&jan_end));
        assert!(DateRange::default().overlaps(&jan));
        assert!(range(None, Some("2026-01-01")).overlaps(&jan));
        assert!(!range(None, Some("2025-12-31")).overlaps(&jan));
    }

    #[test]
    fn bounds_are_sent_to_twilio_as_typed() {
        assert_eq!(DateBound::parse("2026-02-16").unwrap().to_twilio(), "2026-02-16");
        assert_eq!(DateBound::parse("2026-02-16T14:30:00.5Z").unwrap().to_twilio(), "2026-02-16T14:30:00Z");
    }
}
