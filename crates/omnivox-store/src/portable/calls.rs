macro_rules! impl_call_record_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl omnivox_core::store::CallRecordStore for $store {
            async fn call_record(
                &self,
                id: i64,
            ) -> omnivox_core::store::StoreResult<Option<omnivox_core::store::CallRecordView>> {
                let sql = format!("{} WHERE c.id = $1", $crate::rows::CALL_VIEW_SELECT);
                let row: Option<$crate::rows::CallViewRow> =
                    sqlx::query_as(&sql).bind(id).fetch_optional(self.reader()).await.map_err($crate::db_error)?;
                let Some(row) = row else { return Ok(None) };
                let sql = format!("{} WHERE call_record_id = $1 ORDER BY id", $crate::rows::RECORDING_VIEW_SELECT);
                let recordings: Vec<$crate::rows::RecordingViewRow> =
                    sqlx::query_as(&sql).bind(id).fetch_all(self.reader()).await.map_err($crate::db_error)?;
                let recordings = recordings.into_iter().map(TryInto::try_into).collect::<Result<Vec<_>, _>>()?;
                row.into_view(recordings).map(Some)
            }

            async fn call_record_by_sid(
                &self,
                sid: &omnivox_core::CallSid,
            ) -> omnivox_core::store::StoreResult<Option<omnivox_core::store::CallRecordView>> {
                let id: Option<i64> = sqlx::query_scalar("SELECT id FROM call_records WHERE call_sid = $1")
                    .bind(sid.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err($crate::db_error)?;
                match id {
                    Some(id) => self.call_record(id).await,
                    None => Ok(None),
                }
            }

            async fn count_call_records(&self) -> omnivox_core::store::StoreResult<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM call_records")
                    .fetch_one(self.reader())
                    .await
                    .map_err($crate::db_error)
            }

            async fn count_recordings(&self) -> omnivox_core::store::StoreResult<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM recordings")
                    .fetch_one(self.reader())
                    .await
                    .map_err($crate::db_error)
            }
        }
    };
}
pub(crate) use impl_call_record_store;
