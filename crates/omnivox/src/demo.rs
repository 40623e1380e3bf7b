//! `omnivox demo`: the service with a simulated Twilio account feeding it
//! calls, so a newcomer sees calls and recordings arrive without any
//! credentials. Its data goes to its own database unless one is configured.

use std::time::Duration;

use anyhow::Context as _;
use omnivox_twilio_sim::{CallSpec, DeliveryOptions, RecordingOutcome, SimConfig, Simulator};
use rand::Rng;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::bootstrap;
use crate::config::{defaults, Config};
use crate::startup::{self, Application};

const DEMO_DATABASE: &str = "sqlite://omnivox-data/demo.db";
const DEMO_STORAGE: &str = "file://omnivox-data/demo-recordings";

pub async fn run(mut config: Config) -> anyhow::Result<()> {
    if config.database_url == defaults::database_url() {
        config.database_url = DEMO_DATABASE.into();
    }
    if config.storage_url == defaults::storage_url() {
        config.storage_url = DEMO_STORAGE.into();
    }
    let sim = Simulator::start(SimConfig::default()).await.context("starting the Twilio simulator")?;
    let public = format!("http://{}", config.listen);
    config.twilio_account_sid = Some(sim.account_sid().to_owned());
    config.twilio_auth_token = Some(SecretString::from(sim.auth_token().to_owned()));
    config.twilio_api_base = url::Url::parse(&sim.base_url())?;
    config.public_url = Some(url::Url::parse(&public)?);
    config.enrich_delay_seconds = 2;

    let app = Application::build(&config).await?;
    bootstrap::announce(app.first_admin());
    let addr = app.local_addr()?;
    eprintln!(
        "Omnivox demo is running: open http://{addr}/call-records and sign in as admin.\n\
         A simulated Twilio account ({}) places a call every few seconds; watch them arrive,\n\
         play their recordings and open each call.\n\
         Data: {}  (Ctrl-C to stop)",
        sim.base_url(),
        config.database_url
    );
    let shutdown = startup::shutdown_on_signals();
    let feeder = tokio::spawn(feed_calls(sim.clone(), format!("http://{addr}"), public, shutdown.clone()));
    let served = app.run_until_stopped(shutdown.clone()).await;
    shutdown.cancel();
    let _ = feeder.await;
    sim.shutdown().await;
    served
}

/// Places a call every few seconds until shutdown, delivering its
/// callbacks the way Twilio does: sometimes twice, in any order.
async fn feed_calls(sim: Simulator, target: String, public: String, shutdown: CancellationToken) {
    let options = DeliveryOptions { copies: 1..=2, shuffle: true, public_base: Some(public), ..Default::default() };
    let mut n: u64 = 0;
    loop {
        let spec = {
            let mut rng = rand::rng();
            CallSpec {
                to: format!("+1415555{:04}", rng.random_range(0..10_000)),
                duration_secs: rng.random_range(15..240),
                recording_status: if n % 9 == 8 { RecordingOutcome::Absent } else { RecordingOutcome::Completed },
                ..CallSpec::default()
            }
        };
        n += 1;
        let call = sim.add_call(spec);
        match sim.deliver(&target, &call, &options).await {
            Ok(report) if report.all_acknowledged() => {
                eprintln!("  call {} to {} ({} s) delivered", call.call_sid(), call.call.to, call.call.duration)
            }
            Ok(report) => {
                eprintln!("  call {}: {} callbacks not acknowledged", call.call_sid(), report.unacknowledged().len())
            }
            Err(e) => eprintln!("  call {}: {e:#}", call.call_sid()),
        }
        let pause = Duration::from_millis(rand::rng().random_range(2_000..6_000));
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}
