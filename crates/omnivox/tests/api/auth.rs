use omnivox_core::Role;
use omnivox_testkit::{both_backends, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_of, secret, spawn_app, spawn_app_with};

async fn login_gives_a_token_and_an_http_only_cookie(db: TestDb) {
    let app = spawn_app(db).await;
    let (agent, password) = app.create_user("alice", Role::Agent).await;
    let response = app.login("alice", &password).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["omnivox_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing in {cookie:?}");
    }
    let body: Value = response.json().await.unwrap();
    let token = secret(body["token"].as_str().unwrap());
    assert!(token.len() >= 43, "256-bit token");
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["user"]["role"], "agent");
    assert!(body["user"].get("passwordHash").is_none());

    let me: Value = app.get("/api/me", Some(&token)).await.json().await.unwrap();
    assert_eq!(me["id"], agent.id.0);

    // The cookie alone works too.
    let by_cookie =
        app.client.get(app.url("/api/me")).header("cookie", format!("omnivox_session={token}")).send().await.unwrap();
    assert_eq!(by_cookie.status(), StatusCode::OK);
    app.stop().await;
}

async fn a_wrong_password_and_an_unknown_user_get_the_same_401(db: TestDb) {
    let app = spawn_app(db).await;
    let (_, password) = app.create_user("bob", Role::Supervisor).await;
    let wrong_password = error_of(app.login("bob", &format!("{password}x")).await).await;
    let unknown_user = error_of(app.login("nobody", &password).await).await;
    assert_eq!(wrong_password.0, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password, unknown_user, "no hint which part was wrong");
    let no_session = error_of(app.get("/api/me", None).await).await;
    assert_eq!(no_session.0, StatusCode::UNAUTHORIZED);
    let bad_token = error_of(app.get("/api/me", Some("not-a-token")).await).await;
    assert_eq!(bad_token.0, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn repeated_failures_are_answered_429(db: TestDb) {
    let app = spawn_app_with(db, &[("OMNIVOX_LOGIN_ATTEMPTS_PER_USER_PER_MINUTE", "5")]).await;
    let (_, password) = app.create_user("carol", Role::Agent).await;
    for _ in 0..5 {
        assert_eq!(app.login("carol", "wrong-password-123").await.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = app.login("carol", &password).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Other users are not locked out by carol's attacker.
    let (_, dave_pw) = app.create_user("dave", Role::Agent).await;
    assert_eq!(app.login("dave", &dave_pw).await.status(), StatusCode::OK);
    app.stop().await;
}

async fn roles_guard_admin_routes(db: TestDb) {
    let app = spawn_app(db).await;
    let (_, agent_pw) = app.create_user("erin", Role::Agent).await;
    let (_, sup_pw) = app.create_user("sam", Role::Supervisor).await;
    let agent = app.token_for("erin", &agent_pw).await;
    let supervisor = app.token_for("sam", &sup_pw).await;
    let admin = app.admin_token().await;
    let (status, code, _) = error_of(app.get("/api/admin/jobs?state=dead", Some(&agent)).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    assert_eq!(app.get("/api/admin/jobs?state=dead", Some(&supervisor)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/admin/jobs?state=dead", None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/admin/jobs?state=dead", Some(&admin)).await.status(), StatusCode::OK);
    app.stop().await;
}

async fn after_logout_the_token_is_refused_at_once(db: TestDb) {
    let app = spawn_app(db).await;
    let token = app.admin_token().await;
    assert_eq!(app.get("/api/me", Some(&token)).await.status(), StatusCode::OK);
    let out = app.post("/api/auth/logout", Some(&token), json!({})).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("omnivox_session="), "cookie cleared");
    assert_eq!(app.get("/api/me", Some(&token)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.post("/api/auth/logout", Some(&token), json!({})).await.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn the_first_admin_comes_from_the_configured_password_only_once(db: TestDb) {
    let app = spawn_app(db).await;
    assert_eq!(app.login("admin", &app.admin_password.clone()).await.status(), StatusCode::OK);
    assert_eq!(app.db.store.count_users_with_role(Role::Admin).await.unwrap(), 1);
    app.stop().await;
}

both_backends!(
    login_gives_a_token_and_an_http_only_cookie,
    a_wrong_password_and_an_unknown_user_get_the_same_401,
    repeated_failures_are_answered_429,
    roles_guard_admin_routes,
    after_logout_the_token_is_refused_at_once,
    the_first_admin_comes_from_the_configured_password_only_once,
);
