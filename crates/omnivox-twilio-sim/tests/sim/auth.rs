//! Every REST and media path needs HTTP Basic `AccountSid:AuthToken`; a wrong account is 404.

use crate::helpers::*;

#[tokio::test]
async fn missing_or_wrong_credentials_are_401_with_twilio_json() {
    let sim = start().await;
    let call = recorded_call(&sim, 5, chrono::Utc::now());
    let sid = call.recording_sid().unwrap();
    let paths = [
        recordings_path(&sim),
        recording_path(&sim, sid, ".json"),
        recording_path(&sim, sid, ".wav"),
        format!("/2010-04-01/Accounts/{}/Calls/{}.json", sim.account_sid(), call.call_sid()),
    ];
    let url = |path: &str| format!("{}{path}", sim.base_url());
    for path in &paths {
        let missing = client().get(url(path)).send().await.unwrap();
        let wrong_token =
            client().get(url(path)).basic_auth(sim.account_sid(), Some("not-the-token")).send().await.unwrap();
        let wrong_user = client()
            .get(url(path))
            .basic_auth("AC00000000000000000000000000000000", Some(sim.auth_token()))
            .send()
            .await
            .unwrap();
        for response in [missing, wrong_token, wrong_user] {
            assert_eq!(response.status(), 401, "{path}");
            assert!(response.headers().contains_key("www-authenticate"));
            let body: serde_json::Value = response.json().await.unwrap();
            assert_twilio_error(&body, 401, 20003);
        }
    }
    // And the right credentials work on the same paths.
    for path in &paths {
        assert_eq!(get(&sim, path).await.status(), 200, "{path}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn another_account_in_the_path_is_404() {
    let sim = start().await;
    let other = "AC11111111111111111111111111111111";
    let (status, body) = get_json(&sim, &format!("/2010-04-01/Accounts/{other}/Recordings.json")).await;
    assert_eq!(status, 404);
    assert_twilio_error(&body, 404, 20404);
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_are_404_json() {
    let sim = start().await;
    let (status, body) = get_json(&sim, "/2010-04-01/Accounts/nope").await;
    assert_eq!(status, 404);
    assert_twilio_error(&body, 404, 20404);
    sim.shutdown().await;
}
