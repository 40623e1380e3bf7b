//! TwiML for calls placed by agents from the Omnivox softphone: dial the
//! customer, record both sides from answer, and send the call's status and
//! recording callbacks back here with the agent and campaign attached, so
//! the call record knows both from the first callback on.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use omnivox_core::PhoneNumber;

use super::{bad_input, SignedForm, CALL_STATUS_PATH, RECORDING_STATUS_PATH};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// Campaign codes as they appear in callback URLs.
pub(super) fn campaign_code(v: &str) -> Result<String, String> {
    let ok = !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(v.to_ascii_uppercase())
    } else {
        Err(format!("{v:?} is not a campaign code (letters, digits, '-' and '_', at most 64)"))
    }
}

#[utoipa::path(
    post, path = "/api/dialer/twiml/outbound", tag = "twilio",
    description = "TwiML for a softphone call, signed with `X-Twilio-Signature`: `<Dial record=\"record-from-answer-dual\">` with callbacks carrying agent and campaign.",
    security(("twilio_signature" = [])),
    request_body(content = std::collections::HashMap<String, String>, content_type = "application/x-www-form-urlencoded", description = "Twilio's voice request parameters: To (required), From (`client:NAME`), campaignId, …"),
    responses((status = 200, description = "TwiML", content_type = "application/xml", body = String), (status = 400, response = crate::openapi::BadRequest), (status = 403, response = crate::openapi::BadSignature), (status = 503, description = "Twilio or its caller id is not configured", body = ErrorBody))
)]
pub(super) async fn outbound(State(app): State<AppState>, form: SignedForm) -> ApiResult<impl IntoResponse> {
    let twilio = app.twilio.clone().ok_or_else(|| ApiError::NotConfigured("Twilio is not configured".into()))?;
    let p = &form.params;
    let to = p
        .parse("To", |v| PhoneNumber::parse(v).map_err(|e| e.to_string()))
        .map_err(bad_input)?
        .ok_or_else(|| ApiError::BadRequest("missing required field To".into()))?;
    let caller_id = twilio
        .caller_id
        .clone()
        .ok_or_else(|| ApiError::NotConfigured("outbound calls need TWILIO_CALLER_ID".into()))?;

    // The agent is the softphone's client identity (`client:NAME`), never a
    // number the browser could choose.
    let agent = match p.get("From").and_then(|f| f.strip_prefix("client:")) {
        Some(name) => app.store.find_user_by_name(name).await?,
        None => None,
    };
    let campaign = p.parse("campaignId", campaign_code).map_err(bad_input)?;

    // Query parameters in sorted order: Twilio signs the URL as configured.
    let mut query = Vec::new();
    if let Some(a) = &agent {
        query.push(format!("agentId={}", a.id.0));
    }
    if let Some(c) = &campaign {
        query.push(format!("campaignId={c}"));
    }
    let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
    let url = |path: &str| omnivox_twilio::public_url(&twilio.public_base, &format!("{path}{query}"));

    let xml = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n<Response>\n",
            r#"  <Dial callerId="{caller}" record="record-from-answer-dual" recordingStatusCallback="{rec}" recordingStatusCallbackMethod="POST" recordingStatusCallbackEvent="in-progress completed absent">"#,
            "\n",
            r#"    <Number statusCallback="{status}" statusCallbackMethod="POST" statusCallbackEvent="initiated ringing answered completed">{to}</Number>"#,
            "\n  </Dial>\n</Response>\n"
        ),
        caller = xml_escape(&caller_id),
        rec = xml_escape(&url(RECORDING_STATUS_PATH)),
        status = xml_escape(&url(CALL_STATUS_PATH)),
        to = xml_escape(to.as_str()),
    );
    Ok(([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaign_codes_are_checked() {
        assert_eq!(campaign_code("sales-q1").unwrap(), "SALES-Q1");
        assert!(campaign_code("a b").is_err());
        assert!(campaign_code("").is_err());
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(xml_escape(r#"a&b<"c">"#), "a&amp;b&lt;&quot;c&quot;&gt;");
    }
}
