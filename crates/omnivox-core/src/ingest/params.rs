//! A callback's form parameters, and the errors that make a 400.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("missing required field {0}")]
    Missing(&'static str),
    #[error("invalid {field}: {problem}")]
    Invalid { field: &'static str, problem: String },
}

/// Decoded `application/x-www-form-urlencoded` pairs. Twilio adds fields
/// without notice; unknown ones are kept (for the timeline) and ignored.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<&str, ParamError> {
        self.get(name).ok_or(ParamError::Missing(name))
    }

    pub fn parse<T, E: std::fmt::Display>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, ParamError> {
        self.get(name)
            .map(|v| parse(v.trim()).map_err(|e| ParamError::Invalid { field: name, problem: e.to_string() }))
            .transpose()
    }

    pub fn whole_number(&self, name: &'static str) -> Result<Option<i64>, ParamError> {
        self.parse(name, |v| {
            v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| format!("{v:?} is not a whole number"))
        })
    }

    pub fn time(&self, name: &'static str) -> Result<Option<DateTime<Utc>>, ParamError> {
        self.parse(name, |v| parse_time(v).ok_or_else(|| format!("{v:?} is not an RFC 2822 or RFC 3339 time")))
    }

    /// All parameters as a JSON object, for the call's timeline.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect(),
        )
    }
}

/// Twilio writes RFC 2822 (`Fri, 14 Oct 2016 21:56:34 +0000`); RFC 3339 is
/// accepted too since the format of some callback times is unverified.
pub fn parse_time(v: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(v).or_else(|_| DateTime::parse_from_rfc3339(v)).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_both_formats() {
        let a = parse_time("Fri, 14 Oct 2016 21:56:34 +0000").unwrap();
        let b = parse_time("2016-10-14T21:56:34Z").unwrap();
        assert_eq!(a, b);
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn errors_name_the_field() {
        let p = Params(vec![("RecordingDuration".into(), "abc".into()), ("Empty".into(), " ".into())]);
        assert_eq!(p.required("CallSid").unwrap_err().to_string(), "missing required field CallSid");
        assert_eq!(p.required("Empty").unwrap_err(), ParamError::Missing("Empty"));
        let e = p.whole_number("RecordingDuration").unwrap_err().to_string();
        assert!(e.contains("RecordingDuration") && e.contains("abc"), "{e}");
    }
}
