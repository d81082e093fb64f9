//! The KeyValueStore emulator (`originsig_tests::kvs`) against the service model botocore ships
//! (`.venv`, `botocore/data/cloudfront-keyvaluestore/<version>/service-2.json.gz`, read through
//! botocore's own loader): every model
//! operation is routed with the model's method and URI; every request member the emulator reads
//! is in the model where the emulator reads it; every answer — success and error — is sent over
//! HTTP and compared: body members and header members as the model's output shape places them,
//! required ones present, and each error code with the model's status and in the operation's
//! error list.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use originsig_tests::kvs::{ErrorCode, InjectedError, KvsClock, KvsEmulator, READS, ROUTES};
use serde_json::{json, Value};

/// The model as botocore in the test venv loads it (the test command creates the venv; moto
/// depends on botocore, which ships its models gzipped).
fn model() -> Value {
    let python = originsig_tests::repo::root().join(".venv/bin/python");
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import json, botocore.loaders as l; \
             print(json.dumps(l.Loader().load_service_model('cloudfront-keyvaluestore', 'service-2')))",
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run tests/run-all.sh once to create the venv)",
                python.display()
            )
        });
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn shape<'a>(model: &'a Value, name: &str) -> &'a Value {
    let shape = &model["shapes"][name];
    assert!(shape.is_object(), "no shape {name} in the model");
    shape
}

#[test]
fn every_operation_is_routed_as_the_model_says() {
    let model = model();
    let operations = model["operations"].as_object().unwrap();
    let routed: BTreeSet<&str> = ROUTES.iter().map(|(op, _, _)| *op).collect();
    let modelled: BTreeSet<&str> = operations.keys().map(String::as_str).collect();
    assert_eq!(
        routed, modelled,
        "the emulator routes exactly the model's operations"
    );
    for (operation, method, uri) in ROUTES {
        let http = &operations[*operation]["http"];
        assert_eq!(http["method"], *method, "{operation}");
        assert_eq!(http["requestUri"], *uri, "{operation}");
        assert_eq!(http["responseCode"], 200, "{operation}");
    }
}

#[test]
fn every_member_the_emulator_reads_is_where_the_model_puts_it() {
    let model = model();
    for (operation, member, location) in READS {
        let input = model["operations"][*operation]["input"]["shape"]
            .as_str()
            .unwrap();
        let spec = &shape(&model, input)["members"][*member];
        assert!(spec.is_object(), "{operation}: no input member {member}");
        let modelled = spec["location"].as_str().unwrap_or("body");
        assert_eq!(modelled, *location, "{operation}.{member}");
    }
    // The items of UpdateKeys' lists.
    for (list, members) in [
        ("PutKeyRequestListItem", ["Key", "Value"].as_slice()),
        ("DeleteKeyRequestListItem", &["Key"]),
    ] {
        for member in members {
            assert!(
                shape(&model, list)["members"][*member].is_object(),
                "{list}.{member}"
            );
        }
    }
    assert_eq!(
        shape(&model, "PutKeyRequest")["members"]["IfMatch"]["locationName"],
        "If-Match"
    );
}

struct Answer {
    status: u16,
    headers: hyper::HeaderMap,
    body: Value,
}

