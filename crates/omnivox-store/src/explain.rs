//! Query plans of the Call Records list, for the benchmark and for anyone
//! checking that a filter is served by an index: the statements
//! `list_call_records` would run for a query, each with the plan the
//! database chose (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on PostgreSQL).

use omnivox_core::store::{CallListQuery, StoreResult};

use crate::portable::call_list::{self as list, Statement, Value};
use crate::{db_error, PgStore, SqliteStore};

/// One statement and its plan, a line per node.
#[derive(Debug, Clone)]
pub struct ExplainedStatement {
    pub sql: String,
    pub plan: Vec<String>,
}

macro_rules! impl_explain {
    ($store:ty, db = $db:ty, list = $dialect:expr, explain = $explain:literal, plan = $plan:expr) => {
        impl $store {
            /// The statements the list runs for `q` (the contact search, if
            /// any, then the page of ids), with their plans.
            pub async fn explain_call_list(&self, q: &CallListQuery) -> StoreResult<Vec<ExplainedStatement>> {
                type Args<'q> = <$db as sqlx::Database>::Arguments<'q>;
                fn query<'q, O>(sql: &'q str, s: &'q Statement) -> sqlx::query::QueryAs<'q, $db, O, Args<'q>>
                where
                    O: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row>,
                {
                    let mut query = sqlx::query_as(sql);
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
                let mut out = Vec::new();
                let mut found: Vec<i64> = Vec::new();
                let probe = list::matching_contacts(q, dialect);
                if let Some(s) = &probe {
                    let rows: Vec<(i64,)> = query(&s.sql, s).fetch_all(self.reader()).await.map_err(db_error)?;
                    found = rows.into_iter().map(|(id,)| id).collect();
                    let sql = format!("{} {}", $explain, s.sql);
                    let plan = $plan(query(&sql, s).fetch_all(self.reader()).await.map_err(db_error)?);
                    out.push(ExplainedStatement { sql: s.sql.clone(), plan });
                }
                let Some(contacts) = list::contacts_strategy(probe.is_some(), &found) else { return Ok(out) };
                let s = list::page_ids(q, contacts, dialect);
                let sql = format!("{} {}", $explain, s.sql);
                let plan = $plan(query(&sql, &s).fetch_all(self.reader()).await.map_err(db_error)?);
                out.push(ExplainedStatement { sql: s.sql.clone(), plan });
                Ok(out)
            }
        }
    };
}

/// SQLite's plan rows `(id, parent, notused, detail)` as an indented tree.
fn sqlite_plan(rows: Vec<(i64, i64, i64, String)>) -> Vec<String> {
    let mut depth: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    rows.into_iter()
        .map(|(id, parent, _, detail)| {
            let d = depth.get(&parent).map_or(0, |d| d + 1);
            depth.insert(id, d);
            format!("{}{detail}", "  ".repeat(d))
        })
        .collect()
}

fn pg_plan(rows: Vec<(String,)>) -> Vec<String> {
    rows.into_iter().map(|(line,)| line).collect()
}

impl_explain!(SqliteStore, db = sqlx::Sqlite, list = list::SQLITE, explain = "EXPLAIN QUERY PLAN", plan = sqlite_plan);
impl_explain!(PgStore, db = sqlx::Postgres, list = list::POSTGRES, explain = "EXPLAIN", plan = pg_plan);
