macro_rules! impl_job_store {
    ($store:ty, claim_lock = $lock:literal, kinds_from_json = $kinds:literal) => {
        #[async_trait::async_trait]
        impl omnivox_core::store::JobStore for $store {
            async fn enqueue_job(
                &self,
                job: &omnivox_core::store::NewJob,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<Option<omnivox_core::store::JobId>> {
                // The partial unique index on (kind, dedupe_key) over queued
                // and running jobs turns a duplicate into "no row inserted".
                let id: Option<i64> = sqlx::query_scalar($crate::portable::ENQUEUE_JOB)
                .bind(&job.kind)
                .bind(&job.dedupe_key)
                .bind(sqlx::types::Json(&job.payload))
                .bind(job.max_attempts)
                .bind($crate::rows::ms(job.run_at))
                .bind($crate::rows::ms(now))
                .fetch_optional(self.writer())
                .await
                .map_err($crate::db_error)?;
                Ok(id.map(omnivox_core::store::JobId))
            }

            async fn claim_job(
                &self,
                worker: &str,
                kinds: &[&str],
                now: chrono::DateTime<chrono::Utc>,
                lease_until: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<Option<omnivox_core::store::ClaimedJob>> {
                let row: Option<$crate::rows::ClaimedRow> = sqlx::query_as(concat!(
                    "UPDATE jobs
                     SET state = 'running', locked_by = $1, lease_until = $3, attempts = attempts + 1, updated_at = $2
                     WHERE id = (
                         SELECT id FROM jobs
                         WHERE ((state = 'queued' AND run_at <= $2) OR (state = 'running' AND lease_until < $2))
                           AND kind IN (",
                    $kinds,
                    "($4))
                         ORDER BY run_at, id
                         LIMIT 1 ",
                    $lock,
                    ")
                     RETURNING id, kind, payload, attempts, max_attempts"
                ))
                .bind(worker)
                .bind($crate::rows::ms(now))
                .bind($crate::rows::ms(lease_until))
                .bind(sqlx::types::Json(kinds))
                .fetch_optional(self.writer())
                .await
                .map_err($crate::db_error)?;
                Ok(row.map(|r| omnivox_core::store::ClaimedJob {
                    id: omnivox_core::store::JobId(r.id),
                    kind: r.kind,
                    payload: r.payload.0,
                    attempts: r.attempts,
                    max_attempts: r.max_attempts,
                }))
            }

            async fn extend_lease(
                &self,
                id: omnivox_core::store::JobId,
                worker: &str,
                lease_until: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND locked_by = $2 AND state = 'running'",
                )
                .bind(id.0)
                .bind(worker)
                .bind($crate::rows::ms(lease_until))
                .execute(self.writer())
                .await
                .map_err($crate::db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn complete_job(
                &self,
                id: omnivox_core::store::JobId,
                worker: &str,
            ) -> omnivox_core::store::StoreResult<bool> {
                let done = sqlx::query("DELETE FROM jobs WHERE id = $1 AND locked_by = $2 AND state = 'running'")
                    .bind(id.0)
                    .bind(worker)
                    .execute(self.writer())
                    .await
                    .map_err($crate::db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn retry_job_later(
                &self,
                id: omnivox_core::store::JobId,
                worker: &str,
                run_at: chrono::DateTime<chrono::Utc>,
                error: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE jobs SET state = 'queued', locked_by = NULL, lease_until = NULL,
                         run_at = $3, last_error = $4, updated_at = $5
                     WHERE id = $1 AND locked_by = $2 AND state = 'running'",
                )
                .bind(id.0)
                .bind(worker)
                .bind($crate::rows::ms(run_at))
                .bind(error)
                .bind($crate::rows::ms(now))
                .execute(self.writer())
                .await
                .map_err($crate::db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn bury_job(
                &self,
                id: omnivox_core::store::JobId,
                worker: &str,
                error: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE jobs SET state = 'dead', locked_by = NULL, lease_until = NULL,
                         last_error = $3, updated_at = $4
                     WHERE id = $1 AND locked_by = $2 AND state = 'running'",
                )
                .bind(id.0)
                .bind(worker)
                .bind(error)
                .bind($crate::rows::ms(now))
                .execute(self.writer())
                .await
                .map_err($crate::db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn release_job(
                &self,
                id: omnivox_core::store::JobId,
                worker: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<bool> {
                // The attempt did not happen: give it back to the budget.
                let done = sqlx::query(
                    "UPDATE jobs SET state = 'queued', locked_by = NULL, lease_until = NULL,
                         attempts = attempts - 1, updated_at = $3
                     WHERE id = $1 AND locked_by = $2 AND state = 'running'",
                )
                .bind(id.0)
                .bind(worker)
                .bind($crate::rows::ms(now))
                .execute(self.writer())
                .await
                .map_err($crate::db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn requeue_dead_job(
                &self,
                id: omnivox_core::store::JobId,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<bool> {
                let result = sqlx::query(
                    "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, updated_at = $2
                     WHERE id = $1 AND state = 'dead'",
                )
                .bind(id.0)
                .bind($crate::rows::ms(now))
                .execute(self.writer())
                .await;
                match result {
                    Ok(done) => Ok(done.rows_affected() == 1),
                    // The same work is already queued: the dead copy is redundant.
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        sqlx::query("DELETE FROM jobs WHERE id = $1 AND state = 'dead'")
                            .bind(id.0)
                            .execute(self.writer())
                            .await
                            .map_err($crate::db_error)?;
                        Ok(true)
                    }
                    Err(e) => Err($crate::db_error(e)),
                }
            }

            async fn list_jobs(
                &self,
                state: omnivox_core::store::JobState,
                limit: i64,
            ) -> omnivox_core::store::StoreResult<Vec<omnivox_core::store::JobRow>> {
                let rows: Vec<$crate::rows::JobRecord> = sqlx::query_as(
                    "SELECT id, kind, state, dedupe_key, payload, attempts, max_attempts, run_at, last_error, created_at, updated_at
                     FROM jobs WHERE state = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(state.as_str())
                .bind(limit)
                .fetch_all(self.reader())
                .await
                .map_err($crate::db_error)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn get_job(
                &self,
                id: omnivox_core::store::JobId,
            ) -> omnivox_core::store::StoreResult<Option<omnivox_core::store::JobRow>> {
                let row: Option<$crate::rows::JobRecord> = sqlx::query_as(
                    "SELECT id, kind, state, dedupe_key, payload, attempts, max_attempts, run_at, last_error, created_at, updated_at
                     FROM jobs WHERE id = $1",
                )
                .bind(id.0)
                .fetch_optional(self.reader())
                .await
                .map_err($crate::db_error)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn next_job_due(
                &self,
                kinds: &[&str],
            ) -> omnivox_core::store::StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
                let next: Option<i64> = sqlx::query_scalar(concat!(
                    "SELECT MIN(t) FROM (
                         SELECT MIN(run_at) AS t FROM jobs WHERE state = 'queued' AND kind IN (",
                    $kinds,
                    "($1))
                         UNION ALL
                         SELECT MIN(lease_until) AS t FROM jobs WHERE state = 'running' AND kind IN (",
                    $kinds,
                    "($1))
                     ) AS due"
                ))
                .bind(sqlx::types::Json(kinds))
                .fetch_one(self.reader())
                .await
                .map_err($crate::db_error)?;
                next.map($crate::rows::from_ms).transpose()
            }
        }
    };
}
pub(crate) use impl_job_store;