async fn call(
    emulator: &KvsEmulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{}{path}", emulator.port));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
    let response = originsig_tests::http::client()
        .request(request.body(Full::new(body)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// A success answer has the output shape's members where the model puts them.
fn check_output(model: &Value, operation: &str, answer: &Answer) {
    assert_eq!(answer.status, 200, "{operation}: {}", answer.body);
    let output = model["operations"][operation]["output"]["shape"]
        .as_str()
        .unwrap();
    let output = shape(model, output);
    let members = output["members"].as_object().unwrap();
    let required: BTreeSet<&str> = output["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for name in answer.body.as_object().unwrap().keys() {
        let spec = &members
            .get(name)
            .unwrap_or_else(|| panic!("{operation}: {name} is not in the model"));
        assert!(
            spec.get("location").is_none(),
            "{operation}: {name} belongs in a header"
        );
    }
    for (name, spec) in members {
        let present = match spec["location"].as_str() {
            Some("header") => answer
                .headers
                .contains_key(spec["locationName"].as_str().unwrap()),
            _ => answer.body.get(name).is_some(),
        };
        if required.contains(name.as_str()) {
            assert!(present, "{operation}: required {name} missing");
        }
    }
}

/// An error answer is a modelled error of the operation, with the model's status.
fn check_error(model: &Value, operation: &str, answer: &Answer, expected: ErrorCode) {
    let code = answer.headers["x-amzn-errortype"].to_str().unwrap();
    assert_eq!(code, expected.name());
    let errors: Vec<&str> = model["operations"][operation]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["shape"].as_str())
        .collect();
    assert!(errors.contains(&code), "{operation} does not list {code}");
    assert_eq!(
        u64::from(answer.status),
        shape(model, code)["error"]["httpStatusCode"].as_u64().unwrap(),
        "{code}"
    );
    assert!(answer.body["Message"].is_string());
}

#[test]
fn every_error_code_has_the_models_status() {
    let model = model();
    for code in ErrorCode::ALL {
        let spec = shape(&model, code.name());
        assert_eq!(spec["exception"], true);
        assert_eq!(
            spec["error"]["httpStatusCode"].as_u64(),
            Some(u64::from(code.status())),
            "{}",
            code.name()
        );
    }
}

#[tokio::test]
async fn every_answer_has_the_models_shape() {
    let model = model();
    let emulator = KvsEmulator::start(KvsClock::real()).await.unwrap();
    let arn = emulator.create_store("model");
    let base = format!(
        "/key-value-stores/{}",
        arn.replace(':', "%3A").replace('/', "%2F")
    );
    let keys = format!("{base}/keys");

    let described = call(&emulator, "GET", &base, &[], None).await;
    check_output(&model, "DescribeKeyValueStore", &described);
    let etag = described.headers["etag"].to_str().unwrap().to_owned();

    let put = call(
        &emulator,
        "PUT",
        &format!("{keys}/a"),
        &[("if-match", &etag)],
        Some(json!({"Value": "1"})),
    )
    .await;
    check_output(&model, "PutKey", &put);
    let etag2 = put.headers["etag"].to_str().unwrap().to_owned();
    assert_ne!(etag, etag2, "a write changes the ETag");

    let stale = call(
        &emulator,
        "PUT",
        &format!("{keys}/a"),
        &[("if-match", &etag)],
        Some(json!({"Value": "2"})),
    )
    .await;
    check_error(&model, "PutKey", &stale, ErrorCode::Conflict);
    let too_big = "x".repeat(originsig_tests::kvs::MAX_VALUE_BYTES + 1);
    let big = call(
        &emulator,
        "PUT",
        &format!("{keys}/a"),
        &[("if-match", &etag2)],
        Some(json!({"Value": too_big})),
    )
    .await;
    check_error(&model, "PutKey", &big, ErrorCode::Validation);

    let got = call(&emulator, "GET", &format!("{keys}/a"), &[], None).await;
    check_output(&model, "GetKey", &got);
    assert_eq!(got.body["Value"], "1");
    let missing = call(&emulator, "GET", &format!("{keys}/nope"), &[], None).await;
    check_error(&model, "GetKey", &missing, ErrorCode::ResourceNotFound);

    let updated = call(
        &emulator,
        "POST",
        &keys,
        &[("if-match", &etag2)],
        Some(json!({"Puts": [{"Key": "b", "Value": "2"}, {"Key": "c", "Value": "3"}], "Deletes": [{"Key": "a"}]})),
    )
    .await;
    check_output(&model, "UpdateKeys", &updated);
    let stale = call(
        &emulator,
        "POST",
        &keys,
        &[("if-match", &etag2)],
        Some(json!({"Puts": []})),
    )
    .await;
    check_error(&model, "UpdateKeys", &stale, ErrorCode::Conflict);
    let etag3 = updated.headers["etag"].to_str().unwrap().to_owned();

    let page = call(&emulator, "GET", &format!("{keys}?MaxResults=1"), &[], None).await;
    check_output(&model, "ListKeys", &page);
    assert_eq!(page.body["Items"], json!([{"Key": "b", "Value": "2"}]));
    let token = page.body["NextToken"].as_str().unwrap();
    let rest = call(
        &emulator,
        "GET",
        &format!("{keys}?MaxResults=1&NextToken={token}"),
        &[],
        None,
    )
    .await;
    check_output(&model, "ListKeys", &rest);
    assert_eq!(rest.body["Items"], json!([{"Key": "c", "Value": "3"}]));
    assert!(rest.body.get("NextToken").is_none());
    let too_many = call(&emulator, "GET", &format!("{keys}?MaxResults=51"), &[], None).await;
    check_error(&model, "ListKeys", &too_many, ErrorCode::Validation);

    let deleted = call(
        &emulator,
        "DELETE",
        &format!("{keys}/b"),
        &[("if-match", &etag3)],
        None,
    )
    .await;
    check_output(&model, "DeleteKey", &deleted);
    let etag4 = deleted.headers["etag"].to_str().unwrap().to_owned();
    let gone = call(
        &emulator,
        "DELETE",
        &format!("{keys}/b"),
        &[("if-match", &etag4)],
        None,
    )
    .await;
    check_error(&model, "DeleteKey", &gone, ErrorCode::ResourceNotFound);

    emulator.fail_next_writes(1, InjectedError::AccessDenied);
    let denied = call(
        &emulator,
        "PUT",
        &format!("{keys}/d"),
        &[("if-match", &etag4)],
        Some(json!({"Value": "4"})),
    )
    .await;
    check_error(&model, "PutKey", &denied, ErrorCode::AccessDenied);
    emulator.fail_next_writes(1, InjectedError::InternalServer);
    let failed = call(
        &emulator,
        "PUT",
        &format!("{keys}/d"),
        &[("if-match", &etag4)],
        Some(json!({"Value": "4"})),
    )
    .await;
    check_error(&model, "PutKey", &failed, ErrorCode::InternalServer);

    let other = format!(
        "/key-value-stores/{}",
        originsig_tests::kvs::store_arn("other")
            .replace(':', "%3A")
            .replace('/', "%2F")
    );
    let unknown = call(&emulator, "GET", &other, &[], None).await;
    check_error(
        &model,
        "DescribeKeyValueStore",
        &unknown,
        ErrorCode::ResourceNotFound,
    );
}
