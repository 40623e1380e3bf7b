//! The web page's server side: pages redirect to sign-in and back, assets
//! are embedded with ETags, every response carries the security headers
//! and CSP, cookie-authenticated writes need the page's CSRF token, the
//! filter lists honour roles, and an admin can retry a failed sync.

use std::time::Duration;

use omnivox_core::Role;
use omnivox_testkit::{both_backends, TestDb};
use omnivox_twilio_sim::CallSpec;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, ETAG, IF_NONE_MATCH, LOCATION, ORIGIN};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{delivery, error_of, spawn_app, spawn_app_with_twilio, TestApp};
use crate::media_helpers::{media_requests, recording_id, wait_for_sync};

both_backends!(
    pages_send_strangers_to_sign_in_and_back,
    every_response_carries_the_security_headers,
    cookie_writes_need_the_pages_csrf_token,
    filters_list_campaigns_and_users_by_role,
    admins_retry_a_failed_sync,
);

/// Signs in like the login page does; the session cookie's value.
async fn cookie_login(app: &TestApp, username: &str, password: &str) -> String {
    let response = app.login(username, password).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.cookies().find(|c| c.name() == "omnivox_session").expect("session cookie");
    crate::helpers::secret(cookie.value())
}

fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf-token\" content=\"").expect("csrf meta") + 27;
    html[start..].split('"').next().unwrap().to_owned()
}

async fn page(app: &TestApp, path: &str, session: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url(path));
    if let Some(s) = session {
        req = req.header(COOKIE, format!("omnivox_session={s}"));
    }
    req.send().await.unwrap()
}

async fn pages_send_strangers_to_sign_in_and_back(db: TestDb) {
    let app = spawn_app(db).await;
    let away = page(&app, "/call-records?campaignId=SALES&q=4155", None).await;
    assert_eq!(away.status(), StatusCode::SEE_OTHER);
    let location = away.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(location, "/login?next=%2Fcall-records%3FcampaignId%3DSALES%26q%3D4155");
    assert_eq!(page(&app, "/call-records/1", None).await.status(), StatusCode::SEE_OTHER);
    let login = page(&app, &location, None).await;
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.unwrap();
    assert!(html.contains("data-next=\"/call-records?campaignId=SALES&#38;q=4155\""), "{html}");
    // A next that leaves the site is ignored.
    let html = page(&app, "/login?next=//evil.example", None).await.text().await.unwrap();
    assert!(html.contains("data-next=\"/call-records\""), "{html}");

    let password = app.admin_password.clone();
    let session = cookie_login(&app, "admin", &password).await;
    let list = page(&app, "/call-records", Some(&session)).await;
    assert_eq!(list.status(), StatusCode::OK);
    let html = list.text().await.unwrap();
    assert!(html.contains("<table id=\"calls\"") && html.contains("/assets/call-records.js"), "{html}");
    assert_eq!(csrf_of(&html).len(), 32);
    // Signed in, /login goes straight on; an unknown call is a 404 page.
    let again = page(&app, "/login?next=/call-records", Some(&session)).await;
    assert_eq!(again.headers()[LOCATION], "/call-records");
    let missing = page(&app, "/call-records/999999", Some(&session)).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("Not found"));
    app.stop().await;
}

