//! The query language of `GET …/Recordings.json`: filters, page size, and Twilio-style paging
//! with `Page` + `PageToken`, and the page URIs that keep the filters.
//!
//! Date filters follow the parameter description in the 2010-04-01 spec: `DateCreated=D`
//! means created on day D (GMT); `DateCreated<=D` "on or before midnight of this date" and
//! `DateCreated>=D` "on or after midnight of this date". Both inequalities are read as
//! inclusive of day D, so `>=D&<=D` equals `=D`. A full date-time value (`2024-05-01T12:00:00Z`,
//! what some helper libraries send) compares instants, still inclusively.

use chrono::{DateTime, NaiveDate, Utc};

use super::error::TwilioError;
use crate::resources::{RecordingResource, API_VERSION};
use crate::state::{PageStart, RecordingKey};

pub(crate) const DEFAULT_PAGE_SIZE: usize = 50;
pub(crate) const MAX_PAGE_SIZE: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateBound {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

impl DateBound {
    fn parse(name: &str, value: &str) -> Result<Self, TwilioError> {
        if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            return Ok(Self::Day(day));
        }
        DateTime::parse_from_rfc3339(value)
            .map(|at| Self::Instant(at.with_timezone(&Utc)))
            .map_err(|_| TwilioError::invalid_parameter(format!("{name} must be a date as YYYY-MM-DD, got {value:?}")))
    }

    fn day(self) -> NaiveDate {
        match self {
            Self::Day(day) => day,
            Self::Instant(at) => at.date_naive(),
        }
    }
}

/// A page position: after a key (`PA…`, next pages) or before one (`PB…`, previous pages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PageToken {
    After(RecordingKey),
    Before(RecordingKey),
}

impl PageToken {
    /// `PA` or `PB`, then the position itself, so a token stays valid however the list grows.
    pub fn encode(&self) -> String {
        let (tag, key) = match self {
            Self::After(key) => ("PA", key),
            Self::Before(key) => ("PB", key),
        };
        format!("{tag}{}-{}", key.created, key.sid)
    }

    fn decode(token: &str) -> Option<Self> {
        let (tag, rest) = (token.get(..2)?, token.get(2..)?);
        let (created, sid) = rest.split_once('-')?;
        let key = RecordingKey { created: created.parse().ok()?, sid: sid.to_owned() };
        match tag {
            "PA" => Some(Self::After(key)),
            "PB" => Some(Self::Before(key)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ListQuery {
    /// The filters as given, in a fixed order, to repeat in page URIs.
    filters: Vec<(&'static str, String)>,
    created_on: Option<DateBound>,
    created_on_or_before: Option<DateBound>,
    created_on_or_after: Option<DateBound>,
    call_sid: Option<String>,
    conference_sid: Option<String>,
    include_deleted: bool,
    pub page_size: usize,
    pub page: usize,
    pub token: Option<PageToken>,
}

/// Filter names in the order they are written back into page URIs.
const FILTERS: [&str; 6] =
    ["CallSid", "ConferenceSid", "DateCreated", "DateCreated<", "DateCreated>", "IncludeSoftDeleted"];

impl ListQuery {
    /// Parses a raw query string. Unknown parameters are ignored, as Twilio does; for a
    /// repeated parameter the last value wins.
    pub fn parse(raw_query: Option<&str>) -> Result<Self, TwilioError> {
        let mut query = Self { page_size: DEFAULT_PAGE_SIZE, ..Self::default() };
        let pairs = url::form_urlencoded::parse(raw_query.unwrap_or("").as_bytes());
        for (name, value) in pairs {
            let value = value.into_owned();
            match name.as_ref() {
                "DateCreated" => query.created_on = Some(DateBound::parse(&name, &value)?),
                "DateCreated<" => {
                    query.created_on_or_before = Some(DateBound::parse(&name, &value)?);
                }
                "DateCreated>" => {
                    query.created_on_or_after = Some(DateBound::parse(&name, &value)?);
                }
                "CallSid" => query.call_sid = Some(value.clone()),
                "ConferenceSid" => query.conference_sid = Some(value.clone()),
                "IncludeSoftDeleted" => query.include_deleted = parse_bool(&name, &value)?,
                "PageSize" => query.page_size = parse_page_size(&value)?,
                "Page" => {
                    query.page = value.parse().map_err(|_| {
                        TwilioError::invalid_parameter(format!("Page must be an integer >= 0, got {value:?}"))
                    })?;
                }
                "PageToken" => {
                    query.token = Some(
                        PageToken::decode(&value)
                            .ok_or_else(|| TwilioError::invalid_parameter(format!("Invalid PageToken {value:?}")))?,
                    );
                }
                _ => continue,
            }
            if let Some(filter) = FILTERS.iter().find(|f| **f == name) {
                query.filters.retain(|(n, _)| n != filter);
                query.filters.push((filter, value));
            }
        }
        query.filters.sort_by_key(|(name, _)| FILTERS.iter().position(|f| f == name));
        Ok(query)
    }

    pub fn start(&self) -> PageStart<'_> {
        match &self.token {
            Some(PageToken::After(key)) => PageStart::After(key),
            Some(PageToken::Before(key)) => PageStart::Before(key),
            // Without a token `Page` is a plain offset, as Twilio's legacy paging was.
            None => PageStart::Offset(self.page.saturating_mul(self.page_size)),
        }
    }

    /// Whether a recording passes every filter.
    pub fn matches(&self, r: &RecordingResource) -> bool {
        let day = r.date_created.date_naive();
        (self.include_deleted || !r.is_deleted())
            && self.call_sid.as_ref().is_none_or(|sid| *sid == r.call_sid)
            && self.conference_sid.as_ref().is_none_or(|sid| r.conference_sid.as_ref() == Some(sid))
            && self.created_on.is_none_or(|bound| day == bound.day())
            && self.created_on_or_before.is_none_or(|bound| match bound {
                DateBound::Day(d) => day <= d,
                DateBound::Instant(at) => r.date_created <= at,
            })
            && self.created_on_or_after.is_none_or(|bound| match bound {
                DateBound::Day(d) => day >= d,
                DateBound::Instant(at) => r.date_created >= at,
            })
    }

    /// `/2010-04-01/Accounts/AC…/Recordings.json?<filters>&PageSize=…&Page=…[&PageToken=…]`.
    pub fn page_uri(&self, account_sid: &str, page: usize, token: Option<&PageToken>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.filters {
            query.append_pair(name, value);
        }
        query.append_pair("PageSize", &self.page_size.to_string());
        query.append_pair("Page", &page.to_string());
        if let Some(token) = token {
            query.append_pair("PageToken", &token.encode());
        }
        format!("/{API_VERSION}/Accounts/{account_sid}/Recordings.json?{}", query.finish())
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool, TwilioError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(TwilioError::invalid_parameter(format!("{name} must be true or false, got {value:?}")))
    }
}

fn parse_page_size(value: &str) -> Result<usize, TwilioError> {
    match value.parse::<usize>() {
        Ok(size) if (1..=MAX_PAGE_SIZE).contains(&size) => Ok(size),
        _ => Err(TwilioError::invalid_parameter(format!(
            "PageSize must be between 1 and {MAX_PAGE_SIZE}, got {value:?}"
        ))),
    }
}

#[cfg(test)]
mod tests;
