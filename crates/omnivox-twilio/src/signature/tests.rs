use super::*;

const TOKEN: &str = "12345";
const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn call_params() -> Vec<(String, String)> {
    pairs(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ])
}

#[test]
fn known_signature_from_twilio_docs() {
    let v = RequestValidator::new(TOKEN);
    assert_eq!(v.sign_form(URL, &call_params()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    assert!(v.validate_form(URL, &call_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
}

#[test]
fn tampered_parameter_is_rejected() {
    let v = RequestValidator::new(TOKEN);
    let sig = v.sign_form(URL, &call_params());
    let mut params = call_params();
    params[2].1 = "9999".into();
    assert!(!v.validate_form(URL, &params, &sig));
    // Dropping or adding a parameter is a tamper too.
    assert!(!v.validate_form(URL, &call_params()[1..], &sig));
    params = call_params();
    params.push(("Extra".into(), String::new()));
    assert!(!v.validate_form(URL, &params, &sig));
}

#[test]
fn wrong_token_is_rejected() {
    let sig = RequestValidator::new("other-token").sign_form(URL, &call_params());
    assert!(!RequestValidator::new(TOKEN).validate_form(URL, &call_params(), &sig));
}

#[test]
fn signature_replayed_to_another_url_is_rejected() {
    let v = RequestValidator::new(TOKEN);
    let a = "https://omnivox.example.com/api/dialer/webhook/call-status";
    let b = "https://omnivox.example.com/api/dialer/webhook/recording-status";
    let sig = v.sign_form(a, &call_params());
    assert!(v.validate_form(a, &call_params(), &sig));
    assert!(!v.validate_form(b, &call_params(), &sig));
    assert!(!v.validate_form(&format!("{a}?x=1"), &call_params(), &sig));
    assert!(!v.validate_form(&a.replace("https", "http"), &call_params(), &sig));
}

#[test]
fn port_variants() {
    let v = RequestValidator::new(TOKEN);
    let p = call_params();
    // (URL Twilio signed, URL we validate against, accepted?)
    let cases = [
        // The default port added or removed, either way round.
        ("https://h.example/x?q=1", "https://h.example:443/x?q=1", true),
        ("https://h.example:443/x?q=1", "https://h.example/x?q=1", true),
        ("http://h.example/x", "http://h.example:80/x", true),
        ("http://h.example:80/x", "http://h.example/x", true),
        // A non-default port is tried as is and stripped; user info and IPv6 hosts too.
        ("https://h.example:8443/x", "https://h.example:8443/x", true),
        ("https://h.example/x", "https://h.example:8443/x", true),
        ("https://u:p@h.example:443/x", "https://u:p@h.example/x", true),
        ("http://[::1]:8080/x", "http://[::1]:8080/x", true),
        ("http://[::1]/x", "http://[::1]:8080/x", true),
        ("http://[::1]:80/x", "http://[::1]/x", true),
        // A port is never swapped for another one, nor for the other scheme's default.
        ("https://h.example:443/x", "https://h.example:8443/x", false),
        ("https://h.example:8443/x", "https://h.example/x", false),
        ("https://h.example:80/x", "https://h.example/x", false),
        ("http://h.example:443/x", "http://h.example/x", false),
    ];
    for (signed, seen, expected) in cases {
        let accepted = v.validate_form(seen, &p, &v.sign_form(signed, &p));
        assert_eq!(accepted, expected, "signed {signed}, validated {seen}");
    }
}

#[test]
fn url_variants_keep_everything_else_raw() {
    assert_eq!(
        url_variants("https://user:pa:ss@h.example/Espa\u{f1}a?a=%20#f"),
        ["https://user:pa:ss@h.example/Espa\u{f1}a?a=%20#f", "https://user:pa:ss@h.example:443/Espa\u{f1}a?a=%20#f",]
    );
    assert_eq!(url_variants("https://h:443//x"), ["https://h//x", "https://h:443//x"]);
    assert_eq!(url_variants("https://h?x=:1"), ["https://h?x=:1", "https://h:443?x=:1"]);
    assert_eq!(url_variants("wss://h:9/x"), ["wss://h/x", "wss://h:9/x"]);
    assert_eq!(url_variants("wss://h/x"), ["wss://h/x"]);
    assert_eq!(url_variants("not a url"), ["not a url"]);
    assert_eq!(url_variants("/x?u=https://h:1/"), ["/x?u=https://h:1/"]);
}

#[test]
fn sign_form_round_trips() {
    let v = RequestValidator::new("0123456789abcdef0123456789abcdef");
    let params = pairs(&[("Z", "1"), ("A", "x y+z&="), ("M", ""), ("A", "\u{1f4de}")]);
    let url = "https://omnivox.example.com/hook?a=b%20c";
    assert!(v.validate_form(url, &params, &v.sign_form(url, &params)));
}

#[test]
fn repeated_names_sign_distinct_sorted_values() {
    let v = RequestValidator::new(TOKEN);
    let sig = v.sign_form(URL, &pairs(&[("D", "5"), ("D", "1"), ("D", "1")]));
    assert_eq!(sig, v.sign_form(URL, &pairs(&[("D", "1"), ("D", "5")])));
    assert_ne!(sig, v.sign_form(URL, &pairs(&[("D", "5")])));
}

#[test]
fn malformed_signatures_are_rejected() {
    let v = RequestValidator::new(TOKEN);
    let good = v.sign_form(URL, &call_params());
    let long = BASE64.encode([0u8; 32]);
    let too_long = "A".repeat(10_000);
    for bad in [
        "",
        "=",
        "abc",
        "!!!!",
        "RSOYDt4T1cUTdK1PDd93/VVr8B8",
        " RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        &good[..good.len() - 4],
        &long,
        &too_long,
    ] {
        assert!(!v.validate_form(URL, &call_params(), bad), "{bad:?}");
        assert!(!v.validate(URL, b"", bad), "{bad:?}");
    }
}

#[test]
fn empty_token_never_validates() {
    let v = RequestValidator::new("");
    let sig = v.sign_form(URL, &call_params());
    assert!(!v.validate_form(URL, &call_params(), &sig));
}

#[test]
fn long_token_is_hashed_like_rfc_2104() {
    let token = "k".repeat(100);
    let mut reference =
        <HmacSha1 as hmac::digest::KeyInit>::new_from_slice(token.as_bytes()).expect("HMAC accepts any key length");
    reference.update(URL.as_bytes());
    let expected = BASE64.encode(reference.finalize().into_bytes());
    assert_eq!(RequestValidator::new(token).sign_url(URL), expected);
}

#[test]
fn debug_does_not_print_the_token() {
    let text = format!("{:?}", RequestValidator::new("s3cr3t-t0ken"));
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(text.contains("redacted"), "{text}");
}

#[test]
fn validate_parses_form_bodies() {
    let v = RequestValidator::new(TOKEN);
    let params = pairs(&[("From", "+1 415"), ("Body", "a&b=c"), ("Body", "\u{e9}")]);
    let sig = v.sign_form(URL, &params);
    let body = b"From=%2B1+415&Body=a%26b%3Dc&Body=%C3%A9";
    assert!(v.validate(URL, body, &sig));
    assert!(!v.validate(URL, b"From=%2B1+415&Body=a%26b%3Dc", &sig));
}

#[test]
fn body_hash_requests() {
    let v = RequestValidator::new(TOKEN);
    let body = br#"{"property": "value", "boolean": true}"#;
    let url = format!("{URL}&bodySHA256={}", hex::encode(Sha256::digest(body)));
    let sig = v.sign_url(&url);
    assert!(v.validate_body(&url, body, &sig));
    assert!(v.validate(&url, body, &sig));
    // Upper-case hex in the URL is still the same hash (and the URL itself is signed).
    let upper = format!("{URL}&bodySHA256={}", hex::encode_upper(Sha256::digest(body)));
    assert!(v.validate(&upper, body, &v.sign_url(&upper)));
    // Changed body, missing hash, duplicated or malformed hash: rejected.
    assert!(!v.validate(&url, br#"{"property": "value", "boolean": false}"#, &sig));
    assert!(!v.validate_body(URL, body, &v.sign_url(URL)));
    let twice = format!("{url}&bodySHA256=00");
    assert!(!v.validate(&twice, body, &v.sign_url(&twice)));
    let bad_hex = format!("{URL}&bodySHA256=zz");
    assert!(!v.validate(&bad_hex, body, &v.sign_url(&bad_hex)));
    // A hash-carrying URL is never validated as a form, even with the form signature.
    assert!(!v.validate(&url, b"a=b", &v.sign_form(&url, &pairs(&[("a", "b")]))));
}

#[test]
fn public_url_joins() {
    let pq = "/api/dialer/webhook/call-status?x=1";
    let want = "https://omnivox.example.com/api/dialer/webhook/call-status?x=1";
    assert_eq!(public_url("https://omnivox.example.com", pq), want);
    assert_eq!(public_url("https://omnivox.example.com/", pq), want);
    assert_eq!(public_url("https://omnivox.example.com", "api/dialer/webhook/call-status?x=1"), want);
    assert_eq!(public_url("https://host/prefix/", "/hook"), "https://host/prefix/hook");
    assert_eq!(public_url("https://host/prefix", "/hook"), "https://host/prefix/hook");
    // The query and the path are kept raw, not decoded or re-encoded.
    assert_eq!(
        public_url("https://host:8443", "/a%2Fb/Espa\u{f1}a?q=a%20b+c&r=%zz"),
        "https://host:8443/a%2Fb/Espa\u{f1}a?q=a%20b+c&r=%zz"
    );
    assert_eq!(public_url("https://host", "//x"), "https://host//x");
    assert_eq!(public_url("https://host", ""), "https://host/");
    assert_eq!(public_url("https://host", "?x=1"), "https://host/?x=1");
}
