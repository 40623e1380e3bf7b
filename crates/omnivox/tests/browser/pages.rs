use std::time::{Duration, Instant};

use omnivox_core::store::UserId;
use omnivox_core::Role;
use omnivox_testkit::calls::{seed_call, SeedCall};
use omnivox_testkit::{both_backends, TestDb};
use omnivox_twilio_sim::{CallSpec, SimCall, Simulator};
use serde_json::{json, Value};

use crate::chrome::Browser;
use crate::helpers::{delivery, spawn_app_with_twilio, TestApp};
use crate::ONE_BROWSER;

/// A recorded call placed through the simulator and delivered to the app.
async fn place_call(
    app: &TestApp,
    sim: &Simulator,
    to: &str,
    campaign: Option<&str>,
    agent: Option<UserId>,
) -> SimCall {
    place_long_call(app, sim, to, campaign, agent, 20).await
}

async fn place_long_call(
    app: &TestApp,
    sim: &Simulator,
    to: &str,
    campaign: Option<&str>,
    agent: Option<UserId>,
    duration_secs: u32,
) -> SimCall {
    let spec = CallSpec {
        to: to.into(),
        duration_secs,
        campaign_id: campaign.map(str::to_owned),
        agent_id: agent.map(|a| a.0.to_string()),
        ..CallSpec::default()
    };
    let call = sim.add_call(spec);
    sim.deliver(&app.base(), &call, &delivery()).await.unwrap();
    call
}

/// Waits until the call's recording is archived (so it has a waveform).
async fn archived(app: &TestApp, token: &str, call: &SimCall) -> Value {
    synced(app, token, call, "verified").await
}

