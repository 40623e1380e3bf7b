//! Reading call records: one call, its timeline, and the Call Records list
//! (whose SQL is built in `call_list`).

macro_rules! impl_call_record_store {
    ($store:ty, db = $db:ty, list = $dialect:expr) => {
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

            async fn list_call_records(
                &self,
                q: &omnivox_core::store::CallListQuery,
            ) -> omnivox_core::store::StoreResult<omnivox_core::store::CallPage> {
                use $crate::portable::call_list::{self as list, Statement, Value};
                type Args<'q> = <$db as sqlx::Database>::Arguments<'q>;

                fn query<'q, O>(s: &'q Statement) -> sqlx::query::QueryAs<'q, $db, O, Args<'q>>
                where
                    O: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row>,
                {
                    let mut query = sqlx::query_as(&s.sql);
                    for v in &s.values {
                        query = match v {
                            Value::Int(i) => query.bind(*i),
                            Value::Text(t) => query.bind(t.as_str()),
                            Value::Bool(b) => query.bind(*b),
                        };
                    }
                    query
                }

                let dialect = &$dialect;
                let db = $crate::db_error;
                let probe = list::matching_contacts(q, dialect);
                let mut found: Vec<i64> = Vec::new();
                if let Some(s) = &probe {
                    let rows: Vec<(i64,)> = query(s).fetch_all(self.reader()).await.map_err(db)?;
                    found = rows.into_iter().map(|(id,)| id).collect();
                }
                let Some(contacts) = list::contacts_strategy(probe.is_some(), &found) else {
                    return Ok(omnivox_core::store::CallPage { items: vec![], next: None });
                };
                let s = list::page_ids(q, contacts, dialect);
                let mut page: Vec<(i64, i64)> = query(&s).fetch_all(self.reader()).await.map_err(db)?;
                let limit = q.limit as usize;
                let next = match page.len() > limit {
                    true => {
                        page.truncate(limit);
                        page.last().map(|&(id, sort_at_ms)| omnivox_core::store::CallListPosition { sort_at_ms, id })
                    }
                    false => None,
                };
                if page.is_empty() {
                    return Ok(omnivox_core::store::CallPage { items: vec![], next });
                }
                let ids: Vec<i64> = page.iter().map(|&(id, _)| id).collect();
                let s = list::calls_by_id(&ids);
                let calls: Vec<$crate::rows::CallViewRow> = query(&s).fetch_all(self.reader()).await.map_err(db)?;
                let s = list::recordings_of(&ids);
                let recordings: Vec<$crate::rows::RecordingViewRow> =
                    query(&s).fetch_all(self.reader()).await.map_err(db)?;
                let mut by_call: std::collections::HashMap<i64, Vec<omnivox_core::store::RecordingView>> =
                    std::collections::HashMap::new();
                for r in recordings {
                    by_call.entry(r.call_record_id).or_default().push(r.try_into()?);
                }
                let items = calls
                    .into_iter()
                    .map(|c| {
                        let recordings = by_call.remove(&c.id).unwrap_or_default();
                        c.into_view(recordings)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(omnivox_core::store::CallPage { items, next })
            }

            async fn call_events(
                &self,
                call_record_id: i64,
            ) -> omnivox_core::store::StoreResult<Vec<omnivox_core::store::CallEventView>> {
                let sql = format!("{} WHERE call_record_id = $1 ORDER BY id", $crate::call_events::CALL_EVENT_SELECT);
                let rows: Vec<$crate::call_events::CallEventRow> = sqlx::query_as(&sql)
                    .bind(call_record_id)
                    .fetch_all(self.reader())
                    .await
                    .map_err($crate::db_error)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn list_campaigns(&self) -> omnivox_core::store::StoreResult<Vec<omnivox_core::store::CampaignView>> {
                let rows: Vec<(String, String)> =
                    sqlx::query_as("SELECT code, name FROM campaigns ORDER BY name, code")
                        .fetch_all(self.reader())
                        .await
                        .map_err($crate::db_error)?;
                Ok(rows.into_iter().map(|(id, name)| omnivox_core::store::CampaignView { id, name }).collect())
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
