//! The `omnivox` binary itself, as an operator runs it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use omnivox_testkit::{both_backends, TestDb};
use reqwest::StatusCode;

use crate::helpers::{capture_logs, random_password};

fn omnivox() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_omnivox"));
    // Run where no omnivox.toml or omnivox-data of the developer can interfere.
    cmd.current_dir(std::env::temp_dir()).env_remove("OMNIVOX_ADMIN_PASSWORD").env_remove("TWILIO_AUTH_TOKEN");
    cmd
}

async fn user_add_reads_the_password_from_stdin(db: TestDb) {
    capture_logs();
    let password = random_password();
    let mut child = omnivox()
        .args(["user", "add", "grace", "--role", "supervisor", "--password-stdin"])
        .env("OMNIVOX_DATABASE_URL", &db.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("created user grace (supervisor)"), "{stdout}");
    assert!(!stdout.contains(&password) && !stderr.contains(&password));
    let (user, hash) = db.store.user_credentials("grace").await.unwrap().unwrap();
    assert_eq!(user.role, omnivox_core::Role::Supervisor);
    assert!(hash.as_str().starts_with("$argon2id$"));

    // The same name again, and a short password, fail with a clear message.
    for (name, pw, expected) in [("grace", password.as_str(), "already exists"), ("heidi", "short", "at least 12")] {
        let mut child = omnivox()
            .args(["user", "add", name, "--role", "agent", "--password-stdin"])
            .env("OMNIVOX_DATABASE_URL", &db.url)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{pw}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}

async fn the_binary_serves_and_stops_gracefully_on_sigterm(db: TestDb) {
    let mut child = omnivox()
        .args(["serve"])
        .env("OMNIVOX_DATABASE_URL", &db.url)
        .env("OMNIVOX_LISTEN", "127.0.0.1:0")
        .env("OMNIVOX_LOG_FORMAT", "json")
        .env("OMNIVOX_SOME_TYPO", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("running at http://").nth(1) {
                let _ = tx.send(rest.split('/').next().unwrap_or_default().to_owned());
            }
            all.push(line);
        }
        all
    });
    let addr = rx.recv_timeout(Duration::from_secs(30)).expect("the service announces its address");
    let health = reqwest::get(format!("http://{addr}/healthz")).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready: serde_json::Value = reqwest::get(format!("http://{addr}/readyz")).await.unwrap().json().await.unwrap();
    assert_eq!(ready["database"], db.backend().as_str());

    let stopped = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful exit, got {status:?}");
    let lines = reader.join().unwrap();
    let text = lines.join("\n");
    assert!(text.contains("one-time password"), "no OMNIVOX_ADMIN_PASSWORD: a generated one is shown once");
    assert!(text.contains("OMNIVOX_SOME_TYPO"), "unknown variables are warned about: {text}");
    assert!(text.contains("\"message\":\"omnivox stopped\""), "JSON logs and a clean stop: {text}");
}

async fn a_missing_required_setting_fails_at_start_naming_every_way_to_set_it(db: TestDb) {
    let out = omnivox()
        .args(["serve"])
        .env("OMNIVOX_DATABASE_URL", &db.url)
        .env("OMNIVOX_LISTEN", "127.0.0.1:0")
        .env("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdef")
        .env_remove("OMNIVOX_PUBLIC_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for way in ["OMNIVOX_PUBLIC_URL", "public_url", "omnivox.toml", "--public-url"] {
        assert!(stderr.contains(way), "{way} not named in: {stderr}");
    }
    assert!(!stderr.contains("0123456789abcdef0123456789abcdef"), "the token is not echoed");
}

async fn migrate_applies_the_schema(db: TestDb) {
    let out = omnivox().args(["migrate"]).env("OMNIVOX_DATABASE_URL", &db.url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
}

both_backends!(
    user_add_reads_the_password_from_stdin,
    the_binary_serves_and_stops_gracefully_on_sigterm,
    a_missing_required_setting_fails_at_start_naming_every_way_to_set_it,
    migrate_applies_the_schema,
);
