//! The authorizer on example events of each payload type, with keys from the test key-ring file:
//! allows, every deny reason, wrong event types, and the shared vectors through the v2 path.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use originsig_core::{
    sign, sign_version, AcceptV1, Freshness, KeyRing, RequestTarget, SigningKey, UnixSeconds, Version,
};
use originsig_hmac_authorizer::config::{AuthorizerMode, CachePolicy};
use originsig_hmac_authorizer::events;
use originsig_hmac_authorizer::handler::{Authorizer, AuthorizerError, Decision};
use originsig_hmac_authorizer::key_cache::KeyCache;
use originsig_hmac_authorizer::store::KeyFileStore;
use originsig_tests::repo;
use serde_json::{json, Value};

const API: &str = "abc123defg.execute-api.us-east-1.amazonaws.com";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn ring() -> KeyRing {
    KeyRing::from_keyring_json(&std::fs::read_to_string(repo::test_keyring()).unwrap()).unwrap()
}

fn outsider() -> SigningKey {
    SigningKey::from_secret_value(
        &std::fs::read_to_string(repo::root().join("shared/testdata/outsider-key.json")).unwrap(),
    )
    .unwrap()
}

async fn authorizer(mode: AuthorizerMode) -> Authorizer<KeyFileStore> {
    let policy = CachePolicy {
        unknown_key_interval: Duration::from_secs(3600),
        ..CachePolicy::default()
    };
    let keys = KeyCache::init(KeyFileStore::new(repo::test_keyring()), policy).await;
    Authorizer::new(
        keys,
        mode,
        Freshness::default(),
        originsig_hmac_authorizer::observability::MetricsTarget {
            namespace: "originsig-test".into(),
            deployment: "test".into(),
        },
    )
}

