//! Runs the X-Twilio-Signature vectors taken from the official helper libraries' tests.
//!
//! The file lives in the repository's `shared/` folder; set `OMNIVOX_SIGNATURE_VECTORS` to
//! point elsewhere (e.g. when building the crate outside the repository).

use omnivox_twilio::RequestValidator;
use serde::Deserialize;

const DEFAULT_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/twilio/signature-vectors.json");

#[derive(Deserialize)]
struct File {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    auth_token: String,
    url: String,
    params: Vec<(String, String)>,
    signature: String,
    valid: bool,
    /// Present for JSON webhooks: the raw body whose SHA-256 is the URL's `bodySHA256`.
    json_body: Option<String>,
}

#[test]
fn official_vectors() {
    let path = std::env::var("OMNIVOX_SIGNATURE_VECTORS").unwrap_or_else(|_| DEFAULT_PATH.into());
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read signature vectors at {path}: {e}"));
    let file: File = serde_json::from_str(&text).expect("signature vectors are valid JSON");

    let mut failures = Vec::new();
    for (index, v) in file.vectors.iter().enumerate() {
        let validator = RequestValidator::new(v.auth_token.as_str());
        // Every way the service can be asked: the specific entry point and the dispatcher.
        let results = match &v.json_body {
            Some(body) => [
                ("validate_body", validator.validate_body(&v.url, body.as_bytes(), &v.signature)),
                ("validate", validator.validate(&v.url, body.as_bytes(), &v.signature)),
            ],
            None => {
                let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&v.params).finish();
                [
                    ("validate_form", validator.validate_form(&v.url, &v.params, &v.signature)),
                    ("validate", validator.validate(&v.url, body.as_bytes(), &v.signature)),
                ]
            }
        };
        for (entry_point, accepted) in results {
            if accepted != v.valid {
                failures
                    .push(format!("#{index} {:?}: {entry_point} returned {accepted}, expected {}", v.name, v.valid));
            }
        }
    }

    assert!(!file.vectors.is_empty(), "no vectors found in {path}");
    assert!(
        file.vectors.iter().any(|v| !v.valid) && file.vectors.iter().any(|v| v.valid),
        "expected both valid and invalid vectors in {path}"
    );
    assert!(failures.is_empty(), "{} vector check(s) failed:\n{}", failures.len(), failures.join("\n"));
    eprintln!("{} signature vectors passed ({path})", file.vectors.len());
}
