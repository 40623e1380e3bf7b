//! Validation of Twilio's `X-Twilio-Signature` webhook header.
//!
//! Twilio signs every webhook with `base64(HMAC-SHA1(auth token, message))`, where the message
//! is the URL it called followed by the form parameters. The rules, checked against the
//! official helper libraries' own test vectors (`shared/twilio/signature-vectors.json`):
//!
//! 1. The URL is used exactly as configured: scheme, user info, host, path and raw query,
//!    with no decoding, re-encoding or normalisation (non-ASCII paths stay raw UTF-8, `//`
//!    in a path stays).
//! 2. Form parameters are appended as `name` + `value`, names sorted by bytes
//!    (case-sensitive). A name sent several times contributes each *distinct* value once, in
//!    sorted order: `Digits=5678&Digits=1234&Digits=1234` signs as `Digits1234Digits5678`.
//! 3. Twilio may have signed the URL with or without the port, so both are tried: the port
//!    stripped, and the URL with its port (an explicit port as given, otherwise the scheme's
//!    default `:443` / `:80` added).
//! 4. JSON webhooks carry `bodySHA256=<hex SHA-256 of the raw body>` in the query; the
//!    signature then covers the URL alone, and the body is checked against that hash.
//!
//! We wrote our own because existing crates get the port variants, repeated parameters or
//! `bodySHA256` wrong. The usual trap is running the URL through a WHATWG parser such as
//! `url::Url`: it percent-encodes non-ASCII paths and drops default ports, so the exact string
//! Twilio signed is lost. Here the URL is only ever split as a string.
//!
//! Behind a reverse proxy the URL the server sees is not the one Twilio signed; build it from
//! the configured public base URL with [`public_url`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

type HmacSha1 = Hmac<Sha1>;

/// Query parameter that marks a webhook whose body is covered by a hash instead of the HMAC.
const BODY_HASH_PARAM: &str = "bodySHA256";

/// Validates and produces `X-Twilio-Signature` values for one Twilio auth token.
///
/// The `validate*` methods are `#[must_use]`: ignoring the result means accepting forgeries.
#[derive(Clone)]
pub struct RequestValidator {
    /// HMAC state already keyed with the auth token; cloned for every signature.
    mac: HmacSha1,
    /// An empty token is a configuration mistake; validation then fails closed.
    has_token: bool,
}

impl fmt::Debug for RequestValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestValidator").field("auth_token", &"<redacted>").finish()
    }
}

impl RequestValidator {
    /// Creates a validator for the account's auth token.
    ///
    /// An empty token never validates anything (signing still works), so a missing
    /// configuration value cannot turn into "anyone who signs with an empty key is Twilio".
    pub fn new(auth_token: impl Into<String>) -> Self {
        let token = auth_token.into();
        Self { mac: keyed_hmac(token.as_bytes()), has_token: !token.is_empty() }
    }

    /// Validates a form-encoded request.
    ///
    /// `url` is the public URL Twilio called (`scheme://host[:port]/path[?raw query]`);
    /// `params` are the decoded form pairs in received order (names may repeat).
    #[must_use]
    pub fn validate_form(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        self.signature_matches(url, params, signature)
    }

    /// Validates a request whose URL carries `bodySHA256` (JSON webhooks): the signature covers
    /// the URL alone and `raw_body` must hash to the value in the URL.
    #[must_use]
    pub fn validate_body(&self, url: &str, raw_body: &[u8], signature: &str) -> bool {
        // Exactly one hash, or we would have to guess which one Twilio meant.
        let expected = match query_values(url, BODY_HASH_PARAM).as_slice() {
            [hash] => match hex::decode(hash) {
                Ok(bytes) => bytes,
                Err(_) => return false,
            },
            _ => return false,
        };
        let body_ok = Sha256::digest(raw_body).as_slice().ct_eq(&expected);
        self.signature_matches(url, &[], signature) && bool::from(body_ok)
    }

    /// Validates any webhook: `validate_body` when the URL's query has `bodySHA256`, otherwise
    /// `raw_body` is parsed as `application/x-www-form-urlencoded` and `validate_form` is used.
    #[must_use]
    pub fn validate(&self, url: &str, raw_body: &[u8], signature: &str) -> bool {
        if query_values(url, BODY_HASH_PARAM).is_empty() {
            let params: Vec<(String, String)> = url::form_urlencoded::parse(raw_body).into_owned().collect();
            self.validate_form(url, &params, signature)
        } else {
            self.validate_body(url, raw_body, signature)
        }
    }

