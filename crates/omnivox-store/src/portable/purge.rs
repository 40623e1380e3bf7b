//! Purging every call record. Children are deleted before their parents
//! (rather than left to `ON DELETE CASCADE`) so the order is the same, and
//! visible, on both backends.

macro_rules! impl_purge_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl omnivox_core::store::PurgeStore for $store {
            async fn purge_call_records(
                &self,
                job_kinds: &[&str],
            ) -> omnivox_core::store::StoreResult<omnivox_core::store::PurgedCallRecords> {
                let mut tx = self.writer().begin().await.map_err($crate::db_error)?;
                let storage_keys: Vec<String> =
                    sqlx::query_scalar("SELECT storage_key FROM recordings WHERE storage_key IS NOT NULL ORDER BY id")
                        .fetch_all(&mut *tx)
                        .await
                        .map_err($crate::db_error)?;
                for table in ["recording_peaks", "transcripts"] {
                    sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await.map_err($crate::db_error)?;
                }
                let recordings = sqlx::query("DELETE FROM recordings")
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::db_error)?
                    .rows_affected();
                sqlx::query("DELETE FROM call_events").execute(&mut *tx).await.map_err($crate::db_error)?;
                let call_records = sqlx::query("DELETE FROM call_records")
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::db_error)?
                    .rows_affected();
                for kind in job_kinds {
                    sqlx::query("DELETE FROM jobs WHERE kind = $1 AND state <> 'running'")
                        .bind(*kind)
                        .execute(&mut *tx)
                        .await
                        .map_err($crate::db_error)?;
                }
                tx.commit().await.map_err($crate::db_error)?;
                Ok(omnivox_core::store::PurgedCallRecords { call_records, recordings, storage_keys })
            }
        }
    };
}
pub(crate) use impl_purge_store;
