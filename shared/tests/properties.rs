//! Property tests: canonicalisation is idempotent, the edge and gateway views agree, sign→verify
//! round-trips, any change to a signed field is `BadSignature`, and no parser panics.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use originsig_core::{
    sign, sign_version, verify, verify_accepting, AcceptV1, ApiKind, CanonicalPath, CanonicalQuery,
    Freshness, KeyId, KeyRing, Method, RequestTarget, SignatureHeader, SigningKey, UnixSeconds,
    UnsupportedVersion, VerifyError, Version,
};
use proptest::prelude::*;

const NOW: u64 = 1_763_715_900;

fn ring() -> KeyRing {
    KeyRing::single(SigningKey::new(KeyId::new("k1").unwrap(), vec![0x5A; 32]).unwrap())
}

/// A decoded path as API Gateway would report it: absolute, any Unicode, no `?` or `#`.
fn decoded_path() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![any::<char>(), Just('/'), Just('%'), Just('+'), Just('.')],
        0..40,
    )
    .prop_map(|chars| {
        let body: String = chars.into_iter().filter(|c| *c != '?' && *c != '#').collect();
        format!("/{body}")
    })
}

/// Encodes a decoded path the way some viewer might: each character either literal (when that
/// is unambiguous) or percent-encoded with random hex case.
fn viewer_encoding(path: &str, choices: &[(bool, bool)]) -> String {
    let mut out = String::new();
    for (index, c) in path.chars().enumerate() {
        let (escape, upper) = choices
            .get(index % choices.len().max(1))
            .copied()
            .unwrap_or((false, true));
        if c != '%' && !escape {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&if upper {
                    format!("%{byte:02X}")
                } else {
                    format!("%{byte:02x}")
                });
            }
        }
    }
    out
}

/// What a viewer sends so that an HTTP API, which decodes twice, reports `path` as `rawPath`:
/// a viewer encoding of a viewer encoding, the inner one escaping every `?` (a literal `?` after
/// the first decoding would cut the path).
fn http_api_viewer_encoding(path: &str, inner: &[(bool, bool)], outer: &[(bool, bool)]) -> String {
    let once = viewer_encoding(path, inner).replace('?', "%3F");
    viewer_encoding(&once, outer)
}

