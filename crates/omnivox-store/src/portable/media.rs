//! Recording media state, peaks, retention and legal hold.

use omnivox_core::store::{MediaUpdate, RecordingMedia, UserId};
use omnivox_core::StoreError;

use crate::rows::{from_ms, RecordingViewRow};

#[derive(sqlx::FromRow)]
pub(crate) struct RecordingMediaRow {
    #[sqlx(flatten)]
    pub recording: RecordingViewRow,
    pub call_sid: String,
    pub agent_id: Option<i64>,
    pub call_started_at: Option<i64>,
    pub contact_phone: Option<String>,
    pub legal_hold: bool,
}

pub(crate) const RECORDING_MEDIA_SELECT: &str = "SELECT r.id, r.recording_sid, r.call_record_id, r.status,
        r.sync_status, r.duration_seconds, r.channels, r.source, r.track, r.error_code, r.error, r.storage_key,
        r.media_type, r.sha256, r.size_bytes, r.found_by, r.started_at, r.stored_at, r.created_at, r.updated_at,
        c.call_sid, c.agent_id, c.started_at AS call_started_at, c.legal_hold,
        COALESCE(k.phone, CASE WHEN c.direction = 'inbound' THEN c.from_number ELSE c.to_number END) AS contact_phone
    FROM recordings r
    JOIN call_records c ON c.id = r.call_record_id
    LEFT JOIN contacts k ON k.id = c.contact_id";

impl TryFrom<RecordingMediaRow> for RecordingMedia {
    type Error = StoreError;
    fn try_from(r: RecordingMediaRow) -> Result<Self, StoreError> {
        Ok(RecordingMedia {
            recording: r.recording.try_into()?,
            call_sid: r.call_sid,
            agent_id: r.agent_id.map(UserId),
            call_started_at: r.call_started_at.map(from_ms).transpose()?,
            contact_phone: r.contact_phone,
            legal_hold: r.legal_hold,
        })
    }
}

/// The statement for one [`MediaUpdate`], and its binds after the id and
/// `now` ($1 and $2): each step applies only from the states it follows.
pub(crate) fn update_sql(update: &MediaUpdate) -> (&'static str, Vec<Option<String>>, Option<i64>) {
    match update {
        MediaUpdate::Stored { storage_key, media_type, sha256, size_bytes } => (
            "UPDATE recordings SET sync_status = 'stored', storage_key = $3, media_type = $4, sha256 = $5,
                 size_bytes = $6, stored_at = $2, error = NULL, updated_at = $2
             WHERE id = $1 AND sync_status IN ('pending', 'failed')",
            vec![Some(storage_key.clone()), Some(media_type.clone()), Some(sha256.clone())],
            Some(*size_bytes),
        ),
        MediaUpdate::Verified => (
            "UPDATE recordings SET sync_status = 'verified', error = NULL, updated_at = $2
             WHERE id = $1 AND sync_status = 'stored'",
            vec![],
            None,
        ),
        MediaUpdate::Attempt { reason } => (
            "UPDATE recordings SET error = $3, updated_at = $2 WHERE id = $1 AND sync_status IN ('pending', 'stored')",
            vec![Some(reason.clone())],
            None,
        ),
        MediaUpdate::Failed { reason } => (
            "UPDATE recordings SET sync_status = 'failed', error = $3, updated_at = $2
             WHERE id = $1 AND sync_status IN ('pending', 'stored')",
            vec![Some(reason.clone())],
            None,
        ),
        MediaUpdate::Retry => (
            "UPDATE recordings SET sync_status = 'pending', updated_at = $2 WHERE id = $1 AND sync_status = 'failed'",
            vec![],
            None,
        ),
        MediaUpdate::Deleted { reason } => (
            "UPDATE recordings SET sync_status = 'deleted', error = $3, storage_key = NULL, updated_at = $2
             WHERE id = $1 AND sync_status IN ('stored', 'verified', 'transcribed')",
            vec![Some(reason.clone())],
            None,
        ),
    }
}

