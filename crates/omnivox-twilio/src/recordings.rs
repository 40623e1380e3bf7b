//! `GET /2010-04-01/Accounts/{AccountSid}/Recordings.json`: the pages the
//! historical import and the reconciliation sweep walk.

use serde::{Deserialize, Deserializer, Serialize};

use crate::client::{json_or_error, TwilioClient, TwilioError};

/// The largest page Twilio serves.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A recording as the list describes it. Every field is nullable in the
/// API description; `duration` is a string there.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct RecordingResource {
    pub sid: Option<String>,
    pub call_sid: Option<String>,
    pub conference_sid: Option<String>,
    pub status: Option<String>,
    pub duration: Option<String>,
    pub channels: Option<i64>,
    pub source: Option<String>,
    pub track: Option<String>,
    pub start_time: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
    /// An integer in the description; some answers carry it as a string.
    #[serde(default, deserialize_with = "number_or_string")]
    pub error_code: Option<String>,
}

/// One page of the list.
#[derive(Debug, Clone, Deserialize)]
pub struct RecordingPage {
    #[serde(default)]
    pub recordings: Vec<RecordingResource>,
    /// Null on the last page; followed exactly as given.
    pub next_page_uri: Option<String>,
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// The filters of a walk; values as Twilio takes them (`YYYY-MM-DD` or RFC 3339).
#[derive(Debug, Clone, Default)]
pub struct RecordingFilter {
    pub created_on_or_after: Option<String>,
    pub created_on_or_before: Option<String>,
}

impl TwilioClient {
    /// The path and query of the first page for `filter`, `PageSize` recordings a page.
    pub fn recordings_first_page(&self, filter: &RecordingFilter, page_size: u32) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(after) = &filter.created_on_or_after {
            query.append_pair("DateCreated>", after);
        }
        if let Some(before) = &filter.created_on_or_before {
            query.append_pair("DateCreated<", before);
        }
        query.append_pair("PageSize", &page_size.clamp(1, MAX_PAGE_SIZE).to_string());
        format!("{}?{}", self.account_path("Recordings.json"), query.finish())
    }

    /// Fetches a page named by [`Self::recordings_first_page`] or by a page's
    /// `next_page_uri`. Only paths of this account's recording list are
    /// requested, so a page cannot send the client anywhere else.
    pub async fn recordings_page(&self, page_uri: &str) -> Result<RecordingPage, TwilioError> {
        let list = self.account_path("Recordings.json");
        let path = page_uri.split_once('?').map_or(page_uri, |(p, _)| p);
        if path != list {
            return Err(TwilioError::Decode(format!("refusing to follow the page URI {page_uri:?}: not {list}")));
        }
        let url = format!("{}{page_uri}", self.api_base());
        let response = self.get(&url).send().await.map_err(TwilioError::Transport)?;
        json_or_error(response).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn client() -> TwilioClient {
        TwilioClient::new("https://api.twilio.com", format!("AC{}", "a".repeat(32)), "token".to_owned().into()).unwrap()
    }

    #[test]
    fn first_page_carries_the_filters_encoded() {
        let filter = RecordingFilter {
            created_on_or_after: Some("2026-01-01".into()),
            created_on_or_before: Some("2026-01-31T23:59:59Z".into()),
        };
        let uri = client().recordings_first_page(&filter, 5000);
        assert_eq!(
            uri,
            format!(
                "/2010-04-01/Accounts/AC{}/Recordings.json?DateCreated%3E=2026-01-01&DateCreated%3C=2026-01-31T23%3A59%3A59Z&PageSize=1000",
                "a".repeat(32)
            )
        );
    }

    #[tokio::test]
    async fn foreign_page_uris_are_refused() {
        for uri in ["/2010-04-01/Accounts/ACother/Recordings.json?Page=1", "https://evil.example/x", "//evil/x"] {
            let e = client().recordings_page(uri).await.unwrap_err();
            assert!(matches!(e, TwilioError::Decode(_)), "{uri}: {e}");
        }
    }

    #[test]
    fn list_items_parse_as_the_description_shapes_them() {
        let page: RecordingPage = serde_json::from_str(
            r#"{"recordings":[{"sid":"RE1","call_sid":"CA1","status":"completed","duration":"15",
                "channels":2,"error_code":null,"start_time":"Fri, 14 Oct 2016 21:56:34 +0000","price":"-0.0025"},
                {"sid":"RE2","error_code":13227}],"next_page_uri":null,"page":0}"#,
        )
        .unwrap();
        assert_eq!(page.recordings[0].duration.as_deref(), Some("15"));
        assert_eq!(page.recordings[1].error_code.as_deref(), Some("13227"));
        assert!(page.next_page_uri.is_none());
    }
}
