use async_trait::async_trait;

use super::StoreResult;

/// What purging the call records removed from the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgedCallRecords {
    pub call_records: u64,
    pub recordings: u64,
    /// Where the removed recordings' media is (to delete from storage next).
    pub storage_keys: Vec<String>,
}

/// Removing every call record at once (`DELETE /api/admin/call-records`,
/// `omnivox purge call-records`).
#[async_trait]
pub trait PurgeStore {
    /// In one transaction: every call record with its timeline, recordings,
    /// peaks and transcripts, and the queued or dead jobs of `job_kinds`
    /// (the follow-ups of calls that no longer exist). Campaigns, contacts,
    /// data lists, users, import history and the audit log stay.
    async fn purge_call_records(&self, job_kinds: &[&str]) -> StoreResult<PurgedCallRecords>;
}
