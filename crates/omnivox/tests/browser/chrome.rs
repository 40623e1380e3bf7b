//! Debian's chromium, headless, driven through chromedriver (WebDriver).
//! Each test gets its own driver and browser, and keeps its screenshots in
//! `target/browser-artifacts/<test>/`. Without chromium or chromedriver a
//! test prints why and skips, except under `CI=true`, where that fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

pub struct Browser {
    pub client: Client,
    driver: Child,
    artifacts: PathBuf,
    shots: std::sync::atomic::AtomicUsize,
}

fn find(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// `None` (after saying why) when the browser cannot run here; under CI a panic.
pub fn unavailable(reason: &str) -> Option<Browser> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("browser test cannot run under CI=true: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
    None
}

pub fn artifacts_dir(test: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("..").join("browser-artifacts").join(test)
}

impl Browser {
    pub async fn start(test: &str) -> Option<Browser> {
        let Some(chromium) = find("OMNIVOX_CHROMIUM", &["/usr/bin/chromium", "/usr/bin/chromium-browser"]) else {
            return unavailable("chromium is not installed (apt-get install chromium, or set OMNIVOX_CHROMIUM)");
        };
        let Some(chromedriver) = find("OMNIVOX_CHROMEDRIVER", &["/usr/bin/chromedriver"]) else {
            return unavailable("chromedriver is not installed (apt-get install chromium-driver)");
        };
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap().keep();
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1280,900", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                    "--no-first-run", "--lang=en-US", format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a chromium session");
        let artifacts = artifacts_dir(test);
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts).unwrap();
        Some(Browser { client, driver, artifacts, shots: Default::default() })
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until `script` returns something truthy, and returns it.
    pub async fn until(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let value = self.js(script, vec![]).await;
            let truthy = !matches!(&value, Value::Null | Value::Bool(false)) && value != json!(0) && value != json!("");
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                self.screenshot("timeout").await;
                panic!("timed out waiting for {what} (script: {script}; last value {value})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css}: {e}"));
        element.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css}: {e}"));
        element.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Saves a numbered PNG of the viewport as a test artifact.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let n = self.shots.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let path = self.artifacts.join(format!("{n:02}-{name}.png"));
        if let Ok(png) = self.client.screenshot().await {
            std::fs::write(&path, png).unwrap();
        }
        path
    }

    /// Signs in through the login page and lands on `next`.
    pub async fn sign_in(&self, base: &str, username: &str, password: &str, next: &str) {
        self.goto(&format!("{base}{next}")).await;
        self.until("the login page", "return location.pathname === '/login' && !!document.querySelector('#login')")
            .await;
        self.type_into("#username", username).await;
        self.type_into("#password", password).await;
        self.click("#login button[type=submit]").await;
        let path = next.split('?').next().unwrap_or(next).to_owned();
        self.until("the page after login", &format!("return location.pathname === {path:?}")).await;
    }

    /// Every WCAG 2.1 A/AA rule axe-core checks, on the page as it is now:
    /// the violations, as `rule: targets` lines.
    pub async fn accessibility_violations(&self) -> Option<Vec<String>> {
        let default =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-tools/node_modules/axe-core/axe.min.js");
        let path = std::env::var("OMNIVOX_AXE_JS").map(PathBuf::from).unwrap_or(default);
        let Ok(source) = std::fs::read_to_string(&path) else {
            unavailable(&format!(
                "axe-core is not at {} (npm install --prefix target/browser-tools axe-core)",
                path.display()
            ));
            return None;
        };
        self.js(&format!("{source}\nreturn true;"), vec![]).await;
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
              .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(', '))))
              .catch(e => done(['axe failed: ' + e]));";
        let value = self.client.execute_async(script, vec![]).await.expect("axe ran");
        Some(serde_json::from_value(value).expect("a list of violations"))
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}
