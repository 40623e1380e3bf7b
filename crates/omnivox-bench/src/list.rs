//! `list`: the Call Records list on a database seeded by `seed-calls`.
//! For each filter (none, each one alone, a combination, and the searches
//! by part of a phone number or of a name) and for two pages (the first,
//! and a deep one starting at the middle of the year, about half the
//! matching rows down), it measures p50/p95 of
//! - end to end: `GET /api/call-records` from the service built in-process
//!   (`Application`, the same router `omnivox serve` runs) over loopback
//!   HTTP, one request at a time;
//! - in the database: the store's `list_call_records` (every statement of a
//!   page: the contact search if any, the page of ids, the rows, their
//!   recordings), called directly;
//!
//! and prints the plan of each statement, so that index use is visible.

use std::time::{Duration, Instant};

use omnivox_core::store::{CallListQuery, User, UserId};
use omnivox_core::Role;
use omnivox_http::calls::{CallListParams, Cursor};
use omnivox_store::{ExplainedStatement, PgStore, PoolSettings, SqliteStore};

use crate::bulk::bench_url;
use crate::seed_calls::{END_MS, SPAN_MS};
use crate::server::BenchServer;
use crate::Database;

const PASSWORD: &str = "bench-password-not-secret";

enum Explainer {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Explainer {
    async fn explain(&self, q: &CallListQuery) -> anyhow::Result<Vec<ExplainedStatement>> {
        Ok(match self {
            Explainer::Sqlite(s) => s.explain_call_list(q).await?,
            Explainer::Postgres(s) => s.explain_call_list(q).await?,
        })
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64) * p).ceil() as usize;
    sorted.get(i.saturating_sub(1).min(sorted.len().saturating_sub(1))).copied().unwrap_or_default().as_secs_f64() * 1e3
}

/// The filters measured: `(name, query string)`, values picked from the seeded data.
async fn cases(store: &dyn omnivox_core::Store) -> anyhow::Result<Vec<(String, String)>> {
    let newest = store.list_call_records(&CallListQuery { limit: 1, ..CallListQuery::default() }).await?;
    let call = newest.items.first().ok_or_else(|| anyhow::anyhow!("no calls: run seed-calls first"))?;
    let sid = call.call_id.clone();
    let phone = call.contact_phone.clone().unwrap_or_else(|| "+12125550100".into());
    let week_from = chrono::DateTime::from_timestamp_millis(END_MS - SPAN_MS / 2).unwrap_or_default();
    let week_to = week_from + chrono::Duration::days(7);
    Ok(vec![
        ("no filter".into(), String::new()),
        ("campaignId (large, ~40%)".into(), "campaignId=LIVE-CALLS".into()),
        ("campaignId (small, ~1%)".into(), "campaignId=CAMPAIGN-12".into()),
        ("agentId (~2%)".into(), "agentId=9".into()),
        ("status=busy (~10%)".into(), "status=busy".into()),
        ("direction=inbound (~25%)".into(), "direction=inbound".into()),
        ("hasRecording=true".into(), "hasRecording=true".into()),
        ("hasRecording=false".into(), "hasRecording=false".into()),
        (
            "from/to (one week)".into(),
            format!("from={}&to={}", week_from.format("%Y-%m-%d"), week_to.format("%Y-%m-%d")),
        ),
        ("callSid (exact)".into(), format!("callSid={sid}")),
        ("q=CallSid prefix (8 chars)".into(), format!("q={}", &sid[..8])),
        ("campaign+status+hasRecording".into(), "campaignId=CAMPAIGN-03&status=completed&hasRecording=true".into()),
        ("agentId+direction".into(), "agentId=4&direction=inbound".into()),
        ("phone, 3 digits (area code)".into(), "phone=415".into()),
        ("phone, 4 digits".into(), "phone=4821".into()),
        ("phone, 7 digits".into(), format!("phone={}", &phone[phone.len() - 7..])),
        ("phone, whole number".into(), format!("phone={}", phone.trim_start_matches('+'))),
        ("q=name part".into(), "q=nguy".into()),
        ("phone 3 digits + status".into(), "phone=212&status=no-answer".into()),
    ])
}

