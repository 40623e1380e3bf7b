macro_rules! impl_call_record_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl omnivox_core::store::CallRecordStore for $store {
            async fn ensure_call_record(
                &self,
                call: &omnivox_core::store::NewCallRecord,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<omnivox_core::store::EnsuredCall> {
                use $crate::db_error;
                let now = $crate::rows::ms(now);
                let mut tx = self.writer().begin().await.map_err(db_error)?;

                // Fast path for the (common) repeated callback.
                let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM call_records WHERE call_sid = $1")
                    .bind(call.call_sid.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_error)?;
                if let Some(id) = existing {
                    tx.commit().await.map_err(db_error)?;
                    return Ok(omnivox_core::store::EnsuredCall { id, created: false });
                }

                // Each parent is found-or-created with INSERT … ON CONFLICT DO
                // NOTHING then SELECT: a concurrent creator makes the insert a
                // no-op (PostgreSQL waits for it to commit), never an error.
                sqlx::query("INSERT INTO data_lists (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(&call.campaign_name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                let data_list_id: i64 = sqlx::query_scalar("SELECT id FROM data_lists WHERE name = $1")
                    .bind(&call.campaign_name)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_error)?;

                sqlx::query(
                    "INSERT INTO campaigns (code, name, data_list_id, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (code) DO NOTHING",
                )
                .bind(&call.campaign_code)
                .bind(&call.campaign_name)
                .bind(data_list_id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                let campaign_id: i64 = sqlx::query_scalar("SELECT id FROM campaigns WHERE code = $1")
                    .bind(&call.campaign_code)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_error)?;

                let contact_id: Option<i64> = match &call.contact_phone {
                    None => None,
                    Some(phone) => {
                        sqlx::query(
                            "INSERT INTO contacts (phone, data_list_id, created_at) VALUES ($1, $2, $3)
                             ON CONFLICT (phone) DO NOTHING",
                        )
                        .bind(phone.as_str())
                        .bind(data_list_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                        sqlx::query_scalar("SELECT id FROM contacts WHERE phone = $1")
                            .bind(phone.as_str())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db_error)?
                    }
                };

                let inserted: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO call_records (call_sid, campaign_id, contact_id, sort_at, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $4, $4)
                     ON CONFLICT (call_sid) DO NOTHING
                     RETURNING id",
                )
                .bind(call.call_sid.as_str())
                .bind(campaign_id)
                .bind(contact_id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
                let ensured = match inserted {
                    Some(id) => omnivox_core::store::EnsuredCall { id, created: true },
                    None => {
                        let id = sqlx::query_scalar("SELECT id FROM call_records WHERE call_sid = $1")
                            .bind(call.call_sid.as_str())
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(db_error)?;
                        omnivox_core::store::EnsuredCall { id, created: false }
                    }
                };
                tx.commit().await.map_err(db_error)?;
                Ok(ensured)
            }

            async fn count_call_records(&self) -> omnivox_core::store::StoreResult<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM call_records")
                    .fetch_one(self.reader())
                    .await
                    .map_err($crate::db_error)
            }
        }
    };
}
pub(crate) use impl_call_record_store;
