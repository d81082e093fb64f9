//! The CloudFront types and `sign_origin_request` on example events written from the documented
//! event structure (`testdata/events/`), and the shared vectors through the native edge path.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use originsig_core::{verify, Freshness, KeyRing, RequestTarget, UnixSeconds, HEADER_NAME};
use originsig_edge_signer::cloudfront::{OriginRequestEvent, Request};
use originsig_edge_signer::{sign_origin_request, EdgeError};
use serde_json::Value;

const NOW: UnixSeconds = UnixSeconds::new(1_763_715_900);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn event_text(name: &str) -> String {
    std::fs::read_to_string(root().join("edge-signer/testdata/events").join(name)).unwrap()
}

fn request_of(name: &str) -> Request {
    let event: OriginRequestEvent = serde_json::from_str(&event_text(name)).unwrap();
    event.records.into_iter().next().unwrap().cf.request
}

fn ring() -> KeyRing {
    KeyRing::from_keyring_json(&std::fs::read_to_string(root().join("shared/testdata/keyring.json")).unwrap())
        .unwrap()
}

#[test]
fn every_example_event_round_trips_without_loss() {
    for entry in std::fs::read_dir(root().join("edge-signer/testdata/events")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let event: OriginRequestEvent = serde_json::from_str(&text).unwrap();
        let original: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            original,
            "{}",
            path.display()
        );
    }
}

#[test]
fn signs_for_the_custom_origin_and_leaves_the_rest() {
    let mut request = request_of("custom-origin-get.json");
    let before = request.clone();
    sign_origin_request(&mut request, ring().signing_key(), NOW).unwrap();

    assert_eq!(
        request.headers["host"][0].value,
        "abc123defg.execute-api.us-east-1.amazonaws.com"
    );
    for name in [
        "x-forwarded-for",
        "user-agent",
        "via",
        "authorization",
        "accept",
        "x-custom",
    ] {
        assert_eq!(request.headers[name], before.headers[name], "{name} untouched");
    }
    assert_eq!(
        (&request.origin, &request.body, &request.uri),
        (&before.origin, &before.body, &before.uri)
    );

    // What the authorizer will see for this request verifies.
    let signature = &request.headers[HEADER_NAME];
    assert_eq!(signature.len(), 1);
    let gateway = RequestTarget::from_gateway(
        "GET",
        "abc123defg.execute-api.us-east-1.amazonaws.com",
        "/prod/items/café",
        "a=1&b=2",
    )
    .unwrap();
    verify(&signature[0].value, &gateway, &ring(), &Freshness::default(), NOW).unwrap();
}

#[test]
fn viewer_signature_headers_are_replaced_in_every_casing() {
    let mut request = request_of("viewer-signature-headers.json");
    sign_origin_request(&mut request, ring().signing_key(), NOW).unwrap();
    let names: Vec<&str> = request.headers.keys().map(String::as_str).collect();
    assert_eq!(names, ["authorization", "host", "x-originsig"]);
    assert_eq!(request.headers["host"][0].value, "api.example.com");
    let ours = &request.headers[HEADER_NAME];
    assert_eq!(ours.len(), 1);
    assert!(ours[0].value.starts_with("v1;t=1763715900;k=key-current;s="));
    assert!(request.body.is_some(), "the body is left alone");
}

#[test]
fn s3_or_missing_origin_is_an_error_and_the_request_is_untouched() {
    let mut request = request_of("s3-origin.json");
    let before = request.clone();
    assert_eq!(
        sign_origin_request(&mut request, ring().signing_key(), NOW),
        Err(EdgeError::NotCustomOrigin)
    );
    assert_eq!(request, before);
    request.origin = None;
    assert_eq!(
        sign_origin_request(&mut request, ring().signing_key(), NOW),
        Err(EdgeError::NotCustomOrigin)
    );
}

#[test]
fn unknown_fields_survive_signing() {
    let mut request = request_of("unknown-fields.json");
    sign_origin_request(&mut request, ring().signing_key(), NOW).unwrap();
    let value = serde_json::to_value(&request).unwrap();
    assert_eq!(value["futureRequestField"], "kept");
    assert_eq!(value["origin"]["custom"]["futureOriginField"], true);
    assert_eq!(
        value["origin"]["custom"]["customHeaders"]["x-origin-token"][0]["value"],
        "t"
    );
}

#[test]
fn unsignable_requests_are_errors_not_guesses() {
    let mut request = request_of("custom-origin-get.json");
    for (uri, query) in [("/%FF", ""), ("/a%zz", ""), ("/", "a=%2"), ("/ok", "x=%")] {
        request.uri = uri.to_owned();
        request.querystring = query.to_owned();
        let before = request.clone();
        let result = sign_origin_request(&mut request, ring().signing_key(), NOW);
        assert!(
            matches!(result, Err(EdgeError::Unsignable(_))),
            "{uri}?{query}: {result:?}"
        );
        assert_eq!(request, before);
    }
    // CloudFront allows 8,192 characters of uri + query: that still signs.
    request.uri = format!("/{}", "a%20".repeat(2000));
    request.querystring = "q=".to_owned() + &"x".repeat(190);
    sign_origin_request(&mut request, ring().signing_key(), NOW).unwrap();
}

#[test]
fn events_missing_fields_are_refused_by_the_parser() {
    for text in [
        r#"{}"#,
        r#"{"Records":[]}"#,
        r#"{"Records":[{"cf":{"config":{}}}]}"#,
        r#"[1]"#,
    ] {
        let parsed = serde_json::from_str::<OriginRequestEvent>(text);
        if let Ok(event) = parsed {
            assert!(event.records.is_empty(), "{text}");
        }
    }
}

/// The native edge path reproduces every vector's header.
#[test]
fn shared_vectors_through_the_native_edge_path() {
    let ring = ring();
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("shared/testdata/vectors")).unwrap() {
        let vector: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        let (Some(edge), Some(expected)) = (vector.get("sign"), vector.get("header")) else {
            continue;
        };
        let role = vector["signing_key"].as_str().unwrap();
        let Some((_, key)) = ring.entries().find(|(r, _)| r.as_str() == role) else {
            continue;
        };
        let mut request: Request = serde_json::from_value(serde_json::json!({
            "method": edge["method"], "uri": edge["uri"], "querystring": edge["querystring"], "headers": {},
            "origin": {"custom": {"domainName": edge["origin_domain"], "path": edge["origin_path"]}},
        }))
        .unwrap();
        sign_origin_request(&mut request, key, UnixSeconds::new(edge["at"].as_u64().unwrap())).unwrap();
        assert_eq!(
            request.headers[HEADER_NAME][0].value,
            expected.as_str().unwrap(),
            "{}",
            vector["name"]
        );
        checked += 1;
    }
    assert!(checked >= 25, "{checked}");
}