/// Waits until the call's recording has `syncStatus` `want`; the call.
async fn synced(app: &TestApp, token: &str, call: &SimCall, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let path = format!("/api/call-records?callSid={}", call.parent_call_sid());
        let body: Value = app.get(&path, Some(token)).await.json().await.unwrap();
        if let Some(item) = body["items"].get(0) {
            if item["recordings"][0]["syncStatus"] == want {
                return item.clone();
            }
        }
        assert!(Instant::now() < deadline, "recording never became {want}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn rows_script() -> &'static str {
    "return [...document.querySelectorAll('#calls tbody tr')].map(tr => tr.innerText)"
}

async fn rows(browser: &Browser) -> Vec<String> {
    serde_json::from_value(browser.js(rows_script(), vec![]).await).unwrap()
}

async fn assert_accessible(browser: &Browser, page: &str) {
    if let Some(violations) = browser.accessibility_violations().await {
        assert!(violations.is_empty(), "axe-core finds accessibility problems on {page}: {violations:#?}");
    }
}

async fn supervisor_finds_plays_and_opens_calls_live(db: TestDb) {
    let _one = ONE_BROWSER.lock().await;
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let admin = app.admin_token().await;
    let (_, password) = app.create_user("sam", Role::Supervisor).await;
    let sales = place_call(&app, &sim, "+14155550123", Some("SALES"), None).await;
    place_call(&app, &sim, "+12125559876", None, None).await;
    archived(&app, &admin, &sales).await;
    let Some(browser) = Browser::start("supervisor").await else { return };
    let base = app.base();

    // Signed out, the page sends the browser to sign in and back.
    browser.sign_in(&base, "sam", &password, "/call-records").await;
    browser.until("two rows", "return document.querySelectorAll('#calls tbody tr').length === 2").await;
    assert_accessible(&browser, "/call-records").await;
    browser.screenshot("list").await;

    // A call placed now appears without a reload, highlighted.
    browser.js("window.__sameDocument = true; return true", vec![]).await;
    // Fifteen minutes (29 MB of WAV): more than a browser fetches ahead, so
    // a seek to the middle must be a ranged request.
    let live = place_long_call(&app, &sim, "+13105550777", Some("SALES"), None, 900).await;
    browser
        .until("the new call's row", "return [...document.querySelectorAll('#calls tbody tr')].some(tr => tr.innerText.includes('+13105550777'))")
        .await;
    assert_eq!(browser.js("return window.__sameDocument === true", vec![]).await, json!(true), "the page reloaded");
    assert_eq!(
        browser.js("return document.querySelector('#calls tbody tr').classList.contains('fresh')", vec![]).await,
        json!(true)
    );
    assert!(rows(&browser).await[0].contains("+13105550777"), "the newest call comes first");
    browser.screenshot("live-row").await;

    // Filter by campaign: only SALES calls, and the filter is in the URL.
    browser
        .until("campaigns in the filter", "return !!document.querySelector('#f-campaign option[value=SALES]')")
        .await;
    let select = browser.client.find(fantoccini::Locator::Css("#f-campaign")).await.unwrap();
    select.select_by_value("SALES").await.unwrap();
    browser.until("two SALES rows", "return location.search.includes('campaignId=SALES') && document.querySelectorAll('#calls tbody tr').length === 2").await;
    assert!(rows(&browser).await.iter().all(|r| r.contains("SALES")), "{:?}", rows(&browser).await);
    browser.client.refresh().await.unwrap();
    browser.until("the filter after a reload", "return document.querySelector('#f-campaign').value === 'SALES' && document.querySelectorAll('#calls tbody tr').length === 2").await;
    browser.screenshot("campaign-filter").await;

    // Part of a phone number finds its call.
    browser.goto(&format!("{base}/call-records")).await;
    browser.until("all rows", "return document.querySelectorAll('#calls tbody tr').length === 3").await;
    browser.type_into("#f-search", "0777").await;
    browser
        .until(
            "one row for 0777",
            "return location.search.includes('q=0777') && document.querySelectorAll('#calls tbody tr').length === 1",
        )
        .await;
    assert!(rows(&browser).await[0].contains("+13105550777"));
    browser.screenshot("phone-search").await;

    // Its recording, archived meanwhile, shows so without a reload.
    archived(&app, &admin, &live).await;
    browser
        .until(
            "the row's recording archived",
            "return document.querySelector('#calls tbody tr').innerText.includes('Archived')",
        )
        .await;

    // Play it, then seek to the middle: the position moves there and the
    // server answers the ranged request with 206.
    browser.until("a play button", "return !!document.querySelector('#calls tbody .play-row')").await;
    browser.click("#calls tbody .play-row").await;
    browser
        .until(
            "playback",
            "const a = document.querySelector('#now-playing audio'); return a && !a.paused && a.currentTime > 0",
        )
        .await;
    let middle = browser
        .js(
            "const s = document.querySelector('#now-playing input.seek'); const mid = Number(s.max) / 2;
             s.value = mid; s.dispatchEvent(new Event('input')); return mid",
            vec![],
        )
        .await
        .as_f64()
        .unwrap();
    assert!(middle >= 400.0, "the slider spans the recording ({middle} s in the middle)");
    browser.until("the position at the middle", &format!(
        "const a = document.querySelector('#now-playing audio'); return !a.paused && a.currentTime >= {} && a.currentTime < {}",
        middle - 0.5, middle + 5.0)).await;
    browser.until("the waveform drawn from peaks", "return !!document.querySelector('#now-playing canvas.wave') && document.querySelector('#now-playing canvas.wave').width > 0").await;
    browser.screenshot("playing").await;
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    let partial = metrics.lines().any(|l| {
        l.starts_with("omnivox_http_requests_total")
            && l.contains("route=\"/api/recordings/{id}/stream\"")
            && l.contains("status=\"206\"")
    });
    assert!(partial, "no 206 from the stream endpoint in /metrics");
    let audit: Value = app.get("/api/admin/audit?limit=100", Some(&admin)).await.json().await.unwrap();
    let seeked = audit["items"].as_array().unwrap().iter().any(|e| {
        e["action"] == "recording.stream"
            && e["detail"]
                .as_str()
                .unwrap_or_default()
                .split("range=bytes=")
                .nth(1)
                .and_then(|r| r.split('-').next())
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|from| from > 0)
    });
    assert!(seeked, "no ranged request from the middle in the audit log: {audit}");

    // The call's own page: facts, recording with its state, timeline.
    browser.click("#calls tbody a.open").await;
    browser.until("the call page", "return /^\\/call-records\\/\\d+$/.test(location.pathname) && document.querySelector('#call').getAttribute('aria-busy') === 'false'").await;
    let text = browser.js("return document.querySelector('#call').innerText", vec![]).await;
    let text = text.as_str().unwrap();
    assert!(text.contains(live.call_sid()) || text.contains(live.parent_call_sid()), "{text}");
    assert!(text.contains("+13105550777") && text.contains("Archived") && text.contains("SHA-256"), "{text}");
    assert!(browser.js("return document.querySelectorAll('#timeline li').length", vec![]).await.as_u64().unwrap() >= 2);
    assert!(browser
        .js("return !!document.querySelector('#recordings .player audio')", vec![])
        .await
        .as_bool()
        .unwrap());
    assert_accessible(&browser, "/call-records/{id}").await;
    browser.screenshot("call-page").await;

    // On a phone: the list becomes cards, nothing wider than the screen.
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.goto(&format!("{base}/call-records")).await;
    browser.until("rows on a phone", "return document.querySelectorAll('#calls tbody tr').length === 3").await;
    let overflow = browser.js("return document.documentElement.scrollWidth - window.innerWidth", vec![]).await;
    assert!(overflow.as_i64().unwrap() <= 0, "the page is {overflow} px wider than a phone");
    browser.screenshot("list-phone").await;
    browser.close().await;
}