pub async fn run(database: Database, url: Option<String>, requests: usize, plans: bool) -> anyhow::Result<()> {
    let db_url = bench_url(database, url);
    let media = tempfile::tempdir()?;
    let storage = format!("file://{}", media.path().display());
    let env = [
        ("OMNIVOX_JOB_CONCURRENCY", "0"),
        ("OMNIVOX_STORAGE_URL", storage.as_str()),
        ("OMNIVOX_ADMIN_PASSWORD", PASSWORD),
    ];
    let server = BenchServer::start(&db_url, &env).await?;
    let addr = server.addr;
    let store = server.store.clone();
    let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
    let token = server.admin_token(&client, PASSWORD).await?;
    let explainer = match database {
        Database::Sqlite => Explainer::Sqlite(SqliteStore::connect(&db_url, &PoolSettings::default()).await?),
        Database::Postgres => Explainer::Postgres(PgStore::connect(&db_url, &PoolSettings::default()).await?),
    };
    let admin = User {
        id: UserId(0),
        username: "bench".into(),
        display_name: None,
        role: Role::Admin,
        created_at: chrono::Utc::now(),
    };
    println!("{} calls; {requests} requests per row, after 5 warm-up requests", store.count_call_records().await?);
    println!();
    println!("| filter | page | rows | end to end p50 ms | p95 ms | database p50 ms | p95 ms |");
    println!("|---|---|---|---|---|---|---|");
    let mut explained = Vec::new();
    for (name, qs) in cases(store.as_ref()).await? {
        let params: CallListParams = params_of(&qs)?;
        let query = params.into_query(&admin)?.ok_or_else(|| anyhow::anyhow!("{qs}: nothing to list"))?;
        let middle = query
            .from
            .zip(query.to)
            .map_or(END_MS - SPAN_MS / 2, |(f, t)| (f.timestamp_millis() + t.timestamp_millis()) / 2);
        let deep = omnivox_core::store::CallListPosition { sort_at_ms: middle, id: i64::MAX };
        for (page, after) in [("first", None), ("deep", Some(deep))] {
            let q = CallListQuery { after, ..query.clone() };
            let mut path = format!("/api/call-records?{qs}");
            if let Some(a) = after {
                path.push_str(&format!("{}cursor={}", if qs.is_empty() { "" } else { "&" }, Cursor(a).encode()));
            }
            let url = format!("http://{addr}{path}");
            let mut e2e = Vec::with_capacity(requests);
            let mut rows = 0;
            for i in 0..requests + 5 {
                let t = Instant::now();
                let body: serde_json::Value =
                    client.get(&url).bearer_auth(&token).send().await?.error_for_status()?.json().await?;
                if i >= 5 {
                    e2e.push(t.elapsed());
                }
                rows = body["items"].as_array().map_or(0, Vec::len);
            }
            let mut in_db = Vec::with_capacity(requests);
            for i in 0..requests + 5 {
                let t = Instant::now();
                let page = store.list_call_records(&q).await?;
                if i >= 5 {
                    in_db.push(t.elapsed());
                }
                anyhow::ensure!(page.items.len() == rows, "{name}: the API and the store disagree");
            }
            e2e.sort();
            in_db.sort();
            println!(
                "| {name} | {page} | {rows} | {:.1} | {:.1} | {:.1} | {:.1} |",
                pct(&e2e, 0.5),
                pct(&e2e, 0.95),
                pct(&in_db, 0.5),
                pct(&in_db, 0.95)
            );
            if plans {
                explained.push((format!("{name}, {page} page: {path}"), explainer.explain(&q).await?));
            }
        }
    }
    for (title, statements) in explained {
        println!("\n#### {title}");
        for s in statements {
            let plan: Vec<String> = s.plan.iter().map(|l| abridged(l)).collect();
            println!("```\n{}\n--\n{}\n```", abridged(&s.sql), plan.join("\n"));
        }
    }
    server.stop().await?;
    Ok(())
}

/// A line cut to 240 characters (a list of a thousand contact ids says
/// nothing more than its start).
fn abridged(line: &str) -> String {
    match line.char_indices().nth(240) {
        Some((i, _)) => format!("{}… ({} characters)", &line[..i], line.len()),
        None => line.to_owned(),
    }
}

/// The query string as the API's extractor reads it.
fn params_of(qs: &str) -> anyhow::Result<CallListParams> {
    let uri: axum::http::Uri = format!("/?{qs}").parse()?;
    Ok(axum::extract::Query::<CallListParams>::try_from_uri(&uri)?.0)
}
