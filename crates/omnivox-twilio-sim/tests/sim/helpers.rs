//! Starting a simulator and talking to it as a Twilio client would.

use chrono::{DateTime, Utc};
use omnivox_twilio_sim::{CallSpec, SimCall, SimConfig, Simulator};
use serde_json::Value;

pub async fn start() -> Simulator {
    Simulator::start(SimConfig::default()).await.expect("simulator starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// `GET base_url + path` with the account's Basic credentials.
pub async fn get(sim: &Simulator, path: &str) -> reqwest::Response {
    get_with(sim, path, &[]).await
}

pub async fn get_with(sim: &Simulator, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request =
        client().get(format!("{}{path}", sim.base_url())).basic_auth(sim.account_sid(), Some(sim.auth_token()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request sent")
}

pub async fn get_json(sim: &Simulator, path: &str) -> (u16, Value) {
    let response = get(sim, path).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

pub async fn get_bytes(sim: &Simulator, path: &str) -> Vec<u8> {
    let response = get(sim, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.bytes().await.expect("body").to_vec()
}

pub fn recordings_path(sim: &Simulator) -> String {
    format!("/2010-04-01/Accounts/{}/Recordings.json", sim.account_sid())
}

pub fn recording_path(sim: &Simulator, sid: &str, extension: &str) -> String {
    format!("/2010-04-01/Accounts/{}/Recordings/{sid}{extension}", sim.account_sid())
}

pub fn recorded_call(sim: &Simulator, duration_secs: u32, date_created: DateTime<Utc>) -> SimCall {
    sim.add_call(CallSpec { duration_secs, date_created, ..CallSpec::default() })
}

/// Twilio's error body: `{code, message, more_info, status}` with `status` = HTTP status.
pub fn assert_twilio_error(body: &Value, status: u16, code: u64) {
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(body["more_info"], format!("https://www.twilio.com/docs/errors/{code}"), "{body}");
}