async fn the_removed_buttons_are_nowhere(db: TestDb) {
    let _one = ONE_BROWSER.lock().await;
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let admin = app.admin_token().await;
    let call = place_call(&app, &sim, "+14155550999", None, None).await;
    let item = archived(&app, &admin, &call).await;
    let Some(browser) = Browser::start("removed-buttons").await else { return };
    let base = app.base();
    let password = app.admin_password.clone();
    browser.sign_in(&base, "admin", &password, "/call-records").await;
    browser.until("a row", "return document.querySelectorAll('#calls tbody tr').length === 1").await;
    for page in ["/call-records".to_owned(), format!("/call-records/{}", item["id"])] {
        browser.goto(&format!("{base}{page}")).await;
        browser
            .until("the page's data", "return document.querySelectorAll('#calls tbody tr, #timeline li').length > 0")
            .await;
        let labels = browser
            .js(
                "return [...document.querySelectorAll('button, a, input[type=submit], [role=button]')]
                   .map(e => (e.innerText || e.value || e.getAttribute('aria-label') || '').toLowerCase()).join('\\n')
                   + '\\n' + document.body.innerText.toLowerCase()",
                vec![],
            )
            .await;
        let labels = labels.as_str().unwrap();
        for removed in ["export csv", "clean demo records", "sync twilio"] {
            assert!(!labels.contains(removed), "{page} offers {removed:?}");
        }
        assert!(labels.contains("sign out"), "the page's controls were read: {labels}");
    }
    browser.screenshot("admin-list").await;

    // A recording whose sync failed: the reason, and a retry that works.
    let broken = sim.add_call(CallSpec { duration_secs: 5, media_missing: true, ..CallSpec::default() });
    sim.deliver(&app.base(), &broken, &delivery()).await.unwrap();
    let broken = synced(&app, &admin, &broken, "failed").await;
    browser.goto(&format!("{base}/call-records/{}", broken["id"])).await;
    browser.until("the failure and its reason", "const t = document.querySelector('#recordings').innerText; return t.includes('Sync failed') && t.includes('Twilio has no media')").await;
    assert_accessible(&browser, "/call-records/{id} with a failed sync").await;
    browser.screenshot("sync-failed").await;
    browser.click("#recordings button.retry").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let audit: Value = app.get("/api/admin/audit", Some(&admin)).await.json().await.unwrap();
        if audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "recording.retry") {
            break;
        }
        assert!(Instant::now() < deadline, "the retry button did not retry: {audit}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.close().await;
}

async fn an_agent_sees_only_their_calls(db: TestDb) {
    let _one = ONE_BROWSER.lock().await;
    let (app, _sim) = spawn_app_with_twilio(db, &[]).await;
    let (ann, password) = app.create_user("ann", Role::Agent).await;
    let (bob, _) = app.create_user("bob", Role::Agent).await;
    let at = chrono::Utc::now();
    let mut mine = SeedCall::new(1, at);
    mine.agent = Some(ann.id);
    let mut theirs = SeedCall::new(2, at);
    theirs.agent = Some(bob.id);
    let mine = seed_call(&app.db.store, &mine).await;
    let theirs = seed_call(&app.db.store, &theirs).await;
    let Some(browser) = Browser::start("agent").await else { return };
    let base = app.base();

    browser.sign_in(&base, "ann", &password, "/call-records").await;
    browser.until("ann's row", "return document.querySelectorAll('#calls tbody tr').length === 1").await;
    let row_link =
        browser.js("return document.querySelector('#calls tbody a.open').getAttribute('href')", vec![]).await;
    assert_eq!(row_link, json!(format!("/call-records/{mine}")));
    assert_eq!(browser.js("return document.getElementById('agent-field').hidden", vec![]).await, json!(true));
    browser.screenshot("agent-list").await;

    // Bob's call, asked for directly: the page and the API both say 404.
    browser.goto(&format!("{base}/call-records/{theirs}")).await;
    let heading = browser.js("return document.querySelector('h1').innerText", vec![]).await;
    assert_eq!(heading, json!("Not found"));
    let status = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch('/api/call-records/' + arguments[0]).then(r => done(r.status))",
            vec![json!(theirs)],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(404));
    // Asking the API for Bob's calls by filter gives nothing either.
    let listed = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch('/api/call-records?agentId=' + arguments[0]).then(r => r.json()).then(b => done(b.items.length))",
            vec![json!(bob.id.0)],
        )
        .await
        .unwrap();
    assert_eq!(listed, json!(0));
    browser.screenshot("agent-404").await;
    browser.close().await;
}

