//! Starting an import: the range checked, the first page named, and the
//! run created with its job, unless a running import overlaps it.

use chrono::{DateTime, Utc};
use omnivox_core::store::{ImportRun, NewImportRun, UserId};
use omnivox_core::{DateRange, RangeError, Store, StoreError};
use omnivox_twilio::recordings::MAX_PAGE_SIZE;
use omnivox_twilio::{RecordingFilter, TwilioClient};

/// An import as asked for, with its dates as typed.
#[derive(Debug, Clone, Default)]
pub struct StartImport {
    pub date_created_after: Option<String>,
    pub date_created_before: Option<String>,
    pub dry_run: bool,
    pub created_by: Option<UserId>,
    /// How the two dates are named to whoever typed them.
    pub fields: (&'static str, &'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    BadRange(#[from] RangeError),
    #[error(
        "import #{} ({}) is still running and its range overlaps this one; wait for it to finish (GET /api/imports/{})",
        .0.id, .0.range(), .0.id
    )]
    Overlaps(Box<ImportRun>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn start_import(
    store: &dyn Store,
    twilio: &TwilioClient,
    request: &StartImport,
    now: DateTime<Utc>,
) -> Result<ImportRun, StartError> {
    let (range, after, before) = DateRange::parse(
        request.date_created_after.as_deref(),
        request.date_created_before.as_deref(),
        request.fields,
    )?;
    let filter = RecordingFilter {
        created_on_or_after: after.map(|b| b.to_twilio()),
        created_on_or_before: before.map(|b| b.to_twilio()),
    };
    let run = NewImportRun {
        range,
        dry_run: request.dry_run,
        first_page_uri: twilio.recordings_first_page(&filter, MAX_PAGE_SIZE),
        created_by: request.created_by,
    };
    match store.start_import_run(&run, now).await? {
        Ok(run) => {
            tracing::info!(import_id = run.id, range = %run.range(), dry_run = run.dry_run, "import started");
            Ok(run)
        }
        Err(other) => Err(StartError::Overlaps(Box::new(other))),
    }
}
