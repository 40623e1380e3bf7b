//! Login throttling per user name and per client address, so a password
//! cannot be guessed by trying many, from one address or from many.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct LoginLimiter {
    per_user: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl LoginLimiter {
    pub fn new(per_user_per_minute: u32, per_ip_per_minute: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            per_user: RateLimiter::keyed(quota(per_user_per_minute)),
            per_ip: RateLimiter::keyed(quota(per_ip_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt; `Err(seconds)` when over either limit.
    pub fn check(&self, username: &str, ip: IpAddr) -> Result<(), u64> {
        let user_key = username.trim().to_lowercase();
        let wait = |not_until: governor::NotUntil<_>| not_until.wait_time_from(self.clock.now()).as_secs().max(1);
        self.per_ip.check_key(&ip).map_err(wait)?;
        self.per_user.check_key(&user_key).map_err(wait)?;
        Ok(())
    }

    /// Drops the state of keys whose limits have fully recovered.
    pub fn shrink(&self) {
        self.per_user.retain_recent();
        self.per_ip.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_user_and_per_ip() {
        let limiter = LoginLimiter::new(3, 4);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            limiter.check("ada", a).unwrap();
        }
        assert!(limiter.check("ADA", b).is_err(), "per user, across addresses and case");
        limiter.check("bob", a).unwrap();
        assert!(limiter.check("carol", a).is_err(), "per address, across users");
    }
}
