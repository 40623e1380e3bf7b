//! The first administrator. There is no default password anywhere: on a
//! database without an admin, the first start creates `admin` with
//! `OMNIVOX_ADMIN_PASSWORD`, or else with a random one-time password that is
//! printed once to the terminal (never to the log).

use std::sync::Arc;

use omnivox_core::store::NewUser;
use omnivox_core::{Clock, Role, Store, StoreError};
use omnivox_http::auth::password::{check_policy, hash_password};
use rand::distr::{Alphanumeric, SampleString};
use secrecy::{ExposeSecret, SecretString};

pub const FIRST_ADMIN: &str = "admin";

#[derive(Debug)]
pub enum FirstAdmin {
    /// An admin already exists; nothing was done.
    Exists,
    /// Created with the configured password.
    FromConfig,
    /// Created with this generated password, to be shown once.
    Generated(SecretString),
}

pub async fn ensure_first_admin(
    store: &Arc<dyn Store>,
    clock: &Arc<dyn Clock>,
    configured: Option<&SecretString>,
) -> anyhow::Result<FirstAdmin> {
    if store.count_users_with_role(Role::Admin).await? > 0 {
        return Ok(FirstAdmin::Exists);
    }
    let (password, outcome) = match configured {
        Some(p) => {
            check_policy(p).map_err(|e| anyhow::anyhow!("OMNIVOX_ADMIN_PASSWORD is not acceptable: {e}"))?;
            (p.clone(), FirstAdmin::FromConfig)
        }
        None => {
            let generated = SecretString::from(Alphanumeric.sample_string(&mut rand::rng(), 20));
            (generated.clone(), FirstAdmin::Generated(generated))
        }
    };
    let user = NewUser {
        username: FIRST_ADMIN.into(),
        display_name: Some("Administrator".into()),
        role: Role::Admin,
        password_hash: hash_password(password).await?,
    };
    match store.create_user(&user, clock.now()).await {
        Ok(_) => Ok(outcome),
        // Another instance starting at the same moment won the race.
        Err(StoreError::Conflict(_)) => Ok(FirstAdmin::Exists),
        Err(e) => Err(e.into()),
    }
}

/// Shows a generated password on the terminal, once.
pub fn announce(outcome: &FirstAdmin) {
    match outcome {
        FirstAdmin::Generated(password) => eprintln!(
            "\n  First start: created the administrator \"{FIRST_ADMIN}\" with the one-time password\n\n      {}\n\n  It is shown only now. Sign in and keep it safe, or set OMNIVOX_ADMIN_PASSWORD before the first start.\n",
            password.expose_secret()
        ),
        FirstAdmin::FromConfig => tracing::info!(user = FIRST_ADMIN, "created the first administrator from OMNIVOX_ADMIN_PASSWORD"),
        FirstAdmin::Exists => {}
    }
}
