//! The second edge: the CloudFront Functions signer (the real build of
//! `edge-signer/cloudfront-function/`, run under njs by the CloudFront emulator) in front of the
//! gateway emulator and the real authorizer binary. Round trips, refusals, a rotation under
//! traffic with a slowly propagating KeyValueStore, and a differential fuzz against the Rust
//! core. Needs njs (`apt-get install njs`), the binaries and the wasm built (tests/run-all.sh).

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use originsig_core::{sign, ApiKind, KeyRing, RequestTarget, UnixSeconds};
use originsig_tests::chain::{ChainEdge, ChainKeys, ChainOptions, LocalChain};
use originsig_tests::edge::{FunctionConfig, FunctionEngine, InMemoryKeyValueStore, ViewerFunction};
use originsig_tests::repo;
use serde_json::{json, Value};

const DOMAIN: &str = "abc123defg.execute-api.localhost";
const KVS_KEY: &str = FunctionConfig::DEFAULT_KVS_KEY;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

fn keyring_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo::test_keyring()).unwrap()).unwrap()
}

/// The secret value (SPEC.md §7) of a role of the test key ring: what the store holds.
fn item(role: &str) -> String {
    keyring_json()[role].to_string()
}

fn out_dir(name: &str) -> PathBuf {
    repo::root().join("target/cloudfront-function-tests").join(name)
}

async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = http().get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The chain with a CloudFront Function edge: its gateway and authorizer, the function (one
/// edge location) reading an in-memory store that holds the current key.
async fn function_chain(
    name: &str,
    keys: ChainKeys,
    authorizer_env: Vec<(String, String)>,
) -> (
    LocalChain,
    Arc<ViewerFunction>,
    Arc<InMemoryKeyValueStore>,
    String,
) {
    let kvs = Arc::new(InMemoryKeyValueStore::default());
    kvs.put(KVS_KEY, &item("current"));
    let mut options = ChainOptions::new(name, keys);
    options.authorizer_env = authorizer_env;
    options.origin_domain = DOMAIN.to_owned();
    options.edge = ChainEdge::CloudFrontFunction {
        store: kvs.clone(),
        engine: FunctionEngine::Njs,
    };
    let chain = LocalChain::start(options).await.unwrap();
    let function = Arc::clone(&chain.functions.lock().unwrap()[0]);
    let edge = chain.edge_url.clone();
    (chain, function, kvs, edge)
}

fn decisions(chain: &LocalChain) -> Vec<Value> {
    chain
        .authorizer_logs()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "authorization decision")
        .collect()
}

