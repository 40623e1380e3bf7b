//! `GET /api/openapi.json`: served to anyone, OpenAPI 3, and describing
//! exactly the routes the router serves (DESIGN.md's contract table plus
//! the rest of the JSON API), no more and no fewer.

use std::collections::BTreeSet;

use omnivox_testkit::{both_backends, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::spawn_app;

/// Every operation of the JSON API: DESIGN.md's interface contract first,
/// then the routes it does not list.
const API: &[(&str, &str)] = &[
    ("post", "/api/auth/login"),
    ("post", "/api/auth/logout"),
    ("get", "/api/me"),
    ("post", "/api/dialer/webhook/call-status"),
    ("post", "/api/dialer/webhook/recording-status"),
    ("post", "/api/calls/recording-callback"),
    ("post", "/api/dialer/twiml/outbound"),
    ("get", "/api/call-records"),
    ("get", "/api/call-records/{id}"),
    ("get", "/api/recordings/{id}"),
    ("get", "/api/recordings/{id}/stream"),
    ("get", "/api/recordings/{id}/download"),
    ("post", "/api/call-records/import-twilio-recordings"),
    ("get", "/api/imports/{id}"),
    ("delete", "/api/admin/call-records"),
    ("get", "/api/events"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/openapi.json"),
    // Beyond the contract table.
    ("put", "/api/call-records/{id}/legal-hold"),
    ("get", "/api/imports"),
    ("get", "/api/imports/{id}/items"),
    ("get", "/api/recordings/{id}/peaks"),
    ("post", "/api/recordings/{id}/retry"),
    ("get", "/api/campaigns"),
    ("get", "/api/users"),
    ("get", "/api/admin/jobs"),
    ("post", "/api/admin/jobs/{id}/retry"),
    ("get", "/api/admin/audit"),
    ("get", "/api/admin/sync-gaps"),
    ("put", "/api/admin/campaigns/{code}/retention"),
];

/// Operations anyone may call, and those only Twilio's signature admits.
const ANONYMOUS: &[&str] = &["/api/auth/login", "/healthz", "/readyz", "/metrics", "/api/openapi.json"];
const TWILIO: &[&str] = &[
    "/api/dialer/webhook/call-status",
    "/api/dialer/webhook/recording-status",
    "/api/calls/recording-callback",
    "/api/dialer/twiml/outbound",
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options", "trace"];

/// Every `$ref` in the document.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

async fn openapi_document_describes_every_route_and_only_those(db: TestDb) {
    let app = spawn_app(db).await;
    let r = app.get("/api/openapi.json", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            documented.insert((method.to_string(), path.clone()));
        }
    }
    let expected: BTreeSet<_> = API.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    let missing: Vec<_> = expected.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&expected).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}, not in the list {extra:?}");

    // Who may call what: signed in by default, anonymous or Twilio-signed where said.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer_token"]["scheme"].as_str().map(str::to_lowercase).as_deref(), Some("bearer"));
    let cookie = &schemes["session_cookie"];
    assert_eq!(
        (&cookie["type"], &cookie["in"], &cookie["name"]),
        (&json!("apiKey"), &json!("cookie"), &json!("omnivox_session"))
    );
    assert_eq!(schemes["twilio_signature"]["name"], "X-Twilio-Signature");
    assert_eq!(doc["security"], json!([{"bearer_token": []}, {"session_cookie": []}]));
    for (method, path) in API {
        let op = &doc["paths"][path][method];
        let description = op["description"].as_str().unwrap_or_default();
        assert!(!description.is_empty(), "{method} {path} says nothing of who may call it");
        let security = &op["security"];
        if ANONYMOUS.contains(path) {
            assert_eq!(security, &json!([{}]), "{method} {path}");
        } else if TWILIO.contains(path) {
            assert_eq!(security, &json!([{"twilio_signature": []}]), "{method} {path}");
            assert_eq!(
                op["requestBody"]["content"].as_object().unwrap().keys().collect::<Vec<_>>(),
                ["application/x-www-form-urlencoded"],
                "{method} {path}"
            );
        } else {
            assert!(security.is_null(), "{method} {path} should need a session: {security}");
            assert!(op["responses"].get("401").is_some(), "{method} {path} never answers 401?");
        }
    }
    let admin_only = doc["paths"]["/api/admin/call-records"]["delete"]["description"].as_str().unwrap();
    assert!(admin_only.contains("admin"), "{admin_only}");

    // The list's filters, as DESIGN.md names them.
    let params: BTreeSet<_> = doc["paths"]["/api/call-records"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["in"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let filters = "campaignId agentId status direction phone from to hasRecording q callSid limit cursor";
    assert_eq!(params, filters.split(' ').map(|f| ("query", f)).collect());

    // Schemas: every reference resolves, JSON names are serde's, errors have their shape.
    let schemas = &doc["components"]["schemas"];
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in &all {
        let (kind, name) = r
            .strip_prefix("#/components/")
            .and_then(|r| r.split_once('/'))
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(["schemas", "responses"].contains(&kind), "unexpected $ref {r}");
        assert!(doc["components"][kind].get(name).is_some(), "{r} does not resolve");
    }
    // The shared error responses are error bodies.
    for name in ["BadRequest", "NotSignedIn", "Forbidden", "NotFound", "BadSignature"] {
        let body = &doc["components"]["responses"][name]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(body, "#/components/schemas/ErrorBody", "{name}");
    }
    assert_eq!(schemas["ErrorBody"]["properties"]["error"]["$ref"], "#/components/schemas/ErrorDetail");
    let detail: BTreeSet<_> = schemas["ErrorDetail"]["properties"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(detail, ["code", "message"].map(String::from).into());
    for field in ["callId", "campaignId", "startedAt", "durationSeconds", "recordings"] {
        assert!(schemas["CallRecordView"]["properties"].get(field).is_some(), "CallRecordView.{field}");
    }
    for field in ["recordingSid", "syncStatus", "sha256", "sizeBytes"] {
        assert!(schemas["RecordingView"]["properties"].get(field).is_some(), "RecordingView.{field}");
    }

    // And the router serves each of them: signed out, with made-up ids,
    // each is refused (401, 403, 400) or answered, never the fallback's 404
    // or a 405. Streams answer 401 before streaming anything.
    for (method, path) in API {
        let url = app.url(&path.replace("{id}", "987654").replace("{code}", "NO-SUCH-CAMPAIGN"));
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = app.client.request(method.clone(), url).send().await.unwrap();
        let status = r.status();
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {status}"
        );
    }
    app.stop().await;
}

both_backends!(openapi_document_describes_every_route_and_only_those);