fn query() -> impl Strategy<Value = String> {
    proptest::collection::vec(("[a-z%+=~/ é]{0,6}", "[a-zA-Z0-9%+=~/ é&]{0,8}"), 0..6).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{}={}", escape_query(&k), escape_query(&v)))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn escape_query(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'~' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn canonical_path_is_idempotent(path in decoded_path()) {
        // A canonical path is an encoding of the decoded path, so decoding it once gives it back.
        let canonical = CanonicalPath::from_decoded(&path).unwrap();
        prop_assert_eq!(&CanonicalPath::from_rest_path(canonical.as_str()).unwrap(), &canonical);
    }

    #[test]
    fn edge_and_http_api_agree_on_paths(
        path in decoded_path(),
        inner in proptest::collection::vec(any::<(bool, bool)>(), 1..8),
        outer in proptest::collection::vec(any::<(bool, bool)>(), 1..8),
    ) {
        let encoded = http_api_viewer_encoding(&path, &inner, &outer);
        prop_assert_eq!(
            CanonicalPath::from_edge("", &encoded, ApiKind::HttpApi).unwrap(),
            CanonicalPath::from_decoded(&path).unwrap()
        );
    }

    #[test]
    fn edge_and_rest_api_agree_on_paths(path in decoded_path(), choices in proptest::collection::vec(any::<(bool, bool)>(), 1..8)) {
        let encoded = viewer_encoding(&path, &choices);
        prop_assert_eq!(
            CanonicalPath::from_edge("", &encoded, ApiKind::RestApi).unwrap(),
            CanonicalPath::from_rest_path(&encoded).unwrap()
        );
        prop_assert_eq!(CanonicalPath::from_rest_path(&encoded).unwrap(), CanonicalPath::from_decoded(&path).unwrap());
    }

    #[test]
    fn http_api_edge_refuses_what_the_gateway_would_cut_or_reject(
        head in "[a-z]{0,4}", tail in "[a-z]{0,4}", inner in "%3[Ff]|%25[g-z]",
    ) {
        let result = CanonicalPath::from_edge("", &format!("/{head}{inner}{tail}"), ApiKind::HttpApi);
        prop_assert!(result.is_err(), "{:?}", result);
    }

    #[test]
    fn canonical_query_is_idempotent(raw in query()) {
        let canonical = CanonicalQuery::from_raw(&raw).unwrap();
        prop_assert_eq!(&CanonicalQuery::from_raw(canonical.as_str()).unwrap(), &canonical);
    }

    #[test]
    fn v2_order_is_the_order_of_keys_then_the_sent_order(raw in query()) {
        let sent = CanonicalQuery::from_raw(&raw).unwrap();
        // Reversing the pieces reverses the order of each repeated key's values: v1 does not see
        // it, v2 does exactly when some key has two different values.
        let mut pieces: Vec<&str> = raw.split('&').collect();
        pieces.reverse();
        let reversed = CanonicalQuery::from_raw(&pieces.join("&")).unwrap();
        prop_assert_eq!(sent.for_version(Version::V1), reversed.for_version(Version::V1));
        prop_assert_eq!(sent.repeats_key(), reversed.repeats_key());
        let pairs = |q: &str| -> Vec<(String, String)> {
            q.split('&').filter(|p| !p.is_empty()).map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            }).collect()
        };
        let v2 = pairs(sent.as_str());
        // Sorted by key; within a key, the values in the order sent (reversed's are reversed).
        prop_assert!(v2.windows(2).all(|w| w[0].0 <= w[1].0));
        let mut back = pairs(reversed.as_str());
        back.reverse();
        back.sort_by(|a, b| a.0.cmp(&b.0));
        prop_assert_eq!(&back, &v2);
        if !sent.repeats_key() {
            prop_assert_eq!(sent.for_version(Version::V1), sent.as_str());
            prop_assert_eq!(&reversed, &sent);
        }
    }

    #[test]
    fn v1_never_verifies_a_reordered_replay_by_default(raw in query()) {
        let ring = ring();
        let mut pieces: Vec<&str> = raw.split('&').collect();
        pieces.reverse();
        let signed = RequestTarget::from_gateway("GET", "h.example", "/", &raw).unwrap();
        let replayed = RequestTarget::from_gateway("GET", "h.example", "/", &pieces.join("&")).unwrap();
        let now = UnixSeconds::new(NOW);
        let v1 = sign_version(Version::V1, &signed, ring.signing_key(), now).render();
        let v2 = sign(&signed, ring.signing_key(), now).render();
        let check = |header: &str, policy| verify_accepting(header, &replayed, &ring, &Freshness::default(), now, policy);
        if signed.query.repeats_key() {
            prop_assert_eq!(check(&v1, AcceptV1::Unambiguous), Err(VerifyError::UnsupportedVersion(UnsupportedVersion::V1RepeatedQueryKey)));
            prop_assert!(check(&v1, AcceptV1::All).is_ok());
        } else {
            prop_assert!(check(&v1, AcceptV1::Unambiguous).is_ok());
        }
        prop_assert_eq!(check(&v1, AcceptV1::None), Err(VerifyError::UnsupportedVersion(UnsupportedVersion::V1NotAccepted)));
        // v2 verifies the replay exactly when the canonical query did not change.
        prop_assert_eq!(check(&v2, AcceptV1::None).is_ok(), replayed.query.as_str() == signed.query.as_str());
    }

    #[test]
    fn sign_then_verify_round_trips(method in "[A-Z]{1,16}", path in decoded_path(), raw in query(), age in 0u64..=60) {
        let ring = ring();
        let viewer = http_api_viewer_encoding(&path, &[(true, true)], &[(false, true)]);
        let edge = RequestTarget::from_edge(&method, "h.example", "", &viewer, &raw, ApiKind::HttpApi).unwrap();
        let header = sign(&edge, ring.signing_key(), UnixSeconds::new(NOW));
        let gateway = RequestTarget::from_gateway(&method, "h.example", &path, &raw).unwrap();
        let verified = verify(&header.render(), &gateway, &ring, &Freshness::default(), UnixSeconds::new(NOW + age));
        prop_assert!(verified.is_ok(), "{:?}", verified);
    }

    #[test]
    fn any_change_to_a_signed_field_is_bad_signature(field in 0usize..4, path in decoded_path(), raw in query(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let ring = ring();
        let target = RequestTarget::from_gateway("GET", "h.example", &path, &raw).unwrap();
        let header = sign(&target, ring.signing_key(), UnixSeconds::new(NOW)).render();
        // Change one byte of one canonical field; mutants that are no longer valid are skipped.
        let mutate = |s: &str, allowed: &dyn Fn(u8) -> bool| -> Option<String> {
            let mut bytes = s.as_bytes().to_vec();
            let i = pos.index(bytes.len().max(1));
            let current = *bytes.get(i)?;
            if !allowed(byte) || byte == current { return None; }
            bytes[i] = byte;
            String::from_utf8(bytes).ok()
        };
        let path_c = target.path.as_str().to_owned();
        let query_c = target.query.as_str().to_owned();
        let changed = match field {
            0 => mutate("GET", &|b| b.is_ascii_uppercase()).map(|m| RequestTarget { method: Method::new(&m).unwrap(), ..target.clone() }),
            1 => mutate("h.example", &|b| b.is_ascii_lowercase()).map(|h| RequestTarget::from_gateway("GET", &h, &path, &raw).unwrap()),
            2 => mutate(&path_c, &|b| b.is_ascii_alphanumeric()).and_then(|p| CanonicalPath::from_rest_path(&p).ok()).map(|path| RequestTarget { path, ..target.clone() }),
            _ => mutate(&query_c, &|b| b.is_ascii_alphanumeric()).and_then(|q| CanonicalQuery::from_raw(&q).ok()).map(|query| RequestTarget { query, ..target.clone() }),
        };
        if let Some(changed) = changed {
            if changed != target {
                let result = verify(&header, &changed, &ring, &Freshness::default(), UnixSeconds::new(NOW));
                prop_assert_eq!(result, Err(VerifyError::BadSignature));
            }
        }
    }

    #[test]
    fn any_change_to_the_header_is_refused(pos in any::<prop::sample::Index>(), byte in 0x20u8..0x7F) {
        let ring = ring();
        let target = RequestTarget::from_gateway("GET", "h.example", "/", "").unwrap();
        let header = sign(&target, ring.signing_key(), UnixSeconds::new(NOW)).render();
        let mut bytes = header.clone().into_bytes();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        let changed = String::from_utf8(bytes).unwrap();
        if changed != header {
            prop_assert!(verify(&changed, &target, &ring, &Freshness::default(), UnixSeconds::new(NOW)).is_err());
        }
    }

    #[test]
    fn parsers_never_panic(input in any::<String>(), origin in any::<String>()) {
        let _ = SignatureHeader::parse(&input);
        for api in [ApiKind::HttpApi, ApiKind::RestApi] {
            let _ = CanonicalPath::from_edge(&origin, &input, api);
            let _ = RequestTarget::from_edge(&origin, &input, &origin, &input, &input, api);
        }
        let _ = CanonicalPath::from_decoded(&input);
        let _ = CanonicalQuery::from_raw(&input);
        let _ = originsig_core::single_header_value([input.as_str(), origin.as_str()]);
        let _ = KeyRing::from_keyring_json(&input);
        let _ = SigningKey::from_secret_value(&input);
    }

    #[test]
    fn header_parser_survives_near_misses(t in any::<u64>(), k in "[ -~]{0,70}", s in "[ -~]{0,50}", v in "v[0-9]{0,3}|v1|v2") {
        let value = format!("{v};t={t};k={k};s={s}");
        let _ = SignatureHeader::parse(&value);
    }
}
