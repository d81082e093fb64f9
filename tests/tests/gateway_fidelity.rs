//! The gateway emulator against what real HTTP APIs were captured doing
//! (`tests/fixtures/http-api-captures.json`, with its source). If AWS is captured doing something
//! else, the fixture changes first and this test says what the emulator must change.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use hyper::body::Bytes;
use hyper::StatusCode;
use originsig_tests::gateway::{authorizer_event, route, CustomDomain, GatewayConfig, MappingPath};
use originsig_tests::http::Incoming2;
use originsig_tests::repo;
use serde_json::Value;

fn captures() -> Value {
    let path = repo::root().join("tests/fixtures/http-api-captures.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn request(method: &str, path: &str, query: &str, headers: &[(&str, &str)]) -> Incoming2 {
    Incoming2 {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
            .collect(),
        body: Bytes::new(),
        peer: "127.0.0.1:1".parse().unwrap(),
    }
}

fn default_stage() -> GatewayConfig {
    GatewayConfig {
        stage: None,
        custom_domains: Vec::new(),
        upstream: None,
    }
}

#[test]
fn every_captured_path_is_reported_or_rejected_as_aws_did() {
    let captures = captures();
    let query = captures["query_with_paths"].as_str().unwrap();
    let rows = captures["paths"].as_array().unwrap();
    assert!(rows.len() >= 10);
    for row in rows {
        let sent = row["sent"].as_str().unwrap();
        let incoming = request("GET", sent, query, &[("host", "api.example.com")]);
        match (route(&incoming, &default_stage()), row.get("rawPath")) {
            (Ok(routed), Some(expected)) => {
                assert_eq!(routed.raw_path, expected.as_str().unwrap(), "{sent}");
                let event = authorizer_event(&incoming, &routed, "id");
                assert_eq!(event["rawPath"], *expected, "{sent}");
                assert_eq!(event["requestContext"]["http"]["path"], *expected, "{sent}");
                assert_eq!(
                    event["rawQueryString"], query,
                    "{sent}: the query is never touched"
                );
            }
            (Err(status), None) => {
                assert_eq!(
                    u64::from(status.as_u16()),
                    row["rejected"].as_u64().unwrap(),
                    "{sent}"
                );
            }
            (got, expected) => panic!("{sent}: emulator {got:?}, captured {expected:?}"),
        }
    }
}

#[test]
fn the_captured_event_fields_are_reproduced() {
    let captures = captures();
    let sent = &captures["event"]["request"];
    let captured = &captures["event"]["captured"];
    let headers: Vec<(&str, &str)> = sent["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_str().unwrap(), pair[1].as_str().unwrap()))
        .collect();
    let incoming = request(
        sent["method"].as_str().unwrap(),
        sent["path"].as_str().unwrap(),
        sent["query"].as_str().unwrap(),
        &headers,
    );
    let routed = route(&incoming, &default_stage()).unwrap();
    let event = authorizer_event(&incoming, &routed, "id");
    assert_eq!(event["rawPath"], captured["rawPath"]);
    assert_eq!(
        event["requestContext"]["http"]["path"],
        captured["requestContext.http.path"]
    );
    assert_eq!(event["rawQueryString"], captured["rawQueryString"]);
    assert_eq!(event["cookies"], captured["cookies"], "Cookie moves to cookies[]");
    assert_eq!(
        event["headers"], captured["headers"],
        "lowercased names, repeats joined by ',' with no space, no cookie"
    );
    assert_eq!(event["requestContext"]["stage"], captured["requestContext.stage"]);
    assert_eq!(
        event["requestContext"]["domainName"],
        captured["requestContext.domainName"]
    );
}

/// Field reports, not captures: a named stage's segment is in `rawPath`; `$default` adds none.
#[test]
fn a_named_stage_is_in_raw_path_and_other_paths_are_not_routed() {
    let config = GatewayConfig {
        stage: Some("prod".into()),
        ..default_stage()
    };
    let routed = route(&request("GET", "/prod/items/a%2520b", "", &[]), &config).unwrap();
    assert_eq!(
        (routed.raw_path.as_str(), routed.stage.as_str()),
        ("/prod/items/a b", "prod")
    );
    assert_eq!(
        route(&request("GET", "/prod", "", &[]), &config)
            .unwrap()
            .raw_path,
        "/prod"
    );
    assert_eq!(
        route(&request("GET", "/dev/items", "", &[]), &config),
        Err(StatusCode::NOT_FOUND)
    );
    assert_eq!(
        route(&request("GET", "/items", "", &[]), &default_stage())
            .unwrap()
            .stage,
        "$default"
    );
}

/// Unconfirmed: each reported behaviour of a custom domain's API mapping, as the emulator offers it.
#[test]
fn each_reported_custom_domain_behaviour() {
    for (mode, expected) in [
        (MappingPath::KeepsMappingKey, "/v1/orders"),
        (MappingPath::StripsMappingKey, "/orders"),
        (MappingPath::ShowsStage, "/prod/orders"),
    ] {
        let config = GatewayConfig {
            stage: Some("prod".into()),
            custom_domains: vec![CustomDomain {
                domain: "api.example.com".into(),
                mapping_key: "v1".into(),
                raw_path: mode,
            }],
            upstream: None,
        };
        let routed = route(
            &request("GET", "/v1/orders", "", &[("host", "api.example.com")]),
            &config,
        )
        .unwrap();
        assert_eq!(routed.raw_path, expected, "{mode:?}");
        assert_eq!(routed.domain, "api.example.com");
        let unmapped = route(
            &request("GET", "/v2/orders", "", &[("host", "api.example.com")]),
            &config,
        );
        assert_eq!(unmapped, Err(StatusCode::NOT_FOUND));
    }
}