async fn the_keyboard_alone_signs_in_and_plays_a_call(db: TestDb) {
    use fantoccini::key::Key;
    let _one = ONE_BROWSER.lock().await;
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let admin = app.admin_token().await;
    let call = place_call(&app, &sim, "+14155550444", None, None).await;
    archived(&app, &admin, &call).await;
    let Some(browser) = Browser::start("keyboard").await else { return };
    let base = app.base();
    let password = app.admin_password.clone();

    browser.goto(&format!("{base}/login")).await;
    assert_accessible(&browser, "/login").await;
    // The user name field has focus; type, Tab, type, Enter.
    let keys = format!("admin{}{password}{}", char::from(Key::Tab), char::from(Key::Enter));
    browser.client.active_element().await.unwrap().send_keys(&keys).await.unwrap();
    browser
        .until(
            "the list",
            "return location.pathname === '/call-records' && document.querySelectorAll('#calls tbody tr').length === 1",
        )
        .await;
    // Tab until the row's play button has focus, then Enter.
    let mut focused = false;
    for _ in 0..40 {
        let active = browser.client.active_element().await.unwrap();
        active.send_keys(&char::from(Key::Tab).to_string()).await.unwrap();
        let on_play = browser.js("return document.activeElement.classList.contains('play-row')", vec![]).await;
        if on_play == json!(true) {
            focused = true;
            break;
        }
    }
    assert!(focused, "Tab never reached the row's play button");
    browser.client.active_element().await.unwrap().send_keys(&char::from(Key::Enter).to_string()).await.unwrap();
    browser
        .until(
            "playback from the keyboard",
            "const a = document.querySelector('#now-playing audio'); return a && !a.paused && a.currentTime > 0",
        )
        .await;
    assert_eq!(
        browser.js("return document.activeElement.classList.contains('play')", vec![]).await,
        json!(true),
        "focus moves to the player"
    );
    browser.screenshot("keyboard-playing").await;
    browser.client.active_element().await.unwrap().send_keys(&char::from(Key::Escape).to_string()).await.unwrap();
    browser.until("the player closed", "return document.querySelector('#now-playing').hidden").await;
    browser.close().await;
}

async fn older_calls_come_a_page_at_a_time(db: TestDb) {
    let _one = ONE_BROWSER.lock().await;
    let (app, _sim) = spawn_app_with_twilio(db, &[]).await;
    let start = chrono::Utc::now() - chrono::Duration::hours(2);
    for n in 0..75u32 {
        seed_call(&app.db.store, &SeedCall::new(n, start + chrono::Duration::minutes(i64::from(n)))).await;
    }
    let Some(browser) = Browser::start("paging").await else { return };
    let base = app.base();
    let password = app.admin_password.clone();
    browser.sign_in(&base, "admin", &password, "/call-records").await;
    browser.until("the first page", "return document.querySelectorAll('#calls tbody tr').length === 50").await;
    assert!(rows(&browser).await[0].contains("+14155550074"), "newest first");
    browser.click("#more").await;
    browser.until("the second page", "return document.querySelectorAll('#calls tbody tr').length === 75 && document.querySelector('#more').hidden").await;
    assert!(rows(&browser).await[74].contains("+14155550000"), "oldest last");
    let ids: Vec<String> = serde_json::from_value(
        browser.js("return [...document.querySelectorAll('#calls tbody tr')].map(tr => tr.dataset.id)", vec![]).await,
    )
    .unwrap();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 75, "no row twice");
    browser.screenshot("paged").await;
    browser.close().await;
}

both_backends!(supervisor_finds_plays_and_opens_calls_live, an_agent_sees_only_their_calls);

mod sqlite_only {
    use omnivox_testkit::TestDb;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_removed_buttons_are_nowhere() {
        super::the_removed_buttons_are_nowhere(TestDb::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn older_calls_come_a_page_at_a_time() {
        super::older_calls_come_a_page_at_a_time(TestDb::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_keyboard_alone_signs_in_and_plays_a_call() {
        super::the_keyboard_alone_signs_in_and_plays_a_call(TestDb::sqlite().await).await;
    }
}