fn event(name: &str) -> Value {
    let path = repo::root().join("hmac-authorizer/testdata/events").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The v2 example event carrying `header` (or none), with method/path/query overridable.
fn v2(header: Option<&str>) -> Value {
    let mut e = event("http-api-v2.json");
    match header {
        Some(h) => e["headers"]["x-originsig"] = json!(h),
        None => {
            e["headers"].as_object_mut().unwrap().remove("x-originsig");
        }
    }
    e
}

fn v2_signature(key: &SigningKey, at: u64) -> String {
    let target = RequestTarget::from_gateway("GET", API, "/prod/items/café", "a=1&b=2").unwrap();
    sign(&target, key, UnixSeconds::new(at)).render()
}

async fn deny_reason(event: Value) -> String {
    let auth = authorizer(AuthorizerMode::Simple).await;
    let text = event.to_string();
    let facts = events::from_http_api_v2(&text).unwrap();
    match auth.decide(&facts, UnixSeconds::new(now())).await.unwrap() {
        Decision::Deny(reason) => reason.reason().to_owned(),
        Decision::Allow(v) => panic!("allowed: {v:?}"),
    }
}

#[tokio::test]
async fn simple_response_allows_a_fresh_signature_with_context() {
    let auth = authorizer(AuthorizerMode::Simple).await;
    let at = now();
    let response = auth
        .handle(v2(Some(&v2_signature(ring().signing_key(), at))))
        .await
        .unwrap();
    assert_eq!(response["isAuthorized"], true);
    assert_eq!(response["context"]["keyId"], "key-current");
    assert_eq!(response["context"]["signedAt"], at);
    assert!(response["context"]["skewSeconds"].as_i64().unwrap() <= 2);
    assert_eq!(
        response["context"]["cfRequestId"],
        "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="
    );
}

#[tokio::test]
async fn simple_response_denies() {
    let auth = authorizer(AuthorizerMode::Simple).await;
    let response = auth
        .handle(v2(Some(
            "v1;t=1;k=x;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )))
        .await
        .unwrap();
    assert_eq!(response, json!({"isAuthorized": false, "context": {}}));
}

#[tokio::test]
async fn iam_responses_name_the_route() {
    let auth = authorizer(AuthorizerMode::Iam).await;
    let allow = auth
        .handle(v2(Some(&v2_signature(ring().signing_key(), now()))))
        .await
        .unwrap();
    assert_eq!(allow["principalId"], "originsig:key-current");
    let statement = &allow["policyDocument"]["Statement"][0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], json!(["execute-api:Invoke"]));
    assert_eq!(
        statement["Resource"],
        json!(["arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/items/{id}"])
    );
    let deny = auth.handle(v2(None)).await.unwrap();
    assert_eq!(deny["policyDocument"]["Statement"][0]["Effect"], "Deny");
}

fn rest(header: &str) -> Value {
    let mut e = event("rest-request.json");
    e["headers"]["x-originsig"] = json!(header);
    e["multiValueHeaders"]["x-originsig"] = json!([header]);
    e
}

#[tokio::test]
async fn rest_request_authorizer_uses_method_arn_and_string_context() {
    let auth = authorizer(AuthorizerMode::Rest).await;
    // REST events carry the decoded query as pairs, each key's values in the order sent
    // (`tag`: x, then y); the canonical form is the same.
    let target = RequestTarget::from_gateway("GET", API, "/prod/items/1", "tag=x&q=a+b&tag=y").unwrap();
    let header = sign(&target, ring().signing_key(), UnixSeconds::new(now())).render();
    let allow = auth.handle(rest(&header)).await.unwrap();
    assert_eq!(allow["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(
        allow["policyDocument"]["Statement"][0]["Resource"],
        json!(["arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/items/1"])
    );
    assert!(
        allow["context"]["signedAt"].is_string(),
        "REST context values are strings"
    );
    let deny = auth
        .handle(rest(
            "v1;t=1;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ))
        .await
        .unwrap();
    assert_eq!(deny["policyDocument"]["Statement"][0]["Effect"], "Deny");
    // An empty multi-value list must not panic (a dependency's iterator would).
    let mut odd = rest(&header);
    odd["multiValueQueryStringParameters"] = json!({"q": []});
    assert_eq!(
        auth.handle(odd).await.unwrap()["policyDocument"]["Statement"][0]["Effect"],
        "Deny"
    );
}

#[tokio::test]
async fn wrong_event_types_are_errors_not_denies() {
    let simple = authorizer(AuthorizerMode::Simple).await;
    let rest_auth = authorizer(AuthorizerMode::Rest).await;
    for bad in [
        json!({}),
        json!([1]),
        json!("x"),
        event("rest-request.json"),
        json!({"version": "1.0", "type": "REQUEST"}),
    ] {
        assert!(matches!(
            simple.handle(bad).await,
            Err(AuthorizerError::WrongEventType(_))
        ));
    }
    for bad in [json!({}), v2(None), json!({"type": "TOKEN", "methodArn": "x"})] {
        assert!(matches!(
            rest_auth.handle(bad).await,
            Err(AuthorizerError::WrongEventType(_))
        ));
    }
}

#[tokio::test]
async fn every_bad_header_gets_its_reason() {
    let key = ring().signing_key().clone();
    let good = v2_signature(&key, now());
    let cases: Vec<(Value, &str)> = vec![
        (v2(None), "missing"),
        (v2(Some("")), "missing"),
        (v2(Some(&format!("{good},{good}"))), "malformed"),
        (v2(Some(&"v1;".repeat(200))), "malformed"),
        (v2(Some("v1;t=1;k=ä;s=x")), "malformed"),
        (
            v2(Some("v3;t=1;k=a;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
            "unsupported_version",
        ),
        (v2(Some(&v2_signature(&outsider(), now()))), "unknown_key"),
        (v2(Some(&v2_signature(&key, now() - 61))), "expired"),
        (v2(Some(&v2_signature(&key, now() + 60))), "future"),
    ];
    for (event, reason) in cases {
        assert_eq!(deny_reason(event).await, reason);
    }
}

/// `ORIGINSIG_ACCEPT_V1` through the event path: a v1 signer's header over a repeated query key
/// is refused by default, with the reason, and accepted with `all`; v2 is refused reordered.
#[tokio::test]
async fn v1_signatures_are_accepted_as_configured() {
    let at = now();
    let query = "role=admin&role=user";
    let target = RequestTarget::from_gateway("GET", API, "/prod/items/café", query).unwrap();
    let v1 = sign_version(Version::V1, &target, ring().signing_key(), UnixSeconds::new(at)).render();
    let v2_header = sign(&target, ring().signing_key(), UnixSeconds::new(at)).render();
    let event = |header: &str, raw_query: &str| {
        let mut e = v2(Some(header));
        e["rawQueryString"] = json!(raw_query);
        e
    };
    let decide = |policy: AcceptV1, e: Value| async move {
        let auth = authorizer(AuthorizerMode::Simple).await.accepting_v1(policy);
        let text = e.to_string();
        let facts = events::from_http_api_v2(&text).unwrap();
        match auth.decide(&facts, UnixSeconds::new(at)).await.unwrap() {
            Decision::Allow(v) => format!("ok {}", v.version),
            Decision::Deny(reason) => format!("{} {}", reason.reason(), reason.detail().unwrap_or("-")),
        }
    };
    let swapped = "role=user&role=admin";
    let refused = "unsupported_version v1_repeated_query_key";
    assert_eq!(decide(AcceptV1::default(), event(&v1, query)).await, refused);
    assert_eq!(decide(AcceptV1::default(), event(&v1, swapped)).await, refused);
    assert_eq!(decide(AcceptV1::All, event(&v1, swapped)).await, "ok v1");
    assert_eq!(
        decide(AcceptV1::default(), event(&v2_header, query)).await,
        "ok v2"
    );
    assert_eq!(
        decide(AcceptV1::All, event(&v2_header, swapped)).await,
        "bad_signature -"
    );
    let unique = RequestTarget::from_gateway("GET", API, "/prod/items/café", "b=2&a=1").unwrap();
    let v1_unique = sign_version(Version::V1, &unique, ring().signing_key(), UnixSeconds::new(at)).render();
    assert_eq!(
        decide(AcceptV1::default(), event(&v1_unique, "a=1&b=2")).await,
        "ok v1"
    );
    assert_eq!(
        decide(AcceptV1::None, event(&v1_unique, "a=1&b=2")).await,
        "unsupported_version v1_not_accepted"
    );
}

#[tokio::test]
async fn another_method_path_query_or_host_is_a_bad_signature() {
    let good = v2_signature(ring().signing_key(), now());
    let edits: [(&str, Value); 4] = [
        ("/requestContext/http/method", json!("DELETE")),
        ("/rawPath", json!("/prod/items/other")),
        ("/rawQueryString", json!("a=1&b=3")),
        (
            "/requestContext/domainName",
            json!("other.execute-api.us-east-1.amazonaws.com"),
        ),
    ];
    for (pointer, value) in edits {
        let mut event = v2(Some(&good));
        *event.pointer_mut(pointer).unwrap() = value;
        assert_eq!(deny_reason(event).await, "bad_signature", "{pointer}");
    }
}

#[tokio::test]
async fn events_with_missing_fields_deny_and_never_panic() {
    let good = v2_signature(ring().signing_key(), now());
    for pointer in [
        "/rawPath",
        "/requestContext/domainName",
        "/rawQueryString",
        "/headers",
        "/requestContext/http",
    ] {
        let mut event = v2(Some(&good));
        let (parent, field) = pointer.rsplit_once('/').unwrap();
        let parent = if parent.is_empty() {
            &mut event
        } else {
            event.pointer_mut(parent).unwrap()
        };
        parent.as_object_mut().unwrap().remove(field);
        let auth = authorizer(AuthorizerMode::Simple).await;
        let response = auth.handle(event).await.unwrap();
        // Without rawQueryString the canonical query is empty, which changes what was signed.
        assert_eq!(response["isAuthorized"], false, "{pointer}");
    }
    // A header value JSON can carry but HTTP cannot (a control character): a deny, not an error.
    let mut garbled = v2(Some(&good));
    garbled["headers"]["x-originsig"] = json!("v1;\u{1}");
    assert_eq!(
        authorizer(AuthorizerMode::Simple)
            .await
            .handle(garbled)
            .await
            .unwrap()["isAuthorized"],
        false
    );
}

/// Every vector's authorizer side, as an HTTP API payload 2.0 event (or, for the REST vectors,
/// a REST API REQUEST event), decided at the vector's time.
#[tokio::test]
async fn shared_vectors_through_the_event_paths() {
    let dir = repo::root().join("shared/testdata/vectors");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let vector: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        let Some(gw) = vector.get("verify") else { continue };
        let values: Vec<&str> = gw["header_values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        if gw.get("max_age_secs").is_some() {
            continue; // a custom window is configuration, tested in config and the core
        }
        let now = UnixSeconds::new(gw["now"].as_u64().unwrap());
        let accept_v1 = gw.get("accept_v1").map_or(AcceptV1::default(), |name| {
            AcceptV1::from_name(name.as_str().unwrap()).unwrap()
        });
        let decision = if gw["api"] == "rest_api" {
            let mut event = self::event("rest-request.json");
            event["path"] = gw["path"].clone();
            event["requestContext"]["path"] = gw["path"].clone();
            event["requestContext"]["domainName"] = gw["domain_name"].clone();
            event["httpMethod"] = gw["method"].clone();
            let mut query = serde_json::Map::new();
            for pair in gw["query_pairs"].as_array().unwrap() {
                let entry = query
                    .entry(pair[0].as_str().unwrap())
                    .or_insert_with(|| json!([]));
                entry.as_array_mut().unwrap().push(pair[1].clone());
            }
            event["multiValueQueryStringParameters"] = Value::Object(query);
            event["queryStringParameters"] = json!({});
            event["multiValueHeaders"]["x-originsig"] = json!(values);
            event["headers"]["x-originsig"] = json!(values.last());
            let text = event.to_string();
            let facts = events::from_rest_request(&text).unwrap();
            let rest_auth = authorizer(AuthorizerMode::Rest).await.accepting_v1(accept_v1);
            rest_auth.decide(&facts, now).await.unwrap()
        } else {
            // HTTP APIs join repeated headers with ','.
            let mut event = v2(None);
            if !values.is_empty() {
                event["headers"]["x-originsig"] = json!(values.join(","));
            }
            event["rawPath"] = gw["raw_path"].clone();
            event["rawQueryString"] = gw["raw_query_string"].clone();
            event["requestContext"]["domainName"] = gw["domain_name"].clone();
            event["requestContext"]["http"]["method"] = gw["method"].clone();
            let text = event.to_string();
            let Ok(facts) = events::from_http_api_v2(&text) else {
                panic!("{}", vector["name"])
            };
            let auth = authorizer(AuthorizerMode::Simple).await.accepting_v1(accept_v1);
            auth.decide(&facts, now).await.unwrap()
        };
        let (got, detail) = match decision {
            Decision::Allow(_) => ("ok".to_owned(), None),
            Decision::Deny(reason) => (reason.reason().to_owned(), reason.detail()),
        };
        // http::Method accepts lowercase methods; the core then refuses them as malformed.
        assert_eq!(got, vector["expect"].as_str().unwrap(), "{}", vector["name"]);
        if got == "unsupported_version" {
            assert_eq!(detail, vector["expect_detail"].as_str(), "{}", vector["name"]);
        }
        count += 1;
    }
    assert!(count >= 80, "{count}");
}
