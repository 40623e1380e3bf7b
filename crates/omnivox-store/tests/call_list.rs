//! The Call Records list on both backends: every filter alone and
//! combined, keyset pages with neither repeats nor gaps while calls keep
//! arriving, partial phone and name search by either strategy, and the
//! call's timeline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use omnivox_core::store::{Backend, CallListQuery, NewUser, PasswordHash, PhoneDigits, TextSearch, UserId};
use omnivox_core::{CallSid, Role};
use omnivox_testkit::calls::{seed_call, SeedCall};
use omnivox_testkit::{both_backends, TestDb};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 16, 9, 0, 0).unwrap()
}

async fn agent(db: &TestDb, name: &str) -> UserId {
    let user = NewUser {
        username: name.into(),
        display_name: None,
        role: Role::Agent,
        password_hash: PasswordHash::new("x".into()),
    };
    db.store.create_user(&user, t0()).await.unwrap().id
}

/// Runs SQL the store has no method for (contact names, many contacts).
async fn execute(db: &TestDb, sql: &str) {
    match db.backend() {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

/// Forty calls across three campaigns, two agents (and none), five
/// statuses, three directions, eight customers; every third recorded;
/// some share a sort time.
async fn seed_world(db: &TestDb) -> (Vec<(i64, SeedCall)>, [UserId; 2]) {
    let agents = [agent(db, "alice").await, agent(db, "bob").await];
    let mut calls = Vec::new();
    for n in 0..40u32 {
        let mut c = SeedCall::new(n, t0() + Duration::minutes(i64::from(n / 2)));
        c.campaign = match n % 3 {
            0 => None,
            1 => Some("SALES".into()),
            _ => Some("SUPPORT".into()),
        };
        c.agent = [Some(agents[0]), Some(agents[1]), None][(n % 5 % 3) as usize];
        c.status = ["completed", "busy", "no-answer", "failed", "in-progress"][(n % 5) as usize];
        c.direction = ["outbound-api", "inbound", "outbound-dial"][(n % 7 % 3) as usize];
        c.customer = format!("+1{}", 2125550100 + u64::from(n % 8) * 1011);
        c.recording = n % 3 == 2;
        calls.push((seed_call(&db.store, &c).await, c));
    }
    (calls, agents)
}

/// The ids `keep` lets through, newest first.
fn expected(calls: &[(i64, SeedCall)], keep: impl Fn(&SeedCall) -> bool) -> Vec<i64> {
    let mut v: Vec<_> = calls.iter().filter(|(_, c)| keep(c)).map(|(id, c)| (c.at, *id)).collect();
    v.sort_by(|a, b| b.cmp(a));
    v.into_iter().map(|(_, id)| id).collect()
}

async fn ids(db: &TestDb, q: &CallListQuery) -> Vec<i64> {
    let page = db.store.list_call_records(&CallListQuery { limit: 200, ..q.clone() }).await.unwrap();
    assert_eq!(page.next, None);
    page.items.iter().map(|c| c.id).collect()
}

async fn every_filter_alone_and_combined(db: TestDb) {
    let (calls, [alice, bob]) = seed_world(&db).await;
    let all = CallListQuery::default;
    assert_eq!(ids(&db, &all()).await, expected(&calls, |_| true));
    let q = CallListQuery { campaign: Some("SALES".into()), ..all() };
    assert_eq!(ids(&db, &q).await, expected(&calls, |c| c.campaign.as_deref() == Some("SALES")));
    let q = CallListQuery { campaign: Some("LIVE-CALLS".into()), ..all() };
    assert_eq!(ids(&db, &q).await, expected(&calls, |c| c.campaign.is_none()));
    let q = CallListQuery { campaign: Some("NO-SUCH".into()), ..all() };
    assert_eq!(ids(&db, &q).await, Vec::<i64>::new());
    let q = CallListQuery { agent: Some(bob), ..all() };
    assert_eq!(ids(&db, &q).await, expected(&calls, |c| c.agent == Some(bob)));
    let q = CallListQuery { status: Some("no-answer".into()), ..all() };
    assert_eq!(ids(&db, &q).await, expected(&calls, |c| c.status == "no-answer"));
    let q = CallListQuery { direction: Some("inbound".into()), ..all() };
    assert_eq!(ids(&db, &q).await, expected(&calls, |c| c.direction == "inbound"));
    for has in [true, false] {
        let q = CallListQuery { has_recording: Some(has), ..all() };
        assert_eq!(ids(&db, &q).await, expected(&calls, |c| c.recording == has), "hasRecording={has}");
    }
    let (from, to) = (t0() + Duration::minutes(5), t0() + Duration::minutes(9));
    let q = CallListQuery { from: Some(from), to: Some(to), ..all() };
    assert_eq!(ids(&db, &q).await, expected(&calls, |c| c.at >= from && c.at <= to));
    let sid = calls[7].1.call_sid();
    let q = CallListQuery { call_sid: Some(CallSid::parse(&sid).unwrap()), ..all() };
    assert_eq!(ids(&db, &q).await, [calls[7].0]);
    let q = CallListQuery { text: TextSearch::parse(&sid[..33]), ..all() };
    assert_eq!(ids(&db, &q).await, expected(&calls, |c| c.call_sid().starts_with(&sid[..33])));
    assert_eq!(ids(&db, &q).await.len(), 16, "CallSids sharing the first 33 characters");

    let q = CallListQuery {
        agent: Some(alice),
        direction: Some("outbound-api".into()),
        has_recording: Some(false),
        from: Some(t0() + Duration::minutes(2)),
        ..all()
    };
    let want = expected(&calls, |c| {
        c.agent == Some(alice) && c.direction == "outbound-api" && !c.recording && c.at >= t0() + Duration::minutes(2)
    });
    assert!(!want.is_empty());
    assert_eq!(ids(&db, &q).await, want);
    let q = CallListQuery { campaign: Some("SUPPORT".into()), status: Some("busy".into()), ..all() };
    let want = expected(&calls, |c| c.campaign.as_deref() == Some("SUPPORT") && c.status == "busy");
    assert_eq!(ids(&db, &q).await, want);
}

async fn pages_neither_repeat_nor_skip_while_calls_arrive(db: TestDb) {
    let (calls, _) = seed_world(&db).await;
    let want = expected(&calls, |_| true);
    let mut seen = Vec::new();
    let mut after = None;
    let mut n = 1000;
    loop {
        let q = CallListQuery { limit: 3, after, ..CallListQuery::default() };
        let page = db.store.list_call_records(&q).await.unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|c| c.id));
        // Newer calls arrive between pages; they belong before the first
        // page, so the pages being read neither shift nor repeat.
        for _ in 0..2 {
            n += 1;
            seed_call(&db.store, &SeedCall::new(n, t0() + Duration::hours(2) + Duration::seconds(i64::from(n)))).await;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, want);
}

async fn a_page_brings_its_calls_recordings(db: TestDb) {
    let (calls, agents) = seed_world(&db).await;
    let q = CallListQuery { limit: 10, ..CallListQuery::default() };
    let page = db.store.list_call_records(&q).await.unwrap();
    assert_eq!(page.items.len(), 10);
    assert!(page.next.is_some());
    for item in &page.items {
        let seeded = &calls.iter().find(|(id, _)| *id == item.id).unwrap().1;
        assert_eq!(item.recordings.len(), usize::from(seeded.recording), "{}", item.call_id);
        assert_eq!(item, &db.store.call_record(item.id).await.unwrap().unwrap());
        let seeded_agent = seeded.agent.map(|a| if a == agents[0] { "alice" } else { "bob" });
        assert_eq!(item.agent_name.as_deref(), seeded_agent, "{}", item.call_id);
    }
}

async fn the_filters_list_every_campaign_and_user(db: TestDb) {
    seed_world(&db).await;
    let campaigns: Vec<String> = db.store.list_campaigns().await.unwrap().into_iter().map(|c| c.id).collect();
    assert!(campaigns.contains(&"SALES".to_owned()) && campaigns.contains(&"SUPPORT".to_owned()), "{campaigns:?}");
    let users: Vec<String> = db.store.list_users().await.unwrap().into_iter().map(|u| u.username).collect();
    assert_eq!(users, ["alice", "bob"]);
}

async fn part_of_a_number_or_a_name_finds_the_contacts_calls(db: TestDb) {
    let (calls, _) = seed_world(&db).await;
    let digits = |d: &str| PhoneDigits::parse(d);
    let customer_has = |d: &'static str| move |c: &SeedCall| c.customer.contains(d);
    // Few contacts match: fetched by contact.
    let q = CallListQuery { phone: digits("2125553133"), ..CallListQuery::default() };
    assert_eq!(ids(&db, &q).await, expected(&calls, customer_has("2125553133")));
    assert!(!ids(&db, &q).await.is_empty());
    let q = CallListQuery { text: TextSearch::parse("(212) 555-01"), ..CallListQuery::default() };
    assert_eq!(ids(&db, &q).await, expected(&calls, customer_has("21255501")));
    let q = CallListQuery { phone: digits("999"), ..CallListQuery::default() };
    assert_eq!(ids(&db, &q).await, Vec::<i64>::new());
    // More contacts than are listed by id: every call's contact is checked.
    execute(
        &db,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1100)
         INSERT INTO contacts (phone, created_at) SELECT '+1212555' || (20000 + i), 0 FROM n",
    )
    .await;
    let q = CallListQuery { phone: digits("212555"), ..CallListQuery::default() };
    assert_eq!(ids(&db, &q).await, expected(&calls, customer_has("212555")));
    let q = CallListQuery { phone: digits("2125551"), status: Some("busy".into()), ..CallListQuery::default() };
    assert_eq!(ids(&db, &q).await, expected(&calls, |c| c.customer.contains("2125551") && c.status == "busy"));
    let q = CallListQuery { phone: digits("555"), status: Some("busy".into()), ..CallListQuery::default() };
    assert_eq!(ids(&db, &q).await, expected(&calls, |c| c.status == "busy"));
    // Names, case-insensitive, by either strategy.
    execute(&db, "UPDATE contacts SET name = 'Ada Lovelace' WHERE phone = '+12125552122'").await;
    let q = CallListQuery { text: TextSearch::parse("lovelace"), ..CallListQuery::default() };
    assert_eq!(ids(&db, &q).await, expected(&calls, customer_has("2125552122")));
    execute(&db, "UPDATE contacts SET name = 'Lead ' || id WHERE phone LIKE '+121255520%'").await;
    let q = CallListQuery { text: TextSearch::parse("LEAD"), ..CallListQuery::default() };
    assert_eq!(ids(&db, &q).await, Vec::<i64>::new(), "no seeded call has one of these contacts");
    let q = CallListQuery { text: TextSearch::parse("ada"), phone: digits("2122"), ..CallListQuery::default() };
    assert_eq!(ids(&db, &q).await, expected(&calls, customer_has("2125552122")));
}

