//! Runs every file in `testdata/vectors/` through the native core. The Node tests of the edge
//! signer load the same files, which proves the WASM build signs byte for byte the same.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use originsig_core::{
    sign, single_header_value, verify_accepting, AcceptV1, ApiKind, CanonicalPath, CanonicalQuery, Freshness,
    Host, KeyRing, Malformed, Method, RequestTarget, SigningKey, UnixSeconds, VerifyError, Version,
};
use serde_json::Value;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("field {field} missing in {value}"))
}

fn ring() -> KeyRing {
    KeyRing::from_keyring_json(&std::fs::read_to_string(testdata().join("keyring.json")).unwrap()).unwrap()
}

fn key_for(role: &str, ring: &KeyRing) -> SigningKey {
    if role == "outsider" {
        let text = std::fs::read_to_string(testdata().join("outsider-key.json")).unwrap();
        return SigningKey::from_secret_value(&text).unwrap();
    }
    ring.entries()
        .find(|(r, _)| r.as_str() == role)
        .unwrap()
        .1
        .clone()
}

fn check(path: &Path, ring: &KeyRing) {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let vector: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if let Some(edge) = vector.get("sign") {
        let target = RequestTarget::from_edge(
            str_of(edge, "method"),
            str_of(edge, "origin_domain"),
            str_of(edge, "path_prefix"),
            str_of(edge, "uri"),
            str_of(edge, "querystring"),
            api_kind(edge),
        );
        match vector.get("sign_error") {
            Some(expected) => {
                assert_eq!(Some(target.unwrap_err().code()), expected.as_str(), "{name}");
                return;
            }
            None => {
                let target = target.unwrap_or_else(|e| panic!("{name}: {e}"));
                let key = key_for(str_of(&vector, "signing_key"), ring);
                let at = UnixSeconds::new(edge["at"].as_u64().unwrap());
                let canonical = originsig_core::CanonicalRequest {
                    version: Version::CURRENT,
                    timestamp: at,
                    key_id: key.id(),
                    target: &target,
                };
                assert_eq!(
                    canonical.render(),
                    str_of(&vector, "canonical"),
                    "{name}: canonical"
                );
                assert_eq!(
                    sign(&target, &key, at).render(),
                    str_of(&vector, "header"),
                    "{name}: header"
                );
            }
        }
    }
    let gw = &vector["verify"];
    let freshness = Freshness {
        max_age_secs: gw.get("max_age_secs").and_then(Value::as_u64).unwrap_or(60),
        max_future_secs: gw.get("max_future_secs").and_then(Value::as_u64).unwrap_or(5),
    };
    let values: Vec<&str> = gw["header_values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let accept_v1 = gw.get("accept_v1").map_or(AcceptV1::default(), |name| {
        AcceptV1::from_name(name.as_str().unwrap()).unwrap()
    });
    let result = verifier_target(gw).map_err(VerifyError::from).and_then(|target| {
        verify_accepting(
            single_header_value(values)?,
            &target,
            ring,
            &freshness,
            UnixSeconds::new(gw["now"].as_u64().unwrap()),
            accept_v1,
        )
    });
    match (str_of(&vector, "expect"), result) {
        ("ok", Ok(verified)) => {
            assert_eq!(
                verified.role.as_str(),
                str_of(&vector, "expect_key_role"),
                "{name}"
            )
        }
        (expected, Err(error)) => {
            assert_eq!(error.reason(), expected, "{name}: {error}");
            assert_eq!(
                error.detail(),
                vector.get("expect_detail").and_then(Value::as_str),
                "{name}"
            );
        }
        (expected, Ok(_)) => panic!("{name}: expected {expected}, got ok"),
    }
}

fn api_kind(part: &Value) -> ApiKind {
    ApiKind::from_name(str_of(part, "api")).unwrap()
}

/// The target as the vector's verifier sees it: an HTTP API's `rawPath` and `rawQueryString`,
/// or a REST API's encoded path and decoded query pairs.
fn verifier_target(gw: &Value) -> Result<RequestTarget, Malformed> {
    match api_kind(gw) {
        ApiKind::HttpApi => RequestTarget::from_gateway(
            str_of(gw, "method"),
            str_of(gw, "domain_name"),
            str_of(gw, "raw_path"),
            str_of(gw, "raw_query_string"),
        ),
        ApiKind::RestApi => {
            let pairs: Vec<(&str, &str)> = gw["query_pairs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap()))
                .collect();
            Ok(RequestTarget {
                method: Method::new(str_of(gw, "method"))?,
                host: Host::new(str_of(gw, "domain_name"))?,
                path: CanonicalPath::from_rest_path(str_of(gw, "path"))?,
                query: CanonicalQuery::from_decoded_pairs(pairs)?,
            })
        }
    }
}

#[test]
fn every_vector_file_holds() {
    let ring = ring();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(testdata().join("vectors"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 25, "only {} vectors", paths.len());
    for path in &paths {
        check(path, &ring);
    }
    // Every deny reason is covered by at least one vector.
    let all: String = paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for reason in VerifyError::ALL_REASONS {
        assert!(
            all.contains(&format!("\"expect\": \"{reason}\"")),
            "no vector for {reason}"
        );
    }
    // Every accept-v1 policy is pinned by a vector, and v1 headers are among the inputs.
    for policy in [AcceptV1::All, AcceptV1::None] {
        assert!(
            all.contains(&format!("\"accept_v1\": \"{}\"", policy.as_str())),
            "no vector for accept_v1 {}",
            policy.as_str()
        );
    }
    assert!(all.contains("\"v1;t="), "no v1 header among the vectors");
}
