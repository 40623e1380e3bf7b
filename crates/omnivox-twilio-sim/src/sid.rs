//! Twilio resource identifiers as the simulator mints them: a two-letter prefix naming the kind
//! (`CA` call, `RE` recording, `AC` account, `PA` page token) and 32 lowercase hex digits.

use rand::Rng as _;

/// A fresh random SID such as `CA3f0c…` (prefix + 32 lowercase hex digits).
#[must_use]
pub fn new_sid(prefix: &str) -> String {
    format!("{prefix}{:032x}", rand::rng().random::<u128>())
}

/// True when `value` is `prefix` followed by exactly 32 hex digits.
pub(crate) fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == prefix.len() + 32
        && value.starts_with(prefix)
        && value[prefix.len()..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_sid_has_prefix_and_32_lowercase_hex_digits() {
        let sid = new_sid("RE");
        assert!(is_sid(&sid, "RE"), "{sid}");
        assert!(sid[2..].bytes().all(|b| !b.is_ascii_uppercase()));
        assert_ne!(new_sid("RE"), sid);
    }

    #[test]
    fn is_sid_rejects_wrong_prefix_and_length() {
        assert!(!is_sid("CA0123456789abcdef0123456789abcdef", "RE"));
        assert!(!is_sid("RE0123", "RE"));
        assert!(!is_sid("RE0123456789abcdef0123456789abcdeg", "RE"));
    }
}
