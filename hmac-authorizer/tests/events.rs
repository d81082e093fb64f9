//! The lean HTTP API v2 reader (fields borrowed from the event text, the rest skipped) against a
//! plain reading of the same event as a `serde_json::Value`: same facts for any field contents,
//! including quotes, backslashes, control characters and non-ASCII text that JSON escapes.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use originsig_core::{Malformed, RequestTarget};
use originsig_hmac_authorizer::events::{from_http_api_v2, RequestFacts};
use originsig_tests::repo;
use proptest::prelude::*;
use serde_json::{json, Value};

fn example() -> Value {
    let path = repo::root().join("hmac-authorizer/testdata/events/http-api-v2.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The reference: every field looked up in the parsed value.
fn expected(event: &Value) -> (Result<RequestTarget, Malformed>, Vec<String>, Option<String>) {
    let text = |pointer: &str| event.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    let target = RequestTarget::from_gateway(
        text("/requestContext/http/method"),
        text("/requestContext/domainName"),
        text("/rawPath"),
        text("/rawQueryString"),
    );
    let values = event["headers"]
        .get("x-originsig")
        .and_then(Value::as_str)
        .map(|v| vec![v.to_owned()])
        .unwrap_or_default();
    let cf_id = event["headers"]
        .get("x-amz-cf-id")
        .and_then(Value::as_str)
        .filter(|id| (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned);
    (target, values, cf_id)
}

fn check_against_reference(event: &Value) {
    let text = event.to_string();
    let facts = from_http_api_v2(&text).unwrap();
    let (target, values, cf_id) = expected(event);
    assert_eq!(facts.target, target);
    assert_eq!(facts.signature_values().collect::<Vec<_>>(), values);
    assert_eq!(facts.cf_request_id.as_deref(), cf_id.as_deref());
    assert_eq!(facts.path, event["rawPath"].as_str().unwrap_or(""));
    assert_eq!(
        facts.method,
        event["requestContext"]["http"]["method"].as_str().unwrap_or("")
    );
    assert_eq!(facts.resource_arn, event["routeArn"].as_str().unwrap_or(""));
    assert_eq!(
        facts.request_id.as_deref(),
        event["requestContext"]["requestId"].as_str()
    );
    assert_eq!(facts.stage.as_deref(), event["requestContext"]["stage"].as_str());
}

#[test]
fn the_example_event_reads_like_aws_lambda_events_reads_it() {
    let event = example();
    check_against_reference(&event);
    // And the typed request of aws_lambda_events names the same fields with the same values.
    let typed: ApiGatewayV2CustomAuthorizerV2Request = serde_json::from_value(event.clone()).unwrap();
    let text = event.to_string();
    let facts = from_http_api_v2(&text).unwrap();
    assert_eq!(Some(facts.path.as_ref()), typed.raw_path.as_deref());
    assert_eq!(Some(facts.resource_arn.as_ref()), typed.route_arn.as_deref());
    assert_eq!(facts.method, typed.request_context.http.method.as_str());
    assert_eq!(
        facts.signature_values().collect::<Vec<_>>(),
        vec![typed.headers["x-originsig"].to_str().unwrap()]
    );
    assert_eq!(
        facts.cf_request_id.as_deref(),
        typed.headers["x-amz-cf-id"].to_str().ok()
    );
}

#[test]
fn unescaped_fields_are_borrowed_from_the_event_text() {
    let text = example().to_string();
    let facts = from_http_api_v2(&text).unwrap();
    assert!(matches!(facts.method, std::borrow::Cow::Borrowed(_)));
    assert!(matches!(facts.resource_arn, std::borrow::Cow::Borrowed(_)));
}

#[test]
fn header_names_match_in_any_case_and_repeats_are_all_kept() {
    let mut event = example();
    let headers = event["headers"].as_object_mut().unwrap();
    headers.remove("x-originsig");
    headers.insert("X-OriginSig".into(), json!("v1;a"));
    let text = event.to_string().replace(
        r#""X-OriginSig":"v1;a""#,
        r#""X-OriginSig":"v1;a","x-originsig":"v1;b""#,
    );
    let facts = from_http_api_v2(&text).unwrap();
    assert_eq!(facts.signature_values().collect::<Vec<_>>(), ["v1;a", "v1;b"]);
}

#[test]
fn odd_json_types_in_a_v2_event_are_unreadable_not_errors() {
    for (pointer, value) in [
        ("/headers/x-originsig", json!(7)),
        ("/headers", json!(["x"])),
        ("/rawPath", json!({"a": 1})),
        ("/requestContext/http", json!("GET")),
        ("/requestContext", json!(null)),
    ] {
        let mut event = example();
        *event.pointer_mut(pointer).unwrap() = value;
        let text = event.to_string();
        let facts: RequestFacts<'_> = from_http_api_v2(&text).unwrap();
        assert!(facts.target.is_err() || facts.header_values.is_err(), "{pointer}");
    }
    // A repeated top-level field is refused rather than resolved one way or the other.
    let text = example()
        .to_string()
        .replacen(r#""rawPath":"#, r#""rawPath":"/x","rawPath":"#, 1);
    assert_eq!(
        from_http_api_v2(&text).unwrap().header_values,
        Err(Malformed::EventUnreadable)
    );
    // A lone surrogate (JSON can write it, UTF-8 cannot hold it) is a v2 event that cannot be
    // read: a deny with that reason, not the wrong event type.
    let text = example()
        .to_string()
        .replacen(r#""rawPath":"/"#, r#""rawPath":"/\ud800"#, 1);
    assert!(text.contains("ud800"));
    let facts = from_http_api_v2(&text).unwrap();
    assert_eq!(facts.target, Err(Malformed::EventUnreadable));
}

#[test]
fn cloudfront_ids_that_do_not_look_like_one_are_dropped() {
    for (id, kept) in [
        ("4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==", true),
        ("", false),
        ("has space", false),
        ("line\nbreak", false),
        (&"x".repeat(129), false),
    ] {
        let mut event = example();
        event["headers"]["x-amz-cf-id"] = json!(id);
        let text = event.to_string();
        assert_eq!(
            from_http_api_v2(&text).unwrap().cf_request_id.is_some(),
            kept,
            "{id:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_field_contents_read_as_the_value_reads_them(
        method in prop_oneof![Just("GET".to_owned()), any::<String>()],
        domain in prop_oneof![Just("api.example.com".to_owned()), any::<String>()],
        path in any::<String>(),
        query in any::<String>(),
        signature in any::<String>(),
        cf_id in any::<String>(),
        request_id in any::<String>(),
        stage in any::<String>(),
    ) {
        let mut event = example();
        event["requestContext"]["stage"] = json!(stage);
        event["requestContext"]["http"]["method"] = json!(method);
        event["requestContext"]["domainName"] = json!(domain);
        event["requestContext"]["requestId"] = json!(request_id);
        event["rawPath"] = json!(path);
        event["rawQueryString"] = json!(query);
        event["headers"]["x-originsig"] = json!(signature);
        event["headers"]["x-amz-cf-id"] = json!(cf_id);
        check_against_reference(&event);
    }
}

/// Any JSON value (small, nested).
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        Just(json!("2.0")),
        Just(json!("REQUEST")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z-]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Where the random values go: the fields the reader reads, their containers, and fields it skips.
const PLACES: [&str; 13] = [
    "/version",
    "/type",
    "/rawPath",
    "/rawQueryString",
    "/routeArn",
    "/headers",
    "/headers/x-originsig",
    "/headers/accept",
    "/requestContext",
    "/requestContext/http",
    "/requestContext/http/method",
    "/requestContext/stage",
    "/cookies",
];

/// Whether every read field has a type the lean reader takes: containers absent, null or an
/// object; leaves absent, null or a string (header values: absent or a string).
fn readable(event: &Value) -> bool {
    let container = |p: &str| matches!(event.pointer(p), None | Some(Value::Null | Value::Object(_)));
    let leaf = |p: &str| matches!(event.pointer(p), None | Some(Value::Null | Value::String(_)));
    let header = |name: &str| {
        matches!(
            event.get("headers").and_then(|h| h.get(name)),
            None | Some(Value::String(_))
        )
    };
    container("")
        && ["/headers", "/requestContext", "/requestContext/http"]
            .iter()
            .all(|p| container(p))
        && [
            "/version",
            "/type",
            "/rawPath",
            "/rawQueryString",
            "/routeArn",
            "/requestContext/domainName",
            "/requestContext/requestId",
            "/requestContext/stage",
            "/requestContext/http/method",
        ]
        .iter()
        .all(|p| leaf(p))
        && header("x-originsig")
        && header("x-amz-cf-id")
}

/// Sets `pointer` in `event` to `value`, creating nothing: a parent that is not an object is
/// left as it is.
fn place(event: &mut Value, pointer: &str, value: Value) {
    let (parent, field) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() {
        Some(&mut *event)
    } else {
        event.pointer_mut(parent)
    };
    if let Some(Value::Object(parent)) = parent {
        parent.insert(field.to_owned(), value);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Any JSON in any read field, any container or a skipped field: a v2 REQUEST event is read
    /// (as the reference reads it when every read field has a usable type, as a deny otherwise);
    /// anything else is the wrong event type. Never a panic.
    #[test]
    fn any_json_in_any_field_is_read_denied_or_refused(
        edits in prop::collection::vec((prop::sample::select(PLACES.as_slice()), arb_json()), 1..4)
    ) {
        let mut event = example();
        event["headers"]["x-originsig"] = json!("v1;t=1;k=a;s=b");
        for (pointer, value) in edits {
            place(&mut event, pointer, value);
        }
        let text = event.to_string();
        let is_v2 = event.get("version") == Some(&json!("2.0")) && event.get("type") == Some(&json!("REQUEST"));
        match from_http_api_v2(&text) {
            Err(_) => prop_assert!(!is_v2, "a v2 REQUEST event was refused: {text}"),
            Ok(facts) => {
                prop_assert!(is_v2, "not a v2 REQUEST event, yet read: {text}");
                if readable(&event) {
                    let (target, values, cf_id) = expected(&event);
                    prop_assert_eq!(&facts.target, &target);
                    prop_assert_eq!(facts.signature_values().collect::<Vec<_>>(), values);
                    prop_assert_eq!(facts.cf_request_id.as_deref(), cf_id.as_deref());
                    prop_assert_eq!(facts.stage.as_deref(), event.pointer("/requestContext/stage").and_then(Value::as_str));
                } else {
                    prop_assert!(facts.target.is_err() || facts.header_values.is_err(), "{text}");
                }
            }
        }
    }
}

/// REST events: a query value of another JSON type than the documented ones is an unreadable
/// event, not a percent-encoding problem (nothing was encoded wrongly).
#[test]
fn rest_query_values_of_another_type_are_unreadable_events() {
    use originsig_hmac_authorizer::events::from_rest_request;
    let path = repo::root().join("hmac-authorizer/testdata/events/rest-request.json");
    let example: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = [
        ("multiValueQueryStringParameters", json!({"q": "a b"})),
        ("multiValueQueryStringParameters", json!({"q": [1]})),
        ("multiValueQueryStringParameters", json!({"q": [null]})),
    ];
    for (field, value) in cases {
        let mut event = example.clone();
        event[field] = value.clone();
        let text = event.to_string();
        let facts = from_rest_request(&text).unwrap();
        assert_eq!(facts.target, Err(Malformed::EventUnreadable), "{field}: {value}");
    }
    let mut event = example.clone();
    event["multiValueQueryStringParameters"] = json!({});
    event["queryStringParameters"] = json!({"q": 7});
    let text = event.to_string();
    assert_eq!(
        from_rest_request(&text).unwrap().target,
        Err(Malformed::EventUnreadable)
    );
}
