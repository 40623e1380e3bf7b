//! `seed-calls`: a fresh database (SQLite file, or a schema on PostgreSQL)
//! migrated and filled with N call records shaped like a dialer's year:
//! 20 campaigns of very different sizes (a fifth of the calls from the
//! historical import, inserted last with old dates, so ids do not follow
//! time), 50 agents, contacts called a few times each (some often), the
//! statuses and directions of outbound dialing, recordings on answered
//! calls. Rows go in with multi-row INSERTs in large transactions; the
//! timeline (`call_events`) is left empty, as the list never reads it.

use std::collections::HashSet;
use std::time::Instant;

use omnivox_core::ingest::CallFacts;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::bulk::{Bulk, V};
use crate::Database;

pub const CAMPAIGNS: usize = 20;
pub const AGENTS: usize = 50;
/// A year of calls, ending at this instant (2026-11-20T00:00:00Z).
pub const END_MS: i64 = 1_795_651_200_000;
pub const SPAN_MS: i64 = 365 * 24 * 3600 * 1000;
const AREA_CODES: &[&str] = &[
    "212", "213", "305", "312", "404", "415", "503", "512", "602", "617", "646", "702", "713", "718", "801", "832",
    "917", "919", "206", "303",
];
const FIRST: &[&str] = &[
    "Ann", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Hugo", "Ines", "Jon", "Kara", "Luis", "Maya", "Noah",
    "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen", "Xavier", "Yara", "Zoe",
];
const LAST: &[&str] = &[
    "Smith", "Garcia", "Johnson", "Nguyen", "Brown", "Lopez", "Miller", "Davis", "Martinez", "Wilson", "Anderson",
    "Thomas", "Moore", "Jackson", "Lee", "Harris", "Clark", "Lewis", "Walker", "Young", "King", "Wright", "Scott",
    "Hill", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Perez",
];
const CALLER_IDS: &[&str] = &["+18005550100", "+18005550101", "+18005550102", "+18005550103"];

pub fn campaign_code(i: usize) -> String {
    match i {
        0 => "LIVE-CALLS".into(),
        1 => "HISTORICAL-CALLS".into(),
        i => format!("CAMPAIGN-{i:02}"),
    }
}

/// An index in `0..n` where small indexes are much likelier (about 1/(i+1)).
fn skewed(rng: &mut StdRng, n: usize) -> usize {
    let u: f64 = rng.random();
    (((n as f64 + 1.0).powf(u) - 1.0) as usize).min(n - 1)
}

fn pick<'a, T>(rng: &mut StdRng, weighted: &'a [(T, u32)]) -> &'a T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (v, w) in weighted {
        if x < *w {
            return v;
        }
        x -= w;
    }
    &weighted[0].0
}

/// Prints the time of each chunk when `SEED_DEBUG` is set.
fn report_chunk(index: usize, calls: std::time::Duration, recordings: std::time::Duration) {
    if std::env::var_os("SEED_DEBUG").is_some() {
        println!("  chunk {index}: calls {calls:?}, recordings {recordings:?}");
    }
}

