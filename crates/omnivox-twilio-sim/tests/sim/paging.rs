//! `GET …/Recordings.json`: Twilio paging followed as a client does, and the filters.

use std::collections::HashSet;

use chrono::{Duration, NaiveDate, TimeZone as _, Utc};
use omnivox_twilio_sim::{RecordingPage, Simulator};

use crate::helpers::*;

async fn page(sim: &Simulator, path_and_query: &str) -> RecordingPage {
    let response = get(sim, path_and_query).await;
    assert_eq!(response.status(), 200, "GET {path_and_query}");
    response.json().await.unwrap()
}

/// Follows `next_page_uri` exactly as given, returning every page.
async fn walk(sim: &Simulator, first: &str) -> Vec<RecordingPage> {
    let mut pages = vec![page(sim, first).await];
    while let Some(next) = pages.last().and_then(|p| p.next_page_uri.clone()) {
        pages.push(page(sim, &next).await);
        assert!(pages.len() < 1000, "paging never ends");
    }
    pages
}

fn sids(pages: &[RecordingPage]) -> Vec<String> {
    pages.iter().flat_map(|p| p.recordings.iter().map(|r| r.sid.clone())).collect()
}

#[tokio::test]
async fn walking_2500_recordings_by_1000_gives_3_pages_and_each_recording_once() {
    let sim = start().await;
    let base = Utc::now() - Duration::days(30);
    for i in 0..2500 {
        // Many share a second, so the order must not depend on the date alone.
        recorded_call(&sim, 10, base + Duration::seconds(i / 7));
    }
    let first = format!("{}?PageSize=1000", recordings_path(&sim));
    let pages = walk(&sim, &first).await;
    assert_eq!(pages.iter().map(|p| p.recordings.len()).collect::<Vec<_>>(), [1000, 1000, 500]);
    assert_eq!(pages.iter().map(|p| p.page).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(pages.iter().map(|p| (p.start, p.end)).collect::<Vec<_>>(), [(0, 999), (1000, 1999), (2000, 2499)]);
    assert!(pages[..2].iter().all(|p| p
        .next_page_uri
        .as_deref()
        .is_some_and(|u| u.contains("PageToken=PA") && u.contains("PageSize=1000"))));
    assert_eq!(pages[2].next_page_uri, None);
    assert_eq!(pages[0].previous_page_uri, None);
    assert!(pages.iter().all(|p| p.first_page_uri.ends_with("Recordings.json?PageSize=1000&Page=0")));

    let listed = sids(&pages);
    let unique: HashSet<_> = listed.iter().collect();
    assert_eq!(unique.len(), 2500, "no recording twice");
    // Newest first, exactly the simulator's ground truth.
    let truth: Vec<String> = sim.recordings().into_iter().map(|r| r.sid).collect();
    assert_eq!(listed, truth);
    let dates: Vec<_> = pages.iter().flat_map(|p| p.recordings.iter().map(|r| r.date_created)).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // previous_page_uri leads back to the same page.
    let back = page(&sim, pages[1].previous_page_uri.as_deref().unwrap()).await;
    assert_eq!(back.recordings, pages[0].recordings);
    assert_eq!(back.page, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn recordings_added_during_a_walk_do_not_shift_pages() {
    let sim = start().await;
    let base = Utc::now() - Duration::days(10);
    for i in 0..300 {
        recorded_call(&sim, 10, base + Duration::minutes(i));
    }
    let before: HashSet<String> = sim.recordings().into_iter().map(|r| r.sid).collect();
    let mut pages = vec![page(&sim, &format!("{}?PageSize=100", recordings_path(&sim))).await];
    while let Some(next) = pages.last().and_then(|p| p.next_page_uri.clone()) {
        // New calls arrive while we walk: newer than everything (they belong before page 0)
        // and some dated inside pages already read.
        for i in 0..40 {
            recorded_call(&sim, 10, Utc::now());
            recorded_call(&sim, 10, base + Duration::minutes(299) - Duration::seconds(i));
        }
        pages.push(page(&sim, &next).await);
    }
    let listed = sids(&pages);
    let unique: HashSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "no recording listed twice");
    assert!(before.iter().all(|sid| unique.contains(sid)), "every recording present at the start is listed");
    sim.shutdown().await;
}

#[tokio::test]
async fn date_filters_are_inclusive_days_and_call_sid_selects_one_call() {
    let sim = start().await;
    let day = |d: u32| NaiveDate::from_ymd_opt(2024, 5, d).unwrap();
    for d in 1..=10 {
        for hour in [0, 12, 23] {
            let at = Utc.from_utc_datetime(&day(d).and_hms_opt(hour, 30, 0).unwrap());
            recorded_call(&sim, 10, at);
        }
    }
    let one = recorded_call(&sim, 10, Utc.with_ymd_and_hms(2024, 5, 4, 8, 0, 0).unwrap());
    let path = recordings_path(&sim);
    let count = |query: String| {
        let sim = sim.clone();
        let path = path.clone();
        async move { sids(&walk(&sim, &format!("{path}?{query}")).await).len() }
    };
    assert_eq!(count("DateCreated=2024-05-04".into()).await, 4);
    assert_eq!(count("DateCreated%3C=2024-05-03".into()).await, 9, "days 1-3 inclusive");
    assert_eq!(count("DateCreated%3E=2024-05-08".into()).await, 9, "days 8-10 inclusive");
    assert_eq!(count("DateCreated%3E=2024-05-04&DateCreated%3C=2024-05-05&PageSize=2".into()).await, 7);
    assert_eq!(count("DateCreated%3E=2024-06-01".into()).await, 0);

    let by_call = page(&sim, &format!("{path}?CallSid={}", one.call_sid())).await;
    assert_eq!(by_call.recordings.len(), 1);
    assert_eq!(Some(by_call.recordings[0].sid.as_str()), one.recording_sid());

    // Filters survive into the page URIs.
    let filtered = page(&sim, &format!("{path}?DateCreated%3C=2024-05-03&PageSize=4")).await;
    let next = filtered.next_page_uri.unwrap();
    assert!(next.contains("DateCreated%3C=2024-05-03") && next.contains("PageSize=4"), "{next}");
    sim.shutdown().await;
}

#[tokio::test]
async fn page_size_out_of_range_is_400() {
    let sim = start().await;
    for size in ["0", "1001", "many"] {
        let (status, body) = get_json(&sim, &format!("{}?PageSize={size}", recordings_path(&sim))).await;
        assert_eq!(status, 400, "PageSize={size}");
        assert_twilio_error(&body, 400, 20001);
    }
    let (status, body) = get_json(&sim, &recordings_path(&sim)).await;
    assert_eq!((status, body["page_size"].as_u64()), (200, Some(50)));
    // A Page far past the end is just an empty page, whatever the arithmetic.
    let (status, body) = get_json(&sim, &format!("{}?Page={}", recordings_path(&sim), usize::MAX)).await;
    assert_eq!((status, body["recordings"].as_array().map(Vec::len)), (200, Some(0)));
    sim.shutdown().await;
}

#[tokio::test]
async fn an_empty_account_lists_like_the_read_empty_example() {
    let sim = start().await;
    let (status, body) = get_json(&sim, &format!("{}?PageSize=1", recordings_path(&sim))).await;
    assert_eq!(status, 200);
    let expected = serde_json::json!({
        "end": 0,
        "first_page_uri": format!("/2010-04-01/Accounts/{}/Recordings.json?PageSize=1&Page=0", sim.account_sid()),
        "next_page_uri": null,
        "page": 0,
        "page_size": 1,
        "previous_page_uri": null,
        "recordings": [],
        "start": 0,
        "uri": format!("/2010-04-01/Accounts/{}/Recordings.json?PageSize=1&Page=0", sim.account_sid()),
    });
    assert_eq!(body, expected);
    sim.shutdown().await;
}
