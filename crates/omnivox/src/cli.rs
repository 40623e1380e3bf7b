//! The `omnivox` command line.

mod import;

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use omnivox_core::store::NewUser;
use omnivox_core::{Role, StoreError};
use omnivox_http::auth::password::{check_policy, hash_password};
use secrecy::{ExposeSecret, SecretString};

use crate::bootstrap;
use crate::config::{Config, Flags};
use crate::startup::{self, Application};

#[derive(Debug, Parser)]
#[command(name = "omnivox", version, about = "Omnivox Call Records: every Twilio call and its recording, once")]
pub struct Cli {
    /// Configuration file [env: OMNIVOX_CONFIG] [default: ./omnivox.toml]
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub flags: Flags,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default)
    Serve,
    /// Run the service fed by a simulated Twilio account (no credentials needed)
    Demo,
    /// Apply database migrations and exit
    Migrate,
    /// Manage users
    #[command(subcommand)]
    User(UserCommand),
    /// Import recordings made before Omnivox
    #[command(subcommand)]
    Import(ImportCommand),
    /// Delete data for good
    #[command(subcommand)]
    Purge(PurgeCommand),
}

#[derive(Debug, Subcommand)]
pub enum PurgeCommand {
    /// Delete every call record, recording and its media; campaigns, users,
    /// contacts and data lists stay
    CallRecords {
        /// Really do it (there is no undo)
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import the Twilio account's recordings created in a date range
    /// (inclusive; YYYY-MM-DD or an RFC 3339 time). Rerun the same command
    /// to resume an import that was stopped.
    Twilio {
        /// First day (or instant) of the range; the account's first recording when absent
        #[arg(long)]
        since: Option<String>,
        /// Last day (or instant) of the range; now when absent
        #[arg(long)]
        until: Option<String>,
        /// Report what would be imported without importing anything
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is asked for, or read from standard input
    Add {
        name: String,
        #[arg(long)]
        role: Role,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        display_name: Option<String>,
    },
}

pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Demo => crate::demo::run(config).await,
        Command::Migrate => {
            let store = startup::open_store(&config).await?;
            println!("database is up to date ({})", store.backend().as_str());
            store.close().await;
            Ok(())
        }
        Command::User(UserCommand::Add { name, role, password_stdin, display_name }) => {
            add_user(&config, name, role, password_stdin, display_name).await
        }
        Command::Import(ImportCommand::Twilio { since, until, dry_run }) => {
            import::import_twilio(&config, since, until, dry_run).await
        }
        Command::Purge(PurgeCommand::CallRecords { yes }) => purge_call_records(&config, yes).await,
    }
}

async fn purge_call_records(config: &Config, yes: bool) -> anyhow::Result<()> {
    let store = startup::open_store(config).await?;
    let count = store.count_call_records().await?;
    if !yes {
        store.close().await;
        anyhow::bail!(
            "this deletes all {count} call records, their recordings and media, for good; run again with --yes"
        );
    }
    let storage = omnivox_media::MediaStorage::open(&config.storage_url, config.aws_settings.0.clone())
        .with_context(|| format!("opening recording storage ({})", config.storage_url))?;
    let report = omnivox_http::purge::purge_call_records(store.as_ref(), &storage).await;
    store.close().await;
    let report = report?;
    println!(
        "deleted {} call records, {} recordings and {} media files ({} media files could not be deleted)",
        report.deleted_call_records, report.deleted_recordings, report.deleted_media_files, report.media_errors
    );
    anyhow::ensure!(report.media_errors == 0, "some media files could not be deleted; see the log");
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(&config).await?;
    bootstrap::announce(app.first_admin());
    let addr = app.local_addr()?;
    eprintln!("Omnivox Call Records is running at http://{addr}/  (Ctrl-C to stop)");
    app.run_until_stopped(startup::shutdown_on_signals()).await
}

async fn add_user(
    config: &Config,
    name: String,
    role: Role,
    password_stdin: bool,
    display_name: Option<String>,
) -> anyhow::Result<()> {
    let name = name.trim().to_owned();
    anyhow::ensure!(!name.is_empty() && name.len() <= 64, "the user name must be 1 to 64 characters");
    let password = if password_stdin { read_stdin_password()? } else { prompt_password()? };
    check_policy(&password)?;
    let store = startup::open_store(config).await?;
    let user = NewUser { username: name.clone(), display_name, role, password_hash: hash_password(password).await? };
    let created = store.create_user(&user, chrono_now()).await;
    store.close().await;
    match created {
        Ok(u) => {
            println!("created user {} ({})", u.username, u.role);
            Ok(())
        }
        Err(StoreError::Conflict(_)) => anyhow::bail!("a user named {name:?} already exists"),
        Err(e) => Err(e.into()),
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn read_stdin_password() -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    Ok(SecretString::from(line.trim_end_matches(['\r', '\n']).to_owned()))
}

fn prompt_password() -> anyhow::Result<SecretString> {
    let first = SecretString::from(rpassword::prompt_password("Password: ").context("reading the password")?);
    let again = SecretString::from(rpassword::prompt_password("Again: ").context("reading the password")?);
    anyhow::ensure!(first.expose_secret() == again.expose_secret(), "the passwords differ");
    Ok(first)
}