async fn ties_in_sort_time_are_ordered_by_id_across_pages(db: TestDb) {
    let mut want = Vec::new();
    for n in 0..5 {
        want.push(seed_call(&db.store, &SeedCall::new(n, t0())).await);
    }
    want.reverse();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = db.store.list_call_records(&CallListQuery { limit: 2, after, ..Default::default() }).await.unwrap();
        seen.extend(page.items.iter().map(|c| c.id));
        let Some(next) = page.next else { break };
        assert_eq!(next.sort_at_ms, t0().timestamp_millis());
        after = Some(next);
    }
    assert_eq!(seen, want);
}

async fn the_timeline_lists_every_callback_once_in_order(db: TestDb) {
    let mut call = SeedCall::new(1, t0());
    call.recording = true;
    let id = seed_call(&db.store, &call).await;
    seed_call(&db.store, &call).await; // delivered twice
    let events = db.store.call_events(id).await.unwrap();
    let lines: Vec<_> = events.iter().map(|e| (e.source.as_str(), e.status.as_deref())).collect();
    assert_eq!(lines, [("call-status", Some("completed")), ("recording-status", Some("completed"))]);
    assert_eq!(events[0].payload["CallSid"], call.call_sid());
    assert_eq!(events[0].received_at, t0());
    assert!(db.store.call_events(id + 1000).await.unwrap().is_empty());
}

both_backends!(
    every_filter_alone_and_combined,
    pages_neither_repeat_nor_skip_while_calls_arrive,
    a_page_brings_its_calls_recordings,
    the_filters_list_every_campaign_and_user,
    part_of_a_number_or_a_name_finds_the_contacts_calls,
    ties_in_sort_time_are_ordered_by_id_across_pages,
    the_timeline_lists_every_callback_once_in_order,
);