    /// Computes the signature Twilio would send for `url` and form `params`, with the URL
    /// taken exactly as given (no port variants).
    #[must_use]
    pub fn sign_form(&self, url: &str, params: &[(String, String)]) -> String {
        BASE64.encode(self.digest(url, params))
    }

    /// Signature over the URL alone, for JSON bodies: add `bodySHA256` to the URL first.
    #[must_use]
    pub fn sign_url(&self, url: &str) -> String {
        self.sign_form(url, &[])
    }

    fn signature_matches(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        // Wrong length or invalid base64 can never match; no need to hide that.
        let provided = match BASE64.decode(signature) {
            Ok(bytes) if bytes.len() == <Sha1 as Digest>::output_size() => bytes,
            _ => return false,
        };
        let mut matched = Choice::from(0);
        for candidate in url_variants(url) {
            matched |= self.digest(&candidate, params).ct_eq(provided.as_slice());
        }
        self.has_token && bool::from(matched)
    }

    fn digest(&self, url: &str, params: &[(String, String)]) -> Vec<u8> {
        // Distinct values per name, names and values in byte order: what Twilio signs.
        let mut sorted: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (name, value) in params {
            sorted.entry(name).or_default().insert(value);
        }
        let mut mac = self.mac.clone();
        mac.update(url.as_bytes());
        for (name, values) in sorted {
            for value in values {
                mac.update(name.as_bytes());
                mac.update(value.as_bytes());
            }
        }
        mac.finalize().into_bytes().to_vec()
    }
}

/// Keys HMAC-SHA1 without a fallible constructor. RFC 2104 zero-pads a key to the 64-byte
/// block and hashes a longer key first; doing that here lets us use the fixed-size `new`
/// instead of unwrapping `new_from_slice` (which cannot fail for HMAC anyway).
fn keyed_hmac(key: &[u8]) -> HmacSha1 {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        let hashed = Sha1::digest(key);
        block[..hashed.len()].copy_from_slice(&hashed);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    <HmacSha1 as Mac>::new(&block.into())
}

/// The URLs Twilio may have signed for `url`: port stripped, and with a port (the explicit
/// one if present, else the scheme's default). Everything else is kept byte for byte, which
/// is why this splits the string instead of using a URL parser.
fn url_variants(url: &str) -> Vec<String> {
    let Some((scheme, host_end, port_end)) = split_port(url) else {
        return vec![url.to_owned()];
    };
    let (head, rest) = (&url[..host_end], &url[port_end..]);
    let stripped = format!("{head}{rest}");
    if port_end > host_end {
        return vec![stripped, url.to_owned()];
    }
    match default_port(scheme) {
        Some(port) => vec![stripped, format!("{head}:{port}{rest}")],
        None => vec![stripped],
    }
}

/// Splits `scheme://[userinfo@]host[:port]rest`, returning the scheme, the index where the
/// host ends and the index where the port (with its `:`) ends; equal when there is no port.
fn split_port(url: &str) -> Option<(&str, usize, usize)> {
    let scheme_end = url.find("://")?;
    // Otherwise the "://" belongs to something else, e.g. a URL inside the query.
    let scheme_ok = url[..scheme_end].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if scheme_end == 0 || !scheme_ok {
        return None;
    }
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..].find(['/', '?', '#']).map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    // User info may itself contain ':' (user:pass@), so look only after the last '@'.
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_port = &authority[host_start..];
    // A ':' inside an IPv6 literal such as [::1] is not a port separator.
    let host_end = match host_port.rfind(':') {
        Some(i) if !host_port[i..].contains(']') => authority_start + host_start + i,
        _ => authority_end,
    };
    Some((&url[..scheme_end], host_end, authority_end))
}

fn default_port(scheme: &str) -> Option<u16> {
    if scheme.eq_ignore_ascii_case("https") {
        Some(443)
    } else if scheme.eq_ignore_ascii_case("http") {
        Some(80)
    } else {
        None
    }
}

/// Decoded values of query parameter `name` in `url` (fragment ignored).
fn query_values(url: &str, name: &str) -> Vec<String> {
    let without_fragment = url.split_once('#').map_or(url, |(before, _)| before);
    let query = without_fragment.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .collect()
}

/// Joins the configured public base URL (`https://host` or `https://host/prefix/`) with a
/// request's path and query (`/api/x?y=1`), with exactly one `/` at the join. The query and
/// the rest of the path are kept raw, since that is what Twilio signed.
#[must_use]
pub fn public_url(base: &str, path_and_query: &str) -> String {
    let base = base.trim_end_matches('/');
    if path_and_query.starts_with('/') {
        format!("{base}{path_and_query}")
    } else {
        format!("{base}/{path_and_query}")
    }
}

#[cfg(test)]
mod tests;