pub async fn run(database: Database, url: Option<String>, calls: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let bulk = Bulk::fresh(database, url).await?;
    println!("seeding {calls} calls into {}", bulk.display_url());
    let mut rng = StdRng::seed_from_u64(20261121);
    let now = END_MS;

    let lists: Vec<Vec<V>> =
        (0..CAMPAIGNS).map(|i| vec![V::T(format!("{} list", campaign_code(i))), V::I(now - SPAN_MS)]).collect();
    bulk.insert("data_lists", &["name", "created_at"], lists).await?;
    let campaigns: Vec<Vec<V>> = (0..CAMPAIGNS)
        .map(|i| {
            let name = format!("Campaign {i}");
            vec![V::T(campaign_code(i)), V::T(name), V::I(i as i64 + 1), V::I(now - SPAN_MS)]
        })
        .collect();
    bulk.insert("campaigns", &["code", "name", "data_list_id", "created_at"], campaigns).await?;
    let agents: Vec<Vec<V>> = (1..=AGENTS)
        .map(|i| {
            let name = format!("agent{i:02}");
            vec![V::T(name.clone()), V::T(name), V::T("agent".into()), V::T("!".into()), V::I(now - SPAN_MS)]
        })
        .collect();
    bulk.insert("users", &["username", "display_name", "role", "password_hash", "created_at"], agents).await?;

    // About three calls per contact.
    let n_contacts = (calls * 3 / 10).max(1);
    let mut phones = HashSet::with_capacity(n_contacts);
    let mut contacts = Vec::with_capacity(n_contacts);
    while contacts.len() < n_contacts {
        let area = AREA_CODES[rng.random_range(0..AREA_CODES.len())];
        let phone = format!("+1{area}{:07}", rng.random_range(2_000_000..10_000_000u32));
        if !phones.insert(phone.clone()) {
            continue;
        }
        let name = rng
            .random_bool(0.7)
            .then(|| format!("{} {}", FIRST[rng.random_range(0..FIRST.len())], LAST[rng.random_range(0..LAST.len())]));
        contacts.push((phone, name));
    }
    let rows = contacts
        .iter()
        .map(|(phone, name)| vec![V::T(phone.clone()), V::O(name.clone()), V::I(1), V::I(now - SPAN_MS)])
        .collect();
    bulk.insert("contacts", &["phone", "name", "data_list_id", "created_at"], rows).await?;
    println!("  {} contacts, {:.0} s", contacts.len(), started.elapsed().as_secs_f64());

    let facts = serde_json::to_value(CallFacts::default())?;
    let statuses = [
        ("completed", 55),
        ("no-answer", 20),
        ("busy", 10),
        ("failed", 5),
        ("canceled", 6),
        ("in-progress", 2),
        ("ringing", 2),
    ];
    let directions = [("outbound-api", 70), ("inbound", 25), ("outbound-dial", 5)];
    let call_columns = [
        "call_sid",
        "campaign_id",
        "contact_id",
        "agent_id",
        "direction",
        "from_number",
        "to_number",
        "status",
        "outcome",
        "last_sequence",
        "started_at",
        "ended_at",
        "duration_seconds",
        "facts",
        "sort_at",
        "has_recording",
        "created_at",
        "updated_at",
    ];
    let rec_columns = [
        "recording_sid",
        "call_record_id",
        "status",
        "sync_status",
        "duration_seconds",
        "channels",
        "source",
        "found_by",
        "storage_key",
        "media_type",
        "sha256",
        "size_bytes",
        "started_at",
        "stored_at",
        "created_at",
        "updated_at",
    ];
    let historical = calls / 5;
    let live = calls - historical;
    // Live calls in time order over the year, then the import's, older.
    let mut times: Vec<i64> = (0..live).map(|_| now - rng.random_range(0..SPAN_MS)).collect();
    times.sort_unstable();
    let mut old: Vec<i64> = (0..historical).map(|_| now - SPAN_MS + rng.random_range(0..SPAN_MS / 2)).collect();
    old.sort_unstable();
    times.extend(old);

    const CHUNK: usize = 50_000;
    let mut recordings = 0usize;
    for (chunk_index, chunk) in times.chunks(CHUNK).enumerate() {
        let mut call_rows = Vec::with_capacity(chunk.len());
        let mut rec_rows = Vec::new();
        for (k, &at) in chunk.iter().enumerate() {
            let id = (chunk_index * CHUNK + k + 1) as i64;
            let is_historical = id as usize > live;
            let campaign =
                if is_historical { 1 } else { [0, 2 + skewed(&mut rng, CAMPAIGNS - 2)][rng.random_range(0..2)] };
            let status = *pick(&mut rng, &statuses);
            let direction = *pick(&mut rng, &directions);
            // Most contacts are called a few times, some (a third of the calls) far more.
            let contact = rng.random_bool(0.97).then(|| match rng.random_bool(0.3) {
                true => skewed(&mut rng, n_contacts),
                false => rng.random_range(0..n_contacts),
            });
            let customer = contact.map(|c| contacts[c].0.clone());
            let ours = CALLER_IDS[rng.random_range(0..CALLER_IDS.len())].to_owned();
            let (from, to) = if direction == "inbound" { (customer, Some(ours)) } else { (Some(ours), customer) };
            let agent = (!is_historical && rng.random_bool(0.9)).then(|| skewed(&mut rng, AGENTS) as i64 + 1);
            let answered = status == "completed";
            let duration = answered.then(|| rng.random_range(5..900i64));
            let started_known = rng.random_bool(0.98);
            let recorded = answered && rng.random_bool(0.92);
            call_rows.push(vec![
                V::T(format!("CA{:032x}", rng.random::<u128>())),
                V::I(campaign as i64 + 1),
                V::N(contact.map(|c| c as i64 + 1)),
                V::N(agent),
                V::T(direction.into()),
                V::O(from),
                V::O(to),
                V::T(status.into()),
                V::O(omnivox_core::ingest::CallStatus::parse(status).and_then(|s| s.outcome()).map(str::to_owned)),
                V::I(3),
                V::N(started_known.then_some(at)),
                V::N(duration.map(|d| at + d * 1000)),
                V::N(duration),
                V::J(facts.clone()),
                V::I(at),
                V::B(recorded),
                V::I(at),
                V::I(at + duration.unwrap_or(30) * 1000),
            ]);
            if recorded {
                let copies = if rng.random_bool(0.02) { 2 } else { 1 };
                for _ in 0..copies {
                    let sync = *pick(&mut rng, &[("verified", 90), ("pending", 6), ("failed", 2), ("stored", 2)]);
                    let sid = format!("RE{:032x}", rng.random::<u128>());
                    let kept = matches!(sync, "verified" | "stored");
                    rec_rows.push(vec![
                        V::T(sid.clone()),
                        V::I(id),
                        V::T("completed".into()),
                        V::T(sync.into()),
                        V::N(duration),
                        V::I(2),
                        V::T("DialVerb".into()),
                        V::T(if is_historical { "import" } else { "webhook" }.into()),
                        V::O(kept.then(|| format!("{sid}.wav"))),
                        V::O(kept.then(|| "audio/wav".to_owned())),
                        V::O(kept.then(|| format!("{:064x}", rng.random::<u128>()))),
                        V::N(kept.then(|| duration.unwrap_or(30) * 16_000)),
                        V::I(at),
                        V::N(kept.then_some(at + 60_000)),
                        V::I(at + 1000),
                        V::I(at + 60_000),
                    ]);
                }
            }
        }
        recordings += rec_rows.len();
        let t = Instant::now();
        bulk.insert("call_records", &call_columns, call_rows).await?;
        let t_calls = t.elapsed();
        bulk.insert("recordings", &rec_columns, rec_rows).await?;
        report_chunk(chunk_index, t_calls, t.elapsed() - t_calls);
        if (chunk_index + 1) % 4 == 0 {
            println!("  {} calls, {:.0} s", (chunk_index + 1) * CHUNK, started.elapsed().as_secs_f64());
        }
    }
    bulk.finish(calls as i64).await?;
    println!(
        "seeded {calls} calls, {recordings} recordings, {} contacts, {CAMPAIGNS} campaigns, {AGENTS} agents in {:.0} s",
        contacts.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
