//! Recording media for Omnivox: durable storage (a local folder or an
//! S3-compatible bucket), the keys media is stored under, plausibility
//! checks of what Twilio sent, and waveform peaks.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod peaks;
pub mod storage;

use chrono::{DateTime, Datelike as _, Utc};
pub use object_store::path::Path as Key;
pub use peaks::{decode_peaks, Peaks, PeaksError};
pub use storage::{LocalCopy, MediaStorage, StorageError, StorageResult, Written, READ_CHUNK};

/// Where a recording's media is stored: `YYYY/MM/DD/{RecordingSid}.{ext}`,
/// by the day Omnivox learned of it. Made only from a validated SID, a
/// date and a fixed extension, never from request input.
pub fn recording_key(recording_sid: &str, created: DateTime<Utc>, extension: &str) -> Key {
    Key::from(format!("{:04}/{:02}/{:02}/{recording_sid}.{extension}", created.year(), created.month(), created.day()))
}

/// Checks that `size` bytes can be media of `stated_seconds` (Twilio's
/// rounded duration) in `extension`'s encoding: 16-bit 8 kHz PCM for WAV,
/// 8–320 kbit/s for MP3. Catches a truncated body or an error page stored
/// as audio before anything trusts it.
pub fn check_size(
    size: u64,
    stated_seconds: Option<i64>,
    channels: Option<i64>,
    extension: &str,
) -> Result<(), String> {
    if size == 0 {
        return Err("the media is empty".into());
    }
    let Some(seconds) = stated_seconds.filter(|s| *s > 0) else { return Ok(()) };
    let seconds = seconds as f64;
    let (low, high) = match extension {
        "wav" => {
            let per_second = 8000.0 * 2.0 * channels.unwrap_or(1).clamp(1, 2) as f64;
            // The stated duration is rounded to a second either way.
            ((seconds - 1.0).max(0.0) * per_second, (seconds + 1.0) * per_second + 4096.0)
        }
        _ => ((seconds - 1.0).max(0.0) * 1000.0, (seconds + 1.0) * 40_000.0 + 65_536.0),
    };
    if (size as f64) < low || (size as f64) > high {
        return Err(format!(
            "{size} bytes is not plausible for a {seconds:.0} s {extension} recording (expected {low:.0}–{high:.0})"
        ));
    }
    Ok(())
}

/// Checks the decoded length against Twilio's rounded duration.
pub fn check_duration(decoded_seconds: f64, stated_seconds: Option<i64>) -> Result<(), String> {
    match stated_seconds {
        Some(stated) if (decoded_seconds - stated as f64).abs() > 1.5 => {
            Err(format!("the media decodes to {decoded_seconds:.1} s but Twilio stated {stated} s"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_dated_and_named_by_sid() {
        let at = DateTime::parse_from_rfc3339("2026-02-16T14:32:00Z").unwrap().with_timezone(&Utc);
        let key = recording_key("RE0123456789abcdef0123456789abcdef", at, "wav");
        assert_eq!(key.as_ref(), "2026/02/16/RE0123456789abcdef0123456789abcdef.wav");
    }

    #[test]
    fn sizes_must_fit_the_duration() {
        // 10 s dual-channel WAV: 320,000 bytes of samples plus a header.
        assert!(check_size(320_044, Some(10), Some(2), "wav").is_ok());
        assert!(check_size(160_044, Some(10), Some(2), "wav").is_err(), "half missing");
        assert!(check_size(160_044, Some(10), Some(1), "wav").is_ok());
        assert!(check_size(512, Some(10), Some(2), "mp3").is_err(), "an error page");
        assert!(check_size(40_000, Some(10), Some(2), "mp3").is_ok());
        assert!(check_size(0, None, None, "wav").is_err());
        assert!(check_size(1234, None, None, "wav").is_ok(), "nothing to compare with");
    }

    #[test]
    fn durations_must_match_within_rounding() {
        assert!(check_duration(9.6, Some(10)).is_ok());
        assert!(check_duration(7.0, Some(10)).is_err());
        assert!(check_duration(7.0, None).is_ok());
    }
}