macro_rules! impl_media_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl omnivox_core::store::MediaStore for $store {
            async fn recording_media(
                &self,
                id: i64,
            ) -> omnivox_core::store::StoreResult<Option<omnivox_core::store::RecordingMedia>> {
                let sql = format!("{} WHERE r.id = $1", $crate::portable::media::RECORDING_MEDIA_SELECT);
                let row: Option<$crate::portable::media::RecordingMediaRow> =
                    sqlx::query_as(&sql).bind(id).fetch_optional(self.reader()).await.map_err($crate::db_error)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn recording_media_by_sid(
                &self,
                sid: &omnivox_core::RecordingSid,
            ) -> omnivox_core::store::StoreResult<Option<omnivox_core::store::RecordingMedia>> {
                let sql = format!("{} WHERE r.recording_sid = $1", $crate::portable::media::RECORDING_MEDIA_SELECT);
                let row: Option<$crate::portable::media::RecordingMediaRow> = sqlx::query_as(&sql)
                    .bind(sid.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err($crate::db_error)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn update_recording_media(
                &self,
                id: i64,
                update: &omnivox_core::store::MediaUpdate,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<bool> {
                let (sql, texts, number) = $crate::portable::media::update_sql(update);
                let mut query = sqlx::query(sql).bind(id).bind($crate::rows::ms(now));
                for text in texts {
                    query = query.bind(text);
                }
                if let Some(number) = number {
                    query = query.bind(number);
                }
                let done = query.execute(self.writer()).await.map_err($crate::db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn recording_peaks(&self, id: i64) -> omnivox_core::store::StoreResult<Option<String>> {
                sqlx::query_scalar("SELECT peaks FROM recording_peaks WHERE recording_id = $1")
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err($crate::db_error)
            }

            async fn save_recording_peaks(
                &self,
                id: i64,
                peaks_json: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO recording_peaks (recording_id, peaks, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (recording_id) DO UPDATE SET peaks = excluded.peaks, created_at = excluded.created_at",
                )
                .bind(id)
                .bind(peaks_json)
                .bind($crate::rows::ms(now))
                .execute(self.writer())
                .await
                .map_err($crate::db_error)?;
                Ok(())
            }

            async fn expired_media(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                limit: i64,
            ) -> omnivox_core::store::StoreResult<Vec<omnivox_core::store::RecordingMedia>> {
                let sql = format!(
                    "{} JOIN campaigns p ON p.id = c.campaign_id
                     WHERE r.storage_key IS NOT NULL AND r.sync_status IN ('stored', 'verified', 'transcribed')
                       AND NOT c.legal_hold AND p.retention_days IS NOT NULL
                       AND COALESCE(c.started_at, r.created_at) + p.retention_days * 86400000 < $1
                     ORDER BY r.id LIMIT $2",
                    $crate::portable::media::RECORDING_MEDIA_SELECT
                );
                let rows: Vec<$crate::portable::media::RecordingMediaRow> = sqlx::query_as(&sql)
                    .bind($crate::rows::ms(now))
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await
                    .map_err($crate::db_error)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn set_campaign_retention(
                &self,
                campaign_code: &str,
                days: Option<i64>,
            ) -> omnivox_core::store::StoreResult<bool> {
                let done = sqlx::query("UPDATE campaigns SET retention_days = $2 WHERE code = $1")
                    .bind(campaign_code)
                    .bind(days)
                    .execute(self.writer())
                    .await
                    .map_err($crate::db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_legal_hold(
                &self,
                call_record_id: i64,
                hold: bool,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<bool> {
                let done = sqlx::query("UPDATE call_records SET legal_hold = $2, updated_at = $3 WHERE id = $1")
                    .bind(call_record_id)
                    .bind(hold)
                    .bind($crate::rows::ms(now))
                    .execute(self.writer())
                    .await
                    .map_err($crate::db_error)?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}
pub(crate) use impl_media_store;
