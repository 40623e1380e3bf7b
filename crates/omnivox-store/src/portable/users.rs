macro_rules! impl_user_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl omnivox_core::store::UserStore for $store {
            async fn create_user(
                &self,
                user: &omnivox_core::store::NewUser,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<omnivox_core::store::User> {
                let row: $crate::rows::UserRow = sqlx::query_as(
                    "INSERT INTO users (username, display_name, role, password_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5)
                     RETURNING id, username, display_name, role, created_at",
                )
                .bind(&user.username)
                .bind(&user.display_name)
                .bind(user.role.as_str())
                .bind(user.password_hash.as_str())
                .bind($crate::rows::ms(now))
                .fetch_one(self.writer())
                .await
                .map_err($crate::unique_or("a user with this name already exists"))?;
                row.try_into()
            }

            async fn get_user(
                &self,
                id: omnivox_core::store::UserId,
            ) -> omnivox_core::store::StoreResult<Option<omnivox_core::store::User>> {
                let row: Option<$crate::rows::UserRow> = sqlx::query_as(
                    "SELECT id, username, display_name, role, created_at FROM users WHERE id = $1",
                )
                .bind(id.0)
                .fetch_optional(self.reader())
                .await
                .map_err($crate::db_error)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_users(&self) -> omnivox_core::store::StoreResult<Vec<omnivox_core::store::User>> {
                let rows: Vec<$crate::rows::UserRow> = sqlx::query_as(
                    "SELECT id, username, display_name, role, created_at FROM users ORDER BY username",
                )
                .fetch_all(self.reader())
                .await
                .map_err($crate::db_error)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn find_user_by_name(
                &self,
                username: &str,
            ) -> omnivox_core::store::StoreResult<Option<omnivox_core::store::User>> {
                let row: Option<$crate::rows::UserRow> = sqlx::query_as(
                    "SELECT id, username, display_name, role, created_at FROM users WHERE username = $1",
                )
                .bind(username)
                .fetch_optional(self.reader())
                .await
                .map_err($crate::db_error)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn user_credentials(
                &self,
                username: &str,
            ) -> omnivox_core::store::StoreResult<
                Option<(omnivox_core::store::User, omnivox_core::store::PasswordHash)>,
            > {
                let row: Option<$crate::rows::CredentialsRow> = sqlx::query_as(
                    "SELECT id, username, display_name, role, created_at, password_hash
                     FROM users WHERE username = $1",
                )
                .bind(username)
                .fetch_optional(self.reader())
                .await
                .map_err($crate::db_error)?;
                match row {
                    None => Ok(None),
                    Some(r) => Ok(Some((
                        r.user.try_into()?,
                        omnivox_core::store::PasswordHash::new(r.password_hash),
                    ))),
                }
            }

            async fn set_password(
                &self,
                id: omnivox_core::store::UserId,
                hash: &omnivox_core::store::PasswordHash,
            ) -> omnivox_core::store::StoreResult<()> {
                let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(hash.as_str())
                    .bind(id.0)
                    .execute(self.writer())
                    .await
                    .map_err($crate::db_error)?;
                if done.rows_affected() == 0 {
                    return Err(omnivox_core::StoreError::NotFound);
                }
                Ok(())
            }

            async fn count_users_with_role(
                &self,
                role: omnivox_core::Role,
            ) -> omnivox_core::store::StoreResult<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = $1")
                    .bind(role.as_str())
                    .fetch_one(self.reader())
                    .await
                    .map_err($crate::db_error)
            }
        }
    };
}
pub(crate) use impl_user_store;

macro_rules! impl_session_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl omnivox_core::store::SessionStore for $store {
            async fn create_session(
                &self,
                token_sha256: &str,
                user: omnivox_core::store::UserId,
                now: chrono::DateTime<chrono::Utc>,
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (token_sha256, user_id, created_at, expires_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(token_sha256)
                .bind(user.0)
                .bind($crate::rows::ms(now))
                .bind($crate::rows::ms(expires_at))
                .execute(self.writer())
                .await
                .map_err($crate::unique_or("session token collision"))?;
                Ok(())
            }

            async fn session_user(
                &self,
                token_sha256: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<Option<omnivox_core::store::User>> {
                let row: Option<$crate::rows::UserRow> = sqlx::query_as(
                    "SELECT u.id, u.username, u.display_name, u.role, u.created_at
                     FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_sha256 = $1 AND s.expires_at > $2",
                )
                .bind(token_sha256)
                .bind($crate::rows::ms(now))
                .fetch_optional(self.reader())
                .await
                .map_err($crate::db_error)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn delete_session(&self, token_sha256: &str) -> omnivox_core::store::StoreResult<bool> {
                let done = sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
                    .bind(token_sha256)
                    .execute(self.writer())
                    .await
                    .map_err($crate::db_error)?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_expired_sessions(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind($crate::rows::ms(now))
                    .execute(self.writer())
                    .await
                    .map_err($crate::db_error)?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use impl_session_store;