async fn every_response_carries_the_security_headers(db: TestDb) {
    let app = spawn_app(db).await;
    for path in ["/login", "/assets/call-records.js", "/api/call-records", "/healthz"] {
        let response = page(&app, path, None).await;
        let headers = response.headers();
        let csp = headers.get(CONTENT_SECURITY_POLICY).unwrap_or_else(|| panic!("{path}: no CSP")).to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    }
    // No inline script anywhere, so the CSP needs no 'unsafe-inline'.
    let html = page(&app, "/login", None).await.text().await.unwrap();
    assert!(!html.contains("<script>") && !html.contains(" style="), "{html}");

    let script = page(&app, "/assets/player.js", None).await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let etag = script.headers()[ETAG].clone();
    let cached = app.client.get(app.url("/assets/player.js")).header(IF_NONE_MATCH, etag).send().await.unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(page(&app, "/assets/nope.js", None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(page(&app, "/assets/..%2FCargo.toml", None).await.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn cookie_writes_need_the_pages_csrf_token(db: TestDb) {
    let app = spawn_app(db).await;
    let password = app.admin_password.clone();
    let session = cookie_login(&app, "admin", &password).await;
    let csrf = csrf_of(&page(&app, "/call-records", Some(&session)).await.text().await.unwrap());
    // An admin write that answers 404 once past the guard (no such job).
    let purge = |token: Option<&str>, origin: Option<&str>| {
        let mut req = app
            .client
            .post(app.url("/api/admin/jobs/999999/retry"))
            .header(COOKIE, format!("omnivox_session={session}"));
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        if let Some(o) = origin {
            req = req.header(ORIGIN, o);
        }
        req.send()
    };
    let (status, code, message) = error_of(purge(None, None).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "csrf"), "{message}");
    assert!(message.contains("X-CSRF-Token"), "{message}");
    let (status, code, _) = error_of(purge(Some("0123456789abcdef0123456789abcdef"), None).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "csrf"));
    let foreign = purge(Some(&csrf), Some("https://evil.example")).await.unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let same_site = purge(Some(&csrf), Some(&app.base())).await.unwrap();
    assert_eq!(same_site.status(), StatusCode::NOT_FOUND, "the guard let it through to the handler");
    assert_eq!(purge(Some(&csrf), None).await.unwrap().status(), StatusCode::NOT_FOUND);
    // Sign-out by cookie needs the token too; a bearer client never does.
    let out = app.client.post(app.url("/api/auth/logout")).header(COOKIE, format!("omnivox_session={session}")).send();
    assert_eq!(out.await.unwrap().status(), StatusCode::FORBIDDEN);
    let token = app.admin_token().await;
    assert_eq!(app.post("/api/auth/logout", Some(&token), json!({})).await.status(), StatusCode::NO_CONTENT);
    // Login from another site is refused (login CSRF).
    let login = app
        .client
        .post(app.url("/api/auth/login"))
        .header(ORIGIN, "https://evil.example")
        .json(&json!({ "username": "admin", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn filters_list_campaigns_and_users_by_role(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let admin = app.admin_token().await;
    let call = sim.add_call(CallSpec { campaign_id: Some("SALES".into()), ..CallSpec::default() });
    sim.deliver(&app.base(), &call, &delivery()).await.unwrap();
    let (agent, password) = app.create_user("ann", Role::Agent).await;
    let ann = app.token_for("ann", &password).await;

    let campaigns: Value = app.get("/api/campaigns", Some(&ann)).await.json().await.unwrap();
    let codes: Vec<&str> = campaigns["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(codes.contains(&"SALES"), "{campaigns}");
    assert_eq!(app.get("/api/campaigns", None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/users", Some(&ann)).await.status(), StatusCode::FORBIDDEN);
    let users: Value = app.get("/api/users", Some(&admin)).await.json().await.unwrap();
    let ids: Vec<i64> = users["items"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&agent.id.0), "{users}");
    assert!(users.to_string().find("password").is_none(), "no hash leaves: {users}");
    app.stop().await;
}

async fn admins_retry_a_failed_sync(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let admin = app.admin_token().await;
    let (_, password) = app.create_user("sue", Role::Supervisor).await;
    let sue = app.token_for("sue", &password).await;
    let call = sim.add_call(CallSpec { duration_secs: 5, media_missing: true, ..CallSpec::default() });
    sim.deliver(&app.base(), &call, &delivery()).await.unwrap();
    let id = recording_id(&app, &call).await;
    wait_for_sync(&app, &admin, id, "failed").await;
    let path = format!("/api/recordings/{id}/retry");

    assert_eq!(app.post(&path, Some(&sue), json!({})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.post("/api/recordings/999999/retry", Some(&admin), json!({})).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.post(&path, Some(&admin), json!({})).await.status(), StatusCode::ACCEPTED);
    // The archive job runs again (and fails again: Twilio still has no media).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while media_requests(&sim, call.recording_sid().unwrap()) < 2 {
        assert!(std::time::Instant::now() < deadline, "the retry never asked Twilio again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let meta = wait_for_sync(&app, &admin, id, "failed").await;
    assert!(meta["error"].as_str().unwrap().contains("Twilio has no media"), "{meta}");
    let audit: Value = app.get("/api/admin/audit", Some(&admin)).await.json().await.unwrap();
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "recording.retry"), "{audit}");

    // Only a failed sync can be retried.
    let good = sim.add_call(CallSpec { duration_secs: 5, ..CallSpec::default() });
    sim.deliver(&app.base(), &good, &delivery()).await.unwrap();
    let good_id = recording_id(&app, &good).await;
    wait_for_sync(&app, &admin, good_id, "verified").await;
    let (status, _, message) =
        error_of(app.post(&format!("/api/recordings/{good_id}/retry"), Some(&admin), json!({})).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("verified"), "{message}");
    app.stop().await;
}
