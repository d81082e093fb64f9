//! End-to-end over the local chain (the real edge bundle under Node, the real authorizer binary,
//! keys from a file or a real moto server). Every loop is bounded in count and time; everything
//! listens on 127.0.0.1. Needs the binaries and the wasm built (tests/run-all.sh does that).

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use originsig_core::{sign, KeyRing, RequestTarget, UnixSeconds};
use originsig_tests::chain::{binary, ChainKeys, ChainOptions, LocalChain};
use originsig_tests::gateway::{CustomDomain, MappingPath};
use originsig_tests::moto::MotoServer;
use originsig_tests::repo;
use serde_json::Value;

const DOMAIN: &str = "abc123defg.execute-api.localhost";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn keyfile_chain(name: &str) -> ChainOptions {
    ChainOptions::new(name, ChainKeys::File(repo::test_keyring()))
}

fn test_ring() -> KeyRing {
    KeyRing::from_keyring_json(&std::fs::read_to_string(repo::test_keyring()).unwrap()).unwrap()
}

async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = http().get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn reasons(chain: &LocalChain) -> Vec<String> {
    chain
        .authorizer_logs()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "authorization decision")
        .map(|l| l["reason"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn through_the_edge_allowed_direct_refused() {
    let chain = LocalChain::start(keyfile_chain("e2e-basic")).await.unwrap();
    let (status, body) = get(
        &format!("{}/hello?x=1", chain.edge_url),
        &[("Authorization", "Bearer viewer-token")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["authorization"], "Bearer viewer-token",
        "the viewer's Authorization reaches the backend"
    );
    assert_eq!(body["path"], "/prod/hello");
    assert_eq!(body["authorizer"]["keyId"], "key-current");

    // Direct, no header: API Gateway's own 401, nothing invoked.
    let (status, body) = get(&format!("{}/prod/hello", chain.gateway_url), &[]).await;
    assert_eq!(
        (status, body),
        (401, serde_json::json!({"message": "Unauthorized"}))
    );
    // Forged: 403.
    let forged = "v1;t=1763715900;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let (status, body) = get(
        &format!("{}/prod/hello", chain.gateway_url),
        &[("x-originsig", forged), ("Host", DOMAIN)],
    )
    .await;
    assert_eq!((status, body), (403, serde_json::json!({"message": "Forbidden"})));

    // A viewer-supplied signature header is replaced at the edge, not trusted.
    let (status, body) = get(
        &format!("{}/hello", chain.edge_url),
        &[("x-originsig", forged), ("X-OriginSig", "v9")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(body["signature"], forged);

    // The captured header works for the very same request (the replay window, SPEC.md §10)...
    let (_, captured) = get(&format!("{}/items?id=1", chain.edge_url), &[]).await;
    let header = captured["signature"].as_str().unwrap().to_owned();
    let direct = |path: &str| format!("{}{path}", chain.gateway_url);
    assert_eq!(
        get(
            &direct("/prod/items?id=1"),
            &[("x-originsig", &header), ("Host", DOMAIN)]
        )
        .await
        .0,
        200
    );
    // ...and for nothing else: another method, path, query or host.
    let post = http()
        .post(direct("/prod/items?id=1"))
        .header("x-originsig", &header)
        .header("Host", DOMAIN)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status().as_u16(), 403);
    assert_eq!(
        get(
            &direct("/prod/items?id=2"),
            &[("x-originsig", &header), ("Host", DOMAIN)]
        )
        .await
        .0,
        403
    );
    assert_eq!(
        get(
            &direct("/prod/other?id=1"),
            &[("x-originsig", &header), ("Host", DOMAIN)]
        )
        .await
        .0,
        403
    );
    assert_eq!(
        get(
            &direct("/prod/items?id=1"),
            &[("x-originsig", &header), ("Host", "other.localhost")]
        )
        .await
        .0,
        403
    );
    let seen = reasons(&chain);
    assert_eq!(
        seen.iter().filter(|r| *r == "bad_signature").count(),
        5,
        "{seen:?}"
    );
    chain.stop().await;
}

#[tokio::test]
async fn a_captured_request_replayed_after_the_window_is_refused() {
    let mut options = keyfile_chain("e2e-replay");
    options
        .authorizer_env
        .push(("ORIGINSIG_MAX_AGE_SECS".into(), "2".into()));
    let chain = LocalChain::start(options).await.unwrap();
    let (status, captured) = get(&format!("{}/orders", chain.edge_url), &[]).await;
    assert_eq!(status, 200);
    let header = captured["signature"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let (status, _) = get(
        &format!("{}/prod/orders", chain.gateway_url),
        &[("x-originsig", &header), ("Host", DOMAIN)],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(reasons(&chain).last().map(String::as_str), Some("expired"));
    chain.stop().await;
}

#[tokio::test]
async fn stages_encodings_and_queries_pass_through_the_edge() {
    let chain = LocalChain::start(keyfile_chain("e2e-paths")).await.unwrap();
    let cases = [
        ("/hello", "/prod/hello"),
        ("/caf%C3%A9/%E2%9C%93", "/prod/café/✓"),
        ("/caf%c3%a9", "/prod/café"),
        ("/a%20b/c+d", "/prod/a b/c+d"),
        ("/%7Euser/a%2Bb", "/prod/~user/a+b"),
        // HTTP APIs decode the path twice (captured): these reach the authorizer decoded twice.
        ("/literal%252Fvalue", "/prod/literal/value"),
        ("/100%252525", "/prod/100%25"),
        ("/100%2525", "/prod/100%"),
        ("/q%253Fmark", "/prod/q?mark"),
        ("/hash%23value", "/prod/hash#value"),
        ("/deep/er/path/", "/prod/deep/er/path/"),
        ("/search?b=2&a=1&a=0", "/prod/search"),
        ("/search?tag=z&tag=a&tag=m&flag", "/prod/search"),
        ("/search?q=a+b&r=a%20b&s=%7e", "/prod/search"),
        ("/x?redirect=https%3A%2F%2Fexample.com%2F%3Fa%3D1", "/prod/x"),
    ];
    for (case, raw_path) in cases {
        let (status, body) = get(&format!("{}{case}", chain.edge_url), &[]).await;
        assert_eq!(status, 200, "{case}: {body}");
        assert_eq!(body["rawPath"], raw_path, "{case}");
    }
    // What the API would cut short (%3F) or reject (%25 + non-hex), and what cannot be signed,
    // the edge answers itself with 400 and a logged reason: never forwarded, never unsigned.
    for (case, detail) in [
        ("/a%3Fb", "path_truncated"),
        ("/percent%25done", "path_rejected"),
        ("/%FF", "path_not_utf8"),
    ] {
        let (status, _) = get(&format!("{}{case}", chain.edge_url), &[]).await;
        assert_eq!(status, 400, "{case}");
        let logged = chain
            .edge_logs()
            .iter()
            .any(|l| l.contains(&format!("\"detail\":\"{detail}\"")));
        assert!(
            logged,
            "{case}: edge log with detail {detail}: {:?}",
            chain.edge_logs()
        );
    }
    assert!(reasons(&chain).iter().all(|r| r == "ok"), "{:?}", reasons(&chain));
    chain.stop().await;
}

/// A custom domain with the API mapping `v1`, for each reported `rawPath` behaviour (none is
/// confirmed): the edge's default (the origin path) works where API Gateway shows the mapping
/// key; elsewhere every request is denied with a hint naming the option, and the option fixes it.
#[tokio::test]
async fn custom_domain_mappings_need_the_right_prefix_and_say_so() {
    for (mode, fix) in [
        (MappingPath::KeepsMappingKey, None),
        (MappingPath::StripsMappingKey, Some("")),
        (MappingPath::ShowsStage, Some("/prod")),
    ] {
        let chain = custom_domain_chain(&format!("e2e-mapping-{mode:?}"), mode, None).await;
        let (status, body) = get(&format!("{}/orders?b=1&a=2", chain.edge_url), &[]).await;
        match fix {
            None => assert_eq!(status, 200, "{mode:?}: {body}"),
            Some(prefix) => {
                assert_eq!(status, 403, "{mode:?}: the default prefix is denied");
                let hints: Vec<String> = chain
                    .authorizer_logs()
                    .iter()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .filter_map(|l| l["hint"].as_str().map(str::to_owned))
                    .collect();
                assert!(
                    hints
                        .iter()
                        .any(|h| h.contains("--gateway-path-prefix") && h.contains("originsig doctor")),
                    "{mode:?}: {hints:?}"
                );
                chain.stop().await;
                let fixed =
                    custom_domain_chain(&format!("e2e-mapping-{mode:?}-fixed"), mode, Some(prefix)).await;
                let (status, body) = get(&format!("{}/orders?b=1&a=2", fixed.edge_url), &[]).await;
                assert_eq!(
                    status, 200,
                    "{mode:?} with --gateway-path-prefix '{prefix}': {body}"
                );
                fixed.stop().await;
                continue;
            }
        }
        chain.stop().await;
    }
}

const CUSTOM_DOMAIN: &str = "api.example.localhost";

async fn custom_domain_chain(name: &str, mode: MappingPath, prefix: Option<&str>) -> LocalChain {
    let mut options = keyfile_chain(name);
    options.origin_domain = CUSTOM_DOMAIN.into();
    options.origin_path = "/v1".into();
    options.custom_domains.push(CustomDomain {
        domain: CUSTOM_DOMAIN.into(),
        mapping_key: "v1".into(),
        raw_path: mode,
    });
    if let Some(prefix) = prefix {
        options
            .bundle_args
            .extend(["--gateway-path-prefix".to_owned(), prefix.to_owned()]);
    }
    LocalChain::start(options).await.unwrap()
}

/// `originsig doctor` finds, against the deployment itself, the prefix each behaviour needs.
#[tokio::test]
async fn doctor_names_the_prefix_the_api_shows() {
    for (mode, expected, exit) in [
        (MappingPath::KeepsMappingKey, "ok: the edge's default", 0),
        (MappingPath::StripsMappingKey, "--gateway-path-prefix ''", 4),
        (MappingPath::ShowsStage, "--gateway-path-prefix '/prod'", 4),
    ] {
        let chain = custom_domain_chain(&format!("e2e-doctor-{mode:?}"), mode, None).await;
        let url = format!("http://{CUSTOM_DOMAIN}:{}/v1/orders", chain.gateway_port);
        let keyring = repo::test_keyring().display().to_string();
        // Async: the gateway serves on this test's runtime while the doctor runs.
        let out = tokio::process::Command::new(binary("originsig").unwrap())
            .args([
                "doctor",
                "--key-file",
                &keyring,
                "--direct-url",
                &url,
                "--origin-path",
                "/v1",
                "--stage",
                "prod",
            ])
            .args(["--resolve", &format!("{CUSTOM_DOMAIN}:127.0.0.1")])
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(exit),
            "{mode:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(expected), "{mode:?}: {stdout}");
        assert!(stdout.contains("unsigned request: 401"), "{stdout}");
        chain.stop().await;
    }
}

#[tokio::test]
async fn a_skewed_edge_clock_is_refused_with_the_reason() {
    for (skew, reason) in [("-120", "expired"), ("120", "future")] {
        let mut options = keyfile_chain(&format!("e2e-skew{skew}"));
        options
            .edge_env
            .push(("ORIGINSIG_EDGE_CLOCK_SKEW_SECS".into(), skew.into()));
        let chain = LocalChain::start(options).await.unwrap();
        let (status, _) = get(&format!("{}/hello", chain.edge_url), &[]).await;
        assert_eq!(status, 403, "skew {skew}");
        assert_eq!(reasons(&chain), [reason]);
        chain.stop().await;
    }
}

async fn sm_client(moto: &MotoServer) -> aws_sdk_secretsmanager::Client {
    let config = aws_config::from_env()
        .endpoint_url(moto.endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::for_tests())
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&config)
}

fn originsig(moto: &MotoServer, args: &[&str]) -> std::process::Output {
    std::process::Command::new(binary("originsig").unwrap())
        .args(args)
        .envs(moto.env())
        .output()
        .unwrap()
}

fn sm_chain(
    name: &str,
    moto: &MotoServer,
    secret: &str,
    edge_stale: &str,
    authorizer_stale: &str,
) -> ChainOptions {
    let mut options = ChainOptions::new(
        name,
        ChainKeys::SecretsManager {
            secret_id: secret.into(),
            env: moto.env(),
        },
    );
    options.bundle_args = [
        "--cache-ttl",
        "1",
        "--max-stale",
        edge_stale,
        "--refresh-retry",
        "1",
    ]
    .map(String::from)
    .to_vec();
    options.authorizer_env = vec![
        ("ORIGINSIG_CACHE_TTL_SECS".into(), "1".into()),
        ("ORIGINSIG_MAX_STALE_SECS".into(), authorizer_stale.into()),
        ("ORIGINSIG_REFRESH_RETRY_SECS".into(), "1".into()),
    ];
    options
}

#[tokio::test]
async fn rotation_under_traffic_gives_zero_non_2xx() {
    let moto = MotoServer::start().unwrap();
    assert!(originsig(&moto, &["init", "--secret-id", "e2e/rotation"])
        .status
        .success());
    let chain = LocalChain::start(sm_chain("e2e-rotation", &moto, "e2e/rotation", "60", "60"))
        .await
        .unwrap();
    let edge = chain.edge_url.clone();
    let traffic = tokio::spawn(async move {
        let mut statuses = Vec::new();
        let stop_at = Instant::now() + Duration::from_secs(25);
        let mut seen_done = None;
        while Instant::now() < stop_at && statuses.len() < 2000 {
            let (status, body) = get(&format!("{edge}/hello?n={}", statuses.len()), &[]).await;
            statuses.push((
                status,
                body["authorizer"]["keyId"].as_str().unwrap_or("").to_owned(),
            ));
            if std::path::Path::new(
                &std::env::temp_dir().join(format!("originsig-rotated-{}", std::process::id())),
            )
            .exists()
            {
                // Keep going past the edge cache TTL so edges move to the new key.
                let done = *seen_done.get_or_insert(Instant::now());
                if done.elapsed() > Duration::from_secs(3) {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        statuses
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rotated = tokio::task::spawn_blocking(move || {
        let out = originsig(
            &moto,
            &[
                "rotate",
                "--secret-id",
                "e2e/rotation",
                "--wait",
                "3",
                // Below the propagation wait (31 s): the test's short caches make it safe.
                "--force",
                "--authorizer-cache-ttl",
                "1",
                "--edge-max-stale",
                "60",
            ],
        );
        (out, moto)
    })
    .await
    .unwrap();
    assert!(
        rotated.0.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.0.stderr)
    );
    std::fs::write(
        std::env::temp_dir().join(format!("originsig-rotated-{}", std::process::id())),
        "",
    )
    .unwrap();
    let statuses = traffic.await.unwrap();
    let _ =
        std::fs::remove_file(std::env::temp_dir().join(format!("originsig-rotated-{}", std::process::id())));
    let failures: Vec<&(u16, String)> = statuses.iter().filter(|(s, _)| !(200..300).contains(s)).collect();
    let keys: BTreeSet<&str> = statuses.iter().map(|(_, k)| k.as_str()).collect();
    eprintln!(
        "{} requests during the rotation, {} non-2xx, keys {keys:?}",
        statuses.len(),
        failures.len()
    );
    assert!(statuses.len() > 50);
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(keys.len(), 2, "signed with the old key, then the new one");
    chain.stop().await;
    drop(rotated.1);
}

#[tokio::test]
async fn secrets_manager_faults_keep_good_keys_then_fail_closed() {
    let mut moto = MotoServer::start().unwrap();
    assert!(originsig(&moto, &["init", "--secret-id", "e2e/faults"])
        .status
        .success());
    let chain = LocalChain::start(sm_chain("e2e-faults", &moto, "e2e/faults", "5", "5"))
        .await
        .unwrap();
    let url = format!("{}/hello", chain.edge_url);
    assert_eq!(get(&url, &[]).await.0, 200);

    // A malformed value pushed as AWSCURRENT: both sides keep the last good key.
    let client = sm_client(&moto).await;
    client
        .put_secret_value()
        .secret_id("e2e/faults")
        .secret_string("{\"not\":\"a key\"}")
        .send()
        .await
        .unwrap();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(get(&url, &[]).await.0, 200);
    }
    let good = sm_client(&moto).await;
    let versions = good
        .list_secret_version_ids()
        .secret_id("e2e/faults")
        .send()
        .await
        .unwrap();
    assert!(versions.versions().len() >= 2);

    // Secrets Manager gone while warm: requests pass until the maximum staleness, then fail closed.
    moto.stop();
    let stopped = Instant::now();
    let mut passed_after_stop = 0;
    let mut closed = None;
    while stopped.elapsed() < Duration::from_secs(15) {
        let (status, _) = get(&url, &[]).await;
        match status {
            200 => {
                assert!(closed.is_none(), "a 200 after failing closed");
                passed_after_stop += 1;
            }
            503 | 500 => {
                closed.get_or_insert((status, stopped.elapsed()));
            }
            other => panic!("unexpected {other}"),
        }
        if closed.is_some_and(|(_, at)| stopped.elapsed() > at + Duration::from_secs(1)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, after) = closed.expect("fails closed within 15 s");
    eprintln!(
        "after Secrets Manager stopped: {passed_after_stop} requests passed, then {status} after {after:?}"
    );
    assert!(
        passed_after_stop > 0,
        "kept serving while within the maximum staleness"
    );
    // No lower bound on `after` beyond "some requests passed": the staleness counts from the
    // last good read, which came before the malformed value was pushed (2.5 s of requests
    // above), so on a loaded machine the remaining window can be well under 2 s.
    assert!(after < Duration::from_secs(15), "{after:?}");
    chain.stop().await;
}

/// The replayed header the README's third curl line shows is refused with reason `expired`.
#[tokio::test]
async fn the_readme_replay_line_is_a_403() {
    let chain = LocalChain::start(keyfile_chain("e2e-readme")).await.unwrap();
    let target = RequestTarget::from_gateway("GET", DOMAIN, "/prod/hello", "").unwrap();
    let header = sign(&target, test_ring().signing_key(), UnixSeconds::new(now() - 600)).render();
    let (status, _) = get(
        &format!("{}/prod/hello", chain.gateway_url),
        &[("Host", DOMAIN), ("x-originsig", &header)],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(reasons(&chain), ["expired"]);
    chain.stop().await;
}

/// One key, several APIs (docs/existing-distribution.md, "Several APIs"): one edge function signs for every
/// origin of the distribution, each API has its own authorizer reading the same secret. The host
/// is signed, so a signature captured on one API is refused by the other.
#[tokio::test]
async fn one_key_protects_several_apis_and_a_signature_stays_with_its_api() {
    use originsig_tests::edge::{start_edge, OriginConfig};

    let orders = LocalChain::start(keyfile_chain("several-orders")).await.unwrap();
    let mut users_options = keyfile_chain("several-users");
    users_options.origin_domain = "u5e45users.execute-api.localhost".to_owned();
    let users = LocalChain::start(users_options).await.unwrap();
    // The orders chain's edge function (one bundle, one key) with a second origin: the users API.
    let users_behaviour = start_edge(
        0,
        OriginConfig {
            domain_name: "u5e45users.execute-api.localhost".to_owned(),
            path: "/prod".to_owned(),
            port: users.gateway_port,
        },
        std::sync::Arc::clone(orders.edge.as_ref().unwrap()),
    )
    .await
    .unwrap();

    let (status, body) = get(&format!("{}/orders/1", orders.edge_url), &[]).await;
    assert_eq!(status, 200, "{body}");
    let orders_signature = body["signature"].as_str().unwrap().to_owned();
    let (status, body) = get(&format!("http://127.0.0.1:{users_behaviour}/users/me"), &[]).await;
    assert_eq!(
        status, 200,
        "the same edge function signs for the second API: {body}"
    );
    assert_eq!(reasons(&users), ["ok"]);

    // The orders API's signature, replayed at the users API for the same path: refused (host).
    let (status, _) = get(
        &format!("{}/prod/orders/1", users.gateway_url),
        &[
            ("x-originsig", &orders_signature),
            ("Host", "u5e45users.execute-api.localhost"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(reasons(&users).last().map(String::as_str), Some("bad_signature"));
    // ... and still accepted where it was made, within the window.
    let (status, _) = get(
        &format!("{}/prod/orders/1", orders.gateway_url),
        &[("x-originsig", &orders_signature), ("Host", DOMAIN)],
    )
    .await;
    assert_eq!(status, 200);
    orders.stop().await;
    users.stop().await;
}
