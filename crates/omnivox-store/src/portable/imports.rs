//! Import runs, their items, and the lookups the walk makes a page at a time.

/// Columns of a run, for `ImportRunRow`.
pub(crate) const RUN_COLUMNS: &str = "id, state, date_created_after, date_created_before, dry_run, next_page_uri,
     pages_read, seen, page_items, total, error, created_by, created_at, finished_at";

/// Bound parameters per statement when a page's SIDs are looked up or its items written.
pub(crate) const CHUNK: usize = 500;

macro_rules! impl_import_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// The run with the counts of its items.
            async fn import_run_with_counts(
                &self,
                row: $crate::rows::ImportRunRow,
            ) -> omnivox_core::store::StoreResult<omnivox_core::store::ImportRun> {
                let counts: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT outcome, COUNT(*) FROM import_items WHERE import_run_id = $1 GROUP BY outcome",
                )
                .bind(row.id)
                .fetch_all(self.reader())
                .await
                .map_err($crate::db_error)?;
                row.into_run(&counts)
            }

            async fn running_import_runs(
                conn: &mut <$db as sqlx::Database>::Connection,
            ) -> omnivox_core::store::StoreResult<Vec<$crate::rows::ImportRunRow>> {
                let sql = format!(
                    "SELECT {} FROM import_runs WHERE state = 'running' ORDER BY id",
                    $crate::portable::imports::RUN_COLUMNS
                );
                sqlx::query_as(&sql).fetch_all(&mut *conn).await.map_err($crate::db_error)
            }

            /// Runs `SELECT … WHERE column IN (sids)` a chunk at a time.
            async fn sids_in<T>(&self, prefix: &str, sids: &[String]) -> omnivox_core::store::StoreResult<Vec<T>>
            where
                T: Send + Unpin + for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row>,
            {
                let mut found = Vec::new();
                for chunk in sids.chunks($crate::portable::imports::CHUNK) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(prefix);
                    query.push(" (");
                    let mut list = query.separated(", ");
                    for sid in chunk {
                        list.push_bind(sid.as_str());
                    }
                    query.push(")");
                    let rows: Vec<T> =
                        query.build_query_as().fetch_all(self.reader()).await.map_err($crate::db_error)?;
                    found.extend(rows);
                }
                Ok(found)
            }
        }

        #[async_trait::async_trait]
        impl omnivox_core::store::ImportStore for $store {
            async fn start_import_run(
                &self,
                run: &omnivox_core::store::NewImportRun,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<
                Result<omnivox_core::store::ImportRun, omnivox_core::store::ImportRun>,
            > {
                use $crate::rows::ms;
                let mut tx = self.writer().begin().await.map_err($crate::db_error)?;
                // Takes the guard row's lock first: concurrent starts queue here,
                // so each sees the runs the others committed.
                sqlx::query("UPDATE import_guard SET touched_at = $1 WHERE id = 1")
                    .bind(ms(now))
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::db_error)?;
                for row in Self::running_import_runs(&mut *tx).await? {
                    let other = row.into_run(&[])?;
                    if other.range().overlaps(&run.range) {
                        tx.rollback().await.map_err($crate::db_error)?;
                        return Ok(Err(other));
                    }
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO import_runs (state, date_created_after, date_created_before, dry_run, next_page_uri,
                                              created_by, created_at, updated_at)
                     VALUES ('running', $1, $2, $3, $4, $5, $6, $6) RETURNING id",
                )
                .bind(run.range.after.map(ms))
                .bind(run.range.before.map(ms))
                .bind(run.dry_run)
                .bind(&run.first_page_uri)
                .bind(run.created_by.map(|u| u.0))
                .bind(ms(now))
                .fetch_one(&mut *tx)
                .await
                .map_err($crate::db_error)?;
                sqlx::query($crate::portable::ENQUEUE_JOB)
                    .bind(omnivox_core::store::IMPORT_JOB_KIND)
                    .bind(id.to_string())
                    .bind(sqlx::types::Json(serde_json::json!({ "importId": id })))
                    .bind(omnivox_core::store::IMPORT_JOB_MAX_ATTEMPTS)
                    .bind(ms(now))
                    .bind(ms(now))
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::db_error)?;
                tx.commit().await.map_err($crate::db_error)?;
                let created = self.import_run(id).await?.ok_or(omnivox_core::StoreError::NotFound)?;
                Ok(Ok(created))
            }

            async fn import_run(&self, id: i64) -> omnivox_core::store::StoreResult<Option<omnivox_core::store::ImportRun>> {
                let sql =
                    format!("SELECT {} FROM import_runs WHERE id = $1", $crate::portable::imports::RUN_COLUMNS);
                let row: Option<$crate::rows::ImportRunRow> =
                    sqlx::query_as(&sql).bind(id).fetch_optional(self.reader()).await.map_err($crate::db_error)?;
                match row {
                    Some(row) => self.import_run_with_counts(row).await.map(Some),
                    None => Ok(None),
                }
            }

            async fn list_import_runs(
                &self,
                limit: i64,
            ) -> omnivox_core::store::StoreResult<Vec<omnivox_core::store::ImportRun>> {
                let sql = format!(
                    "SELECT {} FROM import_runs ORDER BY id DESC LIMIT $1",
                    $crate::portable::imports::RUN_COLUMNS
                );
                let rows: Vec<$crate::rows::ImportRunRow> =
                    sqlx::query_as(&sql).bind(limit).fetch_all(self.reader()).await.map_err($crate::db_error)?;
                let mut runs = Vec::with_capacity(rows.len());
                for row in rows {
                    runs.push(self.import_run_with_counts(row).await?);
                }
                Ok(runs)
            }

            async fn import_page_fetched(
                &self,
                id: i64,
                items: i64,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<()> {
                sqlx::query("UPDATE import_runs SET page_items = $2, updated_at = $3 WHERE id = $1 AND state = 'running'")
                    .bind(id)
                    .bind(items)
                    .bind($crate::rows::ms(now))
                    .execute(self.writer())
                    .await
                    .map_err($crate::db_error)?;
                Ok(())
            }

            async fn checkpoint_import_run(
                &self,
                id: i64,
                next_page_uri: Option<&str>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<()> {
                let mut tx = self.writer().begin().await.map_err($crate::db_error)?;
                sqlx::query(
                    "UPDATE import_runs
                     SET next_page_uri = $2, pages_read = pages_read + 1, seen = seen + page_items, page_items = 0,
                         updated_at = $3
                     WHERE id = $1 AND state = 'running'",
                )
                .bind(id)
                .bind(next_page_uri)
                .bind($crate::rows::ms(now))
                .execute(&mut *tx)
                .await
                .map_err($crate::db_error)?;
                if next_page_uri.is_none() {
                    // The last page: the run is complete and Twilio's total known.
                    // (The other counts are always those of the items.)
                    sqlx::query(
                        "UPDATE import_runs SET state = 'completed', finished_at = $2, total = seen
                         WHERE id = $1 AND state = 'running'",
                    )
                    .bind(id)
                    .bind($crate::rows::ms(now))
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::db_error)?;
                }
                tx.commit().await.map_err($crate::db_error)
            }

            async fn fail_import_run(
                &self,
                id: i64,
                reason: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> omnivox_core::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE import_runs SET state = 'failed', error = $2, finished_at = $3, updated_at = $3
                     WHERE id = $1 AND state = 'running'",
                )
                .bind(id)
                .bind(reason)
                .bind($crate::rows::ms(now))
                .execute(self.writer())
                .await
                .map_err($crate::db_error)?;
                Ok(())
            }

            async fn record_import_items(
                &self,
                id: i64,
                items: &[omnivox_core::store::ImportItem],
            ) -> omnivox_core::store::StoreResult<()> {
                // Four binds per item.
                for chunk in items.chunks($crate::portable::imports::CHUNK / 4) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO import_items (import_run_id, recording_sid, outcome, reason) ",
                    );
                    query.push_values(chunk, |mut row, item| {
                        row.push_bind(id)
                            .push_bind(item.recording_sid.as_str())
                            .push_bind(item.outcome.as_str())
                            .push_bind(item.reason.as_deref());
                    });
                    query.push(" ON CONFLICT (import_run_id, recording_sid) DO NOTHING");
                    query.build().execute(self.writer()).await.map_err($crate::db_error)?;
                }
                Ok(())
            }

            async fn recorded_import_items(
                &self,
                id: i64,
                sids: &[String],
            ) -> omnivox_core::store::StoreResult<std::collections::HashSet<String>> {
                let prefix = format!("SELECT recording_sid FROM import_items WHERE import_run_id = {id} AND recording_sid IN");
                let rows: Vec<(String,)> = self.sids_in(&prefix, sids).await?;
                Ok(rows.into_iter().map(|(s,)| s).collect())
            }

            async fn imported_by_any_run(
                &self,
                sids: &[String],
            ) -> omnivox_core::store::StoreResult<std::collections::HashSet<String>> {
                let prefix = "SELECT recording_sid FROM import_items WHERE outcome = 'imported' AND recording_sid IN";
                let rows: Vec<(String,)> = self.sids_in(prefix, sids).await?;
                Ok(rows.into_iter().map(|(s,)| s).collect())
            }

            async fn list_import_items(
                &self,
                id: i64,
                outcome: Option<omnivox_core::store::ItemOutcome>,
                after: Option<i64>,
                limit: i64,
            ) -> omnivox_core::store::StoreResult<Vec<omnivox_core::store::ImportItemRow>> {
                let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
                    "SELECT id, recording_sid, outcome, reason FROM import_items
                     WHERE import_run_id = $1 AND ($2 IS NULL OR outcome = $2) AND ($3 IS NULL OR id > $3)
                     ORDER BY id LIMIT $4",
                )
                .bind(id)
                .bind(outcome.map(|o| o.as_str()))
                .bind(after)
                .bind(limit)
                .fetch_all(self.reader())
                .await
                .map_err($crate::db_error)?;
                rows.into_iter()
                    .map(|(id, recording_sid, outcome, reason)| {
                        Ok(omnivox_core::store::ImportItemRow {
                            id,
                            item: omnivox_core::store::ImportItem {
                                recording_sid,
                                outcome: $crate::rows::item_outcome(&outcome)?,
                                reason,
                            },
                        })
                    })
                    .collect()
            }

            async fn import_reasons(
                &self,
                id: i64,
            ) -> omnivox_core::store::StoreResult<Vec<omnivox_core::store::ReasonCount>> {
                let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
                    "SELECT outcome, reason, COUNT(*) FROM import_items WHERE import_run_id = $1
                     GROUP BY outcome, reason ORDER BY outcome, COUNT(*) DESC",
                )
                .bind(id)
                .fetch_all(self.reader())
                .await
                .map_err($crate::db_error)?;
                rows.into_iter()
                    .map(|(outcome, reason, count)| {
                        Ok(omnivox_core::store::ReasonCount {
                            outcome: $crate::rows::item_outcome(&outcome)?,
                            reason,
                            count,
                        })
                    })
                    .collect()
            }

            async fn known_recordings(
                &self,
                sids: &[String],
            ) -> omnivox_core::store::StoreResult<
                std::collections::HashMap<String, omnivox_core::ingest::FoundBy>,
            > {
                let prefix = "SELECT recording_sid, found_by FROM recordings WHERE recording_sid IN";
                let rows: Vec<(String, String)> = self.sids_in(prefix, sids).await?;
                rows.into_iter()
                    .map(|(sid, found_by)| {
                        let found_by = omnivox_core::ingest::FoundBy::parse(&found_by)
                            .ok_or_else(|| omnivox_core::StoreError::Corrupt(format!("found_by {found_by:?}")))?;
                        Ok((sid, found_by))
                    })
                    .collect()
            }

            async fn known_calls(
                &self,
                sids: &[String],
            ) -> omnivox_core::store::StoreResult<std::collections::HashSet<String>> {
                let rows: Vec<(String,)> =
                    self.sids_in("SELECT call_sid FROM call_records WHERE call_sid IN", sids).await?;
                Ok(rows.into_iter().map(|(s,)| s).collect())
            }

            async fn sync_gaps(
                &self,
                limit: i64,
            ) -> omnivox_core::store::StoreResult<(i64, Vec<omnivox_core::store::SyncGap>)> {
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recordings WHERE found_by = 'sweep'")
                    .fetch_one(self.reader())
                    .await
                    .map_err($crate::db_error)?;
                let rows: Vec<(i64, String, i64, i64)> = sqlx::query_as(
                    "SELECT id, recording_sid, call_record_id, created_at FROM recordings
                     WHERE found_by = 'sweep' ORDER BY created_at DESC, id DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(self.reader())
                .await
                .map_err($crate::db_error)?;
                let gaps = rows
                    .into_iter()
                    .map(|(recording_id, recording_sid, call_record_id, at)| {
                        Ok(omnivox_core::store::SyncGap {
                            recording_id,
                            recording_sid,
                            call_record_id,
                            found_at: $crate::rows::from_ms(at)?,
                        })
                    })
                    .collect::<omnivox_core::store::StoreResult<Vec<_>>>()?;
                Ok((total, gaps))
            }
        }
    };
}
pub(crate) use impl_import_store;
