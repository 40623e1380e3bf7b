use super::*;
use secrecy::ExposeSecret;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn no_file() -> PathBuf {
    PathBuf::from("/nonexistent/omnivox.toml")
}

#[test]
fn defaults_match_the_interface_contract() {
    let c = Config::load_from(&no_file(), &Flags::default(), env(&[])).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.database_url, "sqlite://omnivox-data/omnivox.db");
    assert_eq!(c.storage_url, "file://omnivox-data/recordings");
    assert_eq!(c.twilio_api_base.as_str(), "https://api.twilio.com/");
    assert!(c.public_url.is_none() && c.admin_password.is_none() && c.twilio_auth_token.is_none());
}

#[test]
fn toml_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("omnivox.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:1111\"\ndatabase_url = \"sqlite://from-toml.db\"\nstorage_url = \"file://from-toml\"\njob_concurrency = 2\n",
    )
    .unwrap();
    let e = env(&[
        ("OMNIVOX_DATABASE_URL", "postgres://from-env/db"),
        ("OMNIVOX_STORAGE_URL", "s3://bucket/env"),
        ("OMNIVOX_JOB_CONCURRENCY", "8"),
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        ("TWILIO_AUTH_TOKEN", "12345678901234567890"),
        ("OMNIVOX_ADMIN_PASSWORD", "000000000000"),
        ("TWILIO_CALLER_ID", "+14155550000"),
    ]);
    let flags = Flags { storage_url: Some("file://from-flag".into()), ..Flags::default() };
    let c = Config::load_from(&file, &flags, e).unwrap();
    assert_eq!(c.listen.port(), 1111, "toml over default");
    assert_eq!(c.database_url, "postgres://from-env/db", "env over toml");
    assert_eq!(c.storage_url, "file://from-flag", "flag over env");
    assert_eq!(c.job_concurrency, 8);
    assert_eq!(c.twilio_account_sid.as_deref(), Some("AC0123456789abcdef0123456789abcdef"));
    // Secrets made only of digits stay text, leading zeros included.
    assert_eq!(c.twilio_auth_token.unwrap().expose_secret(), "12345678901234567890");
    assert_eq!(c.admin_password.unwrap().expose_secret(), "000000000000");
    assert_eq!(c.twilio_caller_id.as_deref(), Some("+14155550000"), "a number-looking text stays text");
}

#[test]
fn secrets_can_come_from_files_and_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("token");
    std::fs::write(&secret, "s3cr3t-token-value\n").unwrap();
    let e = env(&[
        ("TWILIO_AUTH_TOKEN_FILE", secret.to_str().unwrap()),
        ("OMNIVOX_ADMIN_PASSWORD", "hunter2hunter2"),
        ("AWS_SECRET_ACCESS_KEY", "aws-secret-key-value"),
    ]);
    let c = Config::load_from(&no_file(), &Flags::default(), e).unwrap();
    assert_eq!(c.twilio_auth_token.as_ref().unwrap().expose_secret(), "s3cr3t-token-value");
    assert_eq!(c.aws_settings.0, [("AWS_SECRET_ACCESS_KEY".to_owned(), "aws-secret-key-value".to_owned())]);
    let debug = format!("{c:?}");
    assert!(!debug.contains("s3cr3t") && !debug.contains("hunter2") && !debug.contains("aws-secret"), "{debug}");

    let missing = env(&[("TWILIO_AUTH_TOKEN_FILE", "/nonexistent/token")]);
    let err = Config::load_from(&no_file(), &Flags::default(), missing).unwrap_err().to_string();
    assert!(err.contains("TWILIO_AUTH_TOKEN_FILE") && err.contains("/nonexistent/token"), "{err}");
}

#[test]
fn media_settings_parse_from_the_environment() {
    let c = Config::load_from(&no_file(), &Flags::default(), env(&[])).unwrap();
    assert_eq!(
        (c.recording_format, c.twilio_delete_after_archive, c.job_lease_seconds),
        (RecordingFormat::Wav, false, 60)
    );
    let e = env(&[
        ("OMNIVOX_RECORDING_FORMAT", "mp3"),
        ("OMNIVOX_TWILIO_DELETE_AFTER_ARCHIVE", "true"),
        ("OMNIVOX_JOB_LEASE_SECONDS", "5"),
    ]);
    let c = Config::load_from(&no_file(), &Flags::default(), e).unwrap();
    assert_eq!(
        (c.recording_format, c.twilio_delete_after_archive, c.job_lease_seconds),
        (RecordingFormat::Mp3, true, 5)
    );
    let err =
        Config::load_from(&no_file(), &Flags::default(), env(&[("OMNIVOX_RECORDING_FORMAT", "ogg")])).unwrap_err();
    assert!(err.to_string().contains("recording_format"), "{err}");
}

#[test]
fn bad_values_name_the_setting() {
    let err = Config::load_from(&no_file(), &Flags::default(), env(&[("OMNIVOX_LISTEN", "not an address")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("listen"), "{err}");
}

#[test]
fn unknown_prefixed_variables_are_reported() {
    let names = ["OMNIVOX_DATABSE_URL", "OMNIVOX_LISTEN", "OMNIVOX_TEST_POSTGRES_URL", "PATH", "TWILIO_AUTH_TOKEN"];
    assert_eq!(Config::unknown_env_vars(names.map(String::from)), ["OMNIVOX_DATABSE_URL"]);
}

#[test]
fn a_missing_required_value_names_every_way_to_set_it() {
    let c = Config::load_from(&no_file(), &Flags::default(), env(&[])).unwrap();
    let msg = c.twilio_credentials("import twilio").unwrap_err().to_string();
    assert!(
        msg.contains("TWILIO_ACCOUNT_SID") && msg.contains("omnivox.toml") && msg.contains("twilio_account_sid"),
        "{msg}"
    );

    let c = Config::load_from(&no_file(), &Flags::default(), env(&[("TWILIO_AUTH_TOKEN", "x")])).unwrap();
    let msg = c.check_for_serve().unwrap_err().to_string();
    for way in ["public_url", "OMNIVOX_PUBLIC_URL", "--public-url", "omnivox.toml"] {
        assert!(msg.contains(way), "{way} missing from: {msg}");
    }
}
