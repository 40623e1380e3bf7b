//! Password hashing with Argon2id at OWASP's recommended parameters
//! (19 MiB, 2 passes, 1 lane). Hashing costs tens of milliseconds of CPU, so
//! it runs on the blocking pool, never on the async runtime's threads.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use omnivox_core::store::PasswordHash;
use secrecy::{ExposeSecret, SecretString};

pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

fn argon2() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn check_policy(password: &SecretString) -> Result<(), PasswordError> {
    if password.expose_secret().chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

/// Hashes a password that passed [`check_policy`].
pub async fn hash_password(password: SecretString) -> Result<PasswordHash, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()?
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| PasswordHash::new(h.to_string()))
            .map_err(|e| PasswordError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| PasswordError::Hashing(e.to_string()))?
}

/// Whether `password` matches `hash`. With no hash (unknown user) a dummy
/// hash is verified instead, so the answer takes as long either way and
/// timing does not reveal which user names exist.
pub async fn verify_password(password: SecretString, hash: Option<PasswordHash>) -> bool {
    tokio::task::spawn_blocking(move || {
        let Ok(hasher) = argon2() else { return false };
        let known = hash.is_some();
        let phc = match hash {
            Some(h) => h,
            None => match dummy_hash() {
                Some(h) => h.clone(),
                None => return false,
            },
        };
        let Ok(parsed) = argon2::password_hash::PasswordHash::new(phc.as_str()) else {
            return false;
        };
        known && hasher.verify_password(password.expose_secret().as_bytes(), &parsed).is_ok()
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> Option<&'static PasswordHash> {
    static DUMMY: std::sync::OnceLock<Option<PasswordHash>> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let salt = SaltString::generate(&mut OsRng);
            let hasher = argon2().ok()?;
            hasher.hash_password(b"not a real password", &salt).ok().map(|h| PasswordHash::new(h.to_string()))
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_owasp_parameters_and_verifies() {
        let pw = SecretString::from("correct horse battery staple");
        let hash = hash_password(pw.clone()).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", hash.as_str());
        assert!(verify_password(pw, Some(hash.clone())).await);
        assert!(!verify_password(SecretString::from("wrong password!!"), Some(hash)).await);
        assert!(!verify_password(SecretString::from("anything at all"), None).await);
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_policy(&SecretString::from("short")).is_err());
        assert!(check_policy(&SecretString::from("long enough pw")).is_ok());
    }
}
