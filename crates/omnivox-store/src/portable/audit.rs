macro_rules! impl_audit_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl omnivox_core::store::AuditStore for $store {
            async fn append_audit(
                &self,
                e: &omnivox_core::store::NewAuditEntry,
            ) -> omnivox_core::store::StoreResult<i64> {
                sqlx::query_scalar(
                    "INSERT INTO audit_log (at, user_id, username, action, target_kind, target_id, client_addr, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind($crate::rows::ms(e.at))
                .bind(e.user_id.map(|u| u.0))
                .bind(&e.username)
                .bind(&e.action)
                .bind(&e.target_kind)
                .bind(&e.target_id)
                .bind(&e.client_addr)
                .bind(&e.detail)
                .fetch_one(self.writer())
                .await
                .map_err($crate::db_error)
            }

            async fn list_audit(
                &self,
                before: Option<i64>,
                limit: i64,
            ) -> omnivox_core::store::StoreResult<Vec<omnivox_core::store::AuditEntry>> {
                let rows: Vec<$crate::rows::AuditRow> = sqlx::query_as(
                    "SELECT id, at, user_id, username, action, target_kind, target_id, client_addr, detail
                     FROM audit_log WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
                )
                .bind(before)
                .bind(limit)
                .fetch_all(self.reader())
                .await
                .map_err($crate::db_error)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}
pub(crate) use impl_audit_store;
