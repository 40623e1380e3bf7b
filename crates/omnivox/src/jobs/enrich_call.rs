//! `enrich-call`: asks Twilio's Calls API for what the callbacks did not
//! say (parties, start and end, duration) and feeds it through the same
//! ingest as every webhook, ranked above any callback.

use anyhow::{anyhow, Context as _};
use async_trait::async_trait;
use omnivox_core::ingest::{Attribution, FoundBy, IngestEvent, IngestRequest, LIVE_CALLS};
use omnivox_core::CallSid;
use omnivox_jobs::{Job, JobError};
use serde::{Deserialize, Serialize};

use super::JobContext;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrichCall {
    pub call_sid: CallSid,
}

#[async_trait]
impl Job for EnrichCall {
    const KIND: &'static str = "enrich-call";
    const MAX_ATTEMPTS: i64 = 8;
    type Context = JobContext;

    fn dedupe_key(&self) -> Option<String> {
        Some(self.call_sid.to_string())
    }

    async fn run(self, ctx: &JobContext) -> Result<(), JobError> {
        let twilio = ctx.twilio.as_ref().ok_or_else(|| JobError::Permanent(anyhow!("Twilio is not configured")))?;
        let call = twilio.fetch_call(self.call_sid.as_str()).await.map_err(|e| {
            if e.is_transient() {
                JobError::Retry(anyhow!(e))
            } else {
                JobError::Permanent(anyhow!(e).context(format!("fetching call {}", self.call_sid)))
            }
        })?;
        // Parties from callbacks describe the customer's leg better than the
        // parent leg the API returns; use the API's only when none came.
        let known = ctx.store.call_record_by_sid(&self.call_sid).await.context("reading the call record")?;
        let with_parties = !known.is_some_and(|record| record.from.is_some() || record.to.is_some());
        let Some(event) = omnivox_import::call_event(&self.call_sid, &call, with_parties) else {
            return Err(JobError::Permanent(anyhow!("Twilio gave call {} no known status", self.call_sid)));
        };
        let request = IngestRequest {
            event: IngestEvent::CallStatus(event),
            attribution: Attribution::default(),
            default_campaign: LIVE_CALLS,
            found_by: FoundBy::Webhook,
            received_at: ctx.clock.now(),
        };
        ctx.ingestor.ingest(&request).await.context("ingesting the call's details")?;
        Ok(())
    }
}
