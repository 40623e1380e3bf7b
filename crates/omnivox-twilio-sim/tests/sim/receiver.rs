//! A small webhook receiver that checks every signature the way Omnivox must:
//! `RequestValidator::validate` over the exact URL it was called on.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use omnivox_twilio::RequestValidator;
use omnivox_twilio_sim::Simulator;

#[derive(Clone, Copy)]
pub enum Mode {
    Accept,
    /// 503 the first time a callback (by idempotency token) arrives, then 200.
    FailFirstTry,
    Answer(u16),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub url: String,
    pub params: Vec<(String, String)>,
    pub body: Bytes,
    pub signature: String,
    pub signature_valid: bool,
    pub content_type: String,
}

impl Received {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Which callback this is: the call event's status, or "recording".
    pub fn kind(&self) -> &str {
        if self.url.contains("/recording-status") {
            "recording"
        } else {
            self.param("CallStatus").unwrap_or("?")
        }
    }

    /// The SID that identifies the callback's subject.
    pub fn subject(&self) -> String {
        self.param("RecordingSid").or(self.param("CallSid")).unwrap_or("?").to_owned()
    }
}

pub struct Receiver {
    pub base: String,
    pub validator: RequestValidator,
    pub mode: Mode,
    pub seen_tokens: Mutex<HashSet<String>>,
    pub received: Mutex<Vec<Received>>,
}

impl Receiver {
    pub async fn start(sim: &Simulator, mode: Mode) -> Arc<Receiver> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Arc::new(Receiver {
            base: format!("http://{}", listener.local_addr().unwrap()),
            validator: RequestValidator::new(sim.auth_token()),
            mode,
            seen_tokens: Mutex::default(),
            received: Mutex::default(),
        });
        let app = axum::Router::new().fallback(receive).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn receive(State(receiver): State<Arc<Receiver>>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let url = format!("{}{}", receiver.base, uri.path_and_query().map_or("", |pq| pq.as_str()));
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let signature = header("x-twilio-signature");
    let signature_valid = receiver.validator.validate(&url, &body, &signature);
    let first_try = receiver.seen_tokens.lock().unwrap().insert(header("i-twilio-idempotency-token"));
    receiver.received.lock().unwrap().push(Received {
        params: url::form_urlencoded::parse(&body).into_owned().collect(),
        url,
        body,
        signature,
        signature_valid,
        content_type: header("content-type"),
    });
    match receiver.mode {
        _ if !signature_valid => StatusCode::FORBIDDEN,
        Mode::Accept => StatusCode::OK,
        Mode::FailFirstTry if first_try => StatusCode::SERVICE_UNAVAILABLE,
        Mode::FailFirstTry => StatusCode::NO_CONTENT,
        Mode::Answer(code) => StatusCode::from_u16(code).unwrap(),
    }
}
