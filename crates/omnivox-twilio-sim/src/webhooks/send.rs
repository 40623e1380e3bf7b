//! Runs a delivery plan over a pool of workers sharing one HTTP client, so many calls'
//! callbacks can be pushed over a fixed number of concurrent connections.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use omnivox_twilio::RequestValidator;
use reqwest::header::CONTENT_TYPE;

use super::params::{call_event_params, callback_url, recording_params};
use super::{
    plan, sequence_number, AttemptOutcome, Callback, DeliveryAttempt, DeliveryOptions, DeliveryReport, Planned,
};
use crate::faults::seeded;
use crate::spec::SimCall;

/// Everything the workers share.
struct Run {
    client: reqwest::Client,
    validator: RequestValidator,
    target_base: String,
    calls: Vec<SimCall>,
    options: DeliveryOptions,
    planned: Vec<Planned>,
    /// Next plan position to send: workers take them in order.
    next: AtomicUsize,
}

/// Plans and sends the callbacks of `calls` with `workers` requests in flight at most.
pub(crate) async fn deliver(
    client: &reqwest::Client,
    validator: &RequestValidator,
    target_base: &str,
    calls: &[SimCall],
    options: &DeliveryOptions,
    workers: usize,
) -> anyhow::Result<DeliveryReport> {
    let mut rng = seeded(options.seed);
    let planned = plan(calls, options, &mut rng)?;
    let workers = workers.clamp(1, planned.len().max(1));
    let run = Arc::new(Run {
        client: client.clone(),
        validator: validator.clone(),
        target_base: target_base.to_owned(),
        calls: calls.to_vec(),
        options: options.clone(),
        planned,
        next: AtomicUsize::new(0),
    });
    let tasks: Vec<_> = (0..workers).map(|_| tokio::spawn(work(run.clone()))).collect();
    let mut attempts = Vec::with_capacity(run.planned.len());
    for task in tasks {
        attempts.extend(task.await.context("webhook worker panicked")?);
    }
    attempts.sort_by_key(|a| (a.seq, a.attempt));
    Ok(DeliveryReport { attempts })
}

async fn work(run: Arc<Run>) -> Vec<DeliveryAttempt> {
    let mut attempts = Vec::new();
    loop {
        let position = run.next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = run.planned.get(position) else {
            return attempts;
        };
        let Some(call) = run.calls.get(item.call) else {
            continue;
        };
        let url = callback_url(&run.target_base, call, item.callback);
        let params = match item.callback {
            Callback::Call(event) => call_event_params(call, event, sequence_number(&run.options, event)),
            Callback::Recording => recording_params(call).unwrap_or_default(),
        };
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
        let signed_url = match &run.options.public_base {
            Some(public) => callback_url(public, call, item.callback),
            None => url.clone(),
        };
        let signature = run.validator.sign_form(&signed_url, &params);
        let tries = if run.options.retry_on_failure { 2 } else { 1 };
        for attempt in 0..tries {
            let outcome = post(&run.client, &url, &body, &signature, &item.token).await;
            let retry = outcome.is_retryable();
            attempts.push(DeliveryAttempt {
                seq: item.seq,
                call_sid: match item.callback {
                    Callback::Call(_) => call.call_sid().to_owned(),
                    Callback::Recording => call.parent_call_sid().to_owned(),
                },
                callback: item.callback,
                copy: item.copy,
                attempt,
                url: url.clone(),
                outcome,
            });
            if !retry {
                break;
            }
        }
    }
}

async fn post(client: &reqwest::Client, url: &str, body: &str, signature: &str, token: &str) -> AttemptOutcome {
    let sent = client
        .post(url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", signature)
        .header("I-Twilio-Idempotency-Token", token)
        .body(body.to_owned())
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read the answer so the connection can be reused.
            let _ = response.bytes().await;
            AttemptOutcome::Status(status)
        }
        Err(error) => AttemptOutcome::TransportError(error_chain(&error)),
    }
}

/// reqwest's own message only says which URL failed; the causes say why.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
