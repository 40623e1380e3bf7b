//! Property tests: anything we sign validates, and any single changed value does not.

use omnivox_twilio::RequestValidator;
use proptest::prelude::*;
use proptest::sample::Index;

fn url() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("https"), Just("http")],
        prop_oneof![Just(""), Just(":443"), Just(":80"), Just(":8443")],
        "(/[a-zA-Z0-9\u{e9}%._~-]{0,8}){0,3}",
        proptest::option::of("[a-zA-Z0-9=&%+]{0,16}"),
    )
        .prop_map(|(scheme, port, path, query)| {
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            format!("{scheme}://omnivox.example.com{port}{path}{query}")
        })
}

/// Distinct names (a repeated name with repeated values is covered separately below), in
/// random received order.
fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map("\\PC{0,10}", "\\PC{0,20}", 1..8)
        .prop_map(|map| map.into_iter().collect::<Vec<_>>())
        .prop_shuffle()
}

proptest! {
    #[test]
    fn signed_params_validate(token in "[0-9a-f]{32}", url in url(), params in params()) {
        let v = RequestValidator::new(token);
        let sig = v.sign_form(&url, &params);
        prop_assert!(v.validate_form(&url, &params, &sig));
        // Same thing through the dispatcher, from a real form-encoded body.
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        prop_assert!(v.validate(&url, body.as_bytes(), &sig));
        // Received order does not matter.
        let reversed: Vec<_> = params.iter().rev().cloned().collect();
        prop_assert!(v.validate_form(&url, &reversed, &sig));
    }

    #[test]
    fn changing_one_value_fails(
        token in "[0-9a-f]{32}",
        url in url(),
        params in params(),
        which in any::<Index>(),
        new_value in "\\PC{0,20}",
    ) {
        let v = RequestValidator::new(token);
        let sig = v.sign_form(&url, &params);
        let mut tampered = params.clone();
        let i = which.index(tampered.len());
        prop_assume!(tampered[i].1 != new_value);
        tampered[i].1 = new_value;
        prop_assert!(!v.validate_form(&url, &tampered, &sig));
    }

    /// Twilio signs each distinct value of a name once, sorted, so repeating a pair that was
    /// already sent does not change the signature. Code reading the params must not count them.
    #[test]
    fn repeating_a_pair_keeps_the_signature(
        token in "[0-9a-f]{32}",
        url in url(),
        params in params(),
        which in any::<Index>(),
    ) {
        let v = RequestValidator::new(token);
        let sig = v.sign_form(&url, &params);
        let mut repeated = params.clone();
        repeated.push(params[which.index(params.len())].clone());
        prop_assert!(v.validate_form(&url, &repeated, &sig));
    }
}