#[tokio::test]
async fn requests_signed_by_the_function_pass_the_real_authorizer() {
    let (chain, function, kvs, edge) = function_chain(
        "cff-round-trip",
        ChainKeys::File(repo::test_keyring()),
        Vec::new(),
    )
    .await;
    // Encodings the HTTP API decodes twice, repeated and unordered query keys, a viewer's own
    // signature header (dropped), a viewer Authorization header (kept for the backend).
    for path in [
        "/hello",
        "/a%20b?x=2&x=1&flag",
        "/caf%C3%A9/%E2%9C%93",
        "/a%252Fb?q=a+b&q=%20c",
        "/100%2525",
        "/a/../b//c/?%3D=%26",
    ] {
        let (status, _, body) = get(
            &format!("{edge}{path}"),
            &[
                ("X-Originsig", "v1;t=1;k=key-current;s=forged"),
                ("Authorization", "Bearer t"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["authorizer"]["keyId"], "key-current", "{path}");
        assert_eq!(body["authorization"], "Bearer t");
        assert!(body["signature"].as_str().unwrap().starts_with("v2;"), "{path}");
    }
    assert!(
        decisions(&chain).iter().all(|d| d["decision"] == "allow"),
        "{:?}",
        decisions(&chain)
    );

    // What the API would cut or reject is answered at the edge: 400, nothing reaches the API.
    let before = decisions(&chain).len();
    for path in ["/a%3Fb", "/100%25", "/a%zz"] {
        let (status, _, _) = get(&format!("{edge}{path}"), &[]).await;
        assert_eq!(status, 400, "{path}");
    }
    // No key in this edge location's store: 503 with Retry-After (infra/timing.json), never an
    // unsigned request.
    kvs.delete(KVS_KEY);
    let (status, headers, _) = get(&format!("{edge}/hello"), &[]).await;
    assert_eq!(status, 503);
    let timing: Value =
        serde_json::from_str(&std::fs::read_to_string(repo::root().join("infra/timing.json")).unwrap())
            .unwrap();
    assert_eq!(
        headers["retry-after"],
        timing["edgeRetryAfterSecs"].to_string().as_str()
    );
    assert_eq!(
        decisions(&chain).len(),
        before,
        "a refused request reached the authorizer"
    );

    let logs = function.logs.lock().unwrap().join("\n");
    for secret in repo::key_material_strings() {
        assert!(!logs.contains(&secret), "key material in the function's logs");
    }
    chain.stop().await;
}

/// Writes a key-ring file atomically (the authorizer may read it at any moment).
fn write_ring(path: &std::path::Path, members: &[(&str, &str)]) {
    let ring = keyring_json();
    let mut doc = json!({"format": "originsig-keyring-v1"});
    for (member, role) in members {
        doc[*member] = ring[*role].clone();
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, doc.to_string()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test]
async fn a_rotation_under_traffic_with_a_slowly_propagating_store_has_no_false_denial() {
    // The key ring stands in for the secret (the source of truth); the in-memory store is the
    // edge location's KeyValueStore copy, updated well after the promotion (propagation has no
    // documented bound). The authorizer keeps the previous key, so nothing is denied.
    let ring = out_dir("cff-rotation").join("ring.json");
    std::fs::create_dir_all(ring.parent().unwrap()).unwrap();
    write_ring(&ring, &[("current", "current")]);
    let env = [
        ("ORIGINSIG_CACHE_TTL_SECS", "1"),
        ("ORIGINSIG_REFRESH_RETRY_SECS", "1"),
        ("ORIGINSIG_UNKNOWN_KEY_REFRESH_SECS", "1"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    let (chain, _function, kvs, edge) =
        function_chain("cff-rotation", ChainKeys::File(ring.clone()), env).await;
    let traffic = tokio::spawn({
        let edge = edge.clone();
        async move {
            let mut seen = Vec::new();
            let stop_at = Instant::now() + Duration::from_secs(9);
            while Instant::now() < stop_at && seen.len() < 1000 {
                let (status, _, body) = get(&format!("{edge}/hello?n={}", seen.len()), &[]).await;
                seen.push((
                    status,
                    body["authorizer"]["keyId"].as_str().unwrap_or("").to_owned(),
                ));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen
        }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // 1. The new key becomes known to every verifier (AWSPENDING) before anything signs with it.
    write_ring(&ring, &[("current", "current"), ("pending", "pending")]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    // 2. Promotion: the secret says the new key; the store still holds the old one here.
    write_ring(&ring, &[("current", "pending"), ("previous", "current")]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    // 3. The store's update reaches this edge location.
    kvs.put(KVS_KEY, &item("pending"));
    let seen = traffic.await.unwrap();
    let failures: Vec<_> = seen.iter().filter(|(status, _)| *status != 200).collect();
    assert!(
        failures.is_empty(),
        "{} of {} failed, first: {:?}",
        failures.len(),
        seen.len(),
        failures.iter().take(5).collect::<Vec<_>>()
    );
    let ids: Vec<&str> = seen.iter().map(|(_, id)| id.as_str()).collect();
    assert!(
        ids.contains(&"key-current") && ids.contains(&"key-pending"),
        "{ids:?}"
    );
    assert!(seen.len() >= 50, "only {} requests", seen.len());
    chain.stop().await;
}

/// A small deterministic generator (xorshift64*): the same seed gives the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn join(&mut self, items: &[&str], max: u64) -> String {
        (0..self.next() % max).map(|_| self.pick(items)).collect()
    }
}

/// Runs `cases` through the built function under `engine` in one process (runtime/run.mjs).
fn run_function(engine: FunctionEngine, function_file: &std::path::Path, cases: &[Value]) -> Vec<Value> {
    let case_file = function_file.with_extension(format!("{}.cases.json", engine.name()));
    std::fs::write(&case_file, Value::Array(cases.to_vec()).to_string()).unwrap();
    let out = std::process::Command::new("node")
        .arg(repo::root().join("edge-signer/cloudfront-function/runtime/run.mjs"))
        .args(["run", engine.name()])
        .arg(function_file)
        .arg(&case_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn differential_fuzz_the_function_signs_and_refuses_exactly_as_the_rust_core() {
    let seed = std::env::var("ORIGINSIG_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0DD5_EED5_u64);
    let mut rng = Rng(seed | 1);
    let ring = KeyRing::from_keyring_json(&std::fs::read_to_string(repo::test_keyring()).unwrap()).unwrap();
    let key = ring.signing_key();
    let path_parts = [
        "/",
        "a",
        "%20",
        "%2F",
        "%2f",
        "%252F",
        "%25",
        "%2525",
        "%3F",
        "%253F",
        "%C3%A9",
        "%c3%a9",
        "%E2%9C%93",
        "+",
        "%2B",
        "~",
        "%7E",
        ".",
        "..",
        "%zz",
        "%C3",
        "%",
        "é",
        "%ED%A0%80",
        "%C0%AF",
        "%23",
        "%2",
        "?",
        "%00",
        ";",
    ];
    let query_parts = [
        "a", "=", "&", "b", "%20", "+", "%3D", "%26", "%zz", "é", "%FF", "x=1", "x=2", "%2B", "&&", "~",
        "%7e", "%",
    ];
    let methods = [
        "GET", "POST", "DELETE", "PATCH", "OPTIONS", "get", "", "GETX", "G-T",
    ];
    let (mut signed, mut refused) = (0, 0);
    for (prefix, api, api_name) in [
        ("", ApiKind::HttpApi, "http_api"),
        ("/prod", ApiKind::HttpApi, "http_api"),
        ("/prod", ApiKind::RestApi, "rest_api"),
    ] {
        let mut config = FunctionConfig::new(DOMAIN, prefix);
        config.api_kind = api_name.to_owned();
        let dir = out_dir(&format!("cff-fuzz-{api_name}{}", prefix.replace('/', "-")));
        let kvs = Arc::new(InMemoryKeyValueStore::default());
        let built = ViewerFunction::build(&dir, &config, FunctionEngine::Node, kvs).unwrap();
        drop(built);
        let mut cases = Vec::new();
        let mut expected = Vec::new();
        for _ in 0..200 {
            let method = rng.pick(&methods).to_owned();
            let mut uri = rng.join(&path_parts, 8);
            if rng.next() % 8 != 0 {
                uri.insert(0, '/');
            }
            let query = rng.join(&query_parts, 8);
            let at = 1_763_715_900 + rng.next() % 100_000;
            let outcome = RequestTarget::from_edge(&method, DOMAIN, prefix, &uri, &query, api)
                .map(|target| sign(&target, key, UnixSeconds::new(at)).render())
                .map_err(|malformed| malformed.code());
            cases.push(json!({
                "method": method, "uri": uri, "rawQuery": query, "headers": {},
                "nowMs": at * 1000 + 500, "kvs": {KVS_KEY: item("current")},
            }));
            expected.push(outcome);
        }
        for engine in [FunctionEngine::Njs, FunctionEngine::Node] {
            let results = run_function(engine, &dir.join("function.js"), &cases);
            for ((case, outcome), result) in cases.iter().zip(&expected).zip(&results) {
                let what = format!("{} seed {seed:#x}: {case}", engine.name());
                match outcome {
                    Ok(header) => {
                        assert_eq!(
                            result["result"]["headers"]["x-originsig"]["value"],
                            header.as_str(),
                            "{what}"
                        );
                        signed += 1;
                    }
                    Err(code) => {
                        refused += 1;
                        assert_eq!(result["result"]["statusCode"], 400, "{what}");
                        let log: Value = serde_json::from_str(result["logs"][0].as_str().unwrap()).unwrap();
                        assert_eq!(log["detail"], *code, "{what}");
                    }
                }
            }
        }
    }
    // Both outcomes are exercised, not just one.
    assert_eq!(signed + refused, 1200);
    assert!(
        signed >= 200 && refused >= 200,
        "{signed} signed, {refused} refused"
    );
}
