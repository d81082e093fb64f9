//! Scheduled rotation on your own API behind a custom domain (issue 23.1): the `estate`
//! environment of `infra/samconfig.toml` (origin path `/v1`, health route `RotatorCheckPath`),
//! rotated by the real `key-rotator` binary through the gateway emulator, whose custom domain
//! maps `v1`, in front of the real authorizer binary and a backend with its own authentication
//! (401 to everyone). The rotator's check passes because the authorizer accepted the new key,
//! whatever the backend answers; with the wrong path prefix it fails, the failure is recorded
//! with the pending key, and `finishSecret` refuses until a test passes.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use originsig_hmac_authorizer::rotation;
use originsig_hmac_authorizer::store::{KeyStore, SecretsManagerStore};
use originsig_tests::gateway::{start_gateway, CustomDomain, GatewayConfig, MappingPath};
use originsig_tests::moto::MotoServer;
use originsig_tests::repo;
use originsig_tests::runtime_api::{Outcome, RuntimeApi};
use serde_json::json;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A value of `[estate.deploy.parameters.parameter_overrides]` in infra/samconfig.toml.
fn estate(name: &str) -> String {
    let text = std::fs::read_to_string(repo::root().join("infra/samconfig.toml")).unwrap();
    let section = text
        .split("[estate.deploy.parameters.parameter_overrides]")
        .nth(1)
        .expect("the estate environment")
        .split("\n[")
        .next()
        .unwrap();
    section
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == name).then(|| {
                value
                    .split('#')
                    .next()
                    .unwrap()
                    .trim()
                    .trim_matches('"')
                    .to_owned()
            })
        })
        .unwrap_or_else(|| panic!("estate has no {name}"))
}

/// The API's own backend: it authenticates its users itself and refuses this caller.
fn backend_with_its_own_auth() -> u16 {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 8192];
            let _ = stream.read(&mut buffer);
            let body = br#"{"error":"login required"}"#;
            let head = format!(
                "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    port
}

fn spawn(binary: &str, env: Vec<(&'static str, String)>) -> Killed {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Killed(command.spawn().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estate_example_rotates_through_its_custom_domain() {
    let (origin_path, check_path) = (estate("OriginPath"), estate("RotatorCheckPath"));
    let secret_name = estate("SecretName");
    assert_eq!((origin_path.as_str(), check_path.as_str()), ("/v1", "/health"));

    let moto = MotoServer::start().unwrap();
    let client = common::moto_client(&moto).await;
    let store = SecretsManagerStore::new(client.clone(), secret_name.clone());
    store
        .create(&rotation::new_key(now()).unwrap(), "estate")
        .await
        .unwrap();
    let arn = client
        .describe_secret()
        .secret_id(&secret_name)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();

    // The authorizer, reading the secret every second (it must learn the pending key).
    let authorizer_api = RuntimeApi::start().await.unwrap();
    let mut env = authorizer_api.lambda_env("hmac-authorizer");
    env.extend(moto.env());
    env.extend([
        ("ORIGINSIG_SECRET_ID", secret_name.clone()),
        ("ORIGINSIG_CACHE_TTL_SECS", "1".to_owned()),
    ]);
    let _authorizer = spawn(env!("CARGO_BIN_EXE_hmac-authorizer"), env);

    // The estate's custom domain (here its requests' Host, 127.0.0.1) maps `v1` to the API, and
    // API Gateway shows the authorizer the path without the mapping key: the edge's default
    // prefix (the origin path) is wrong there, and GatewayPathPrefix '' is right.
    let gateway = start_gateway(
        0,
        GatewayConfig {
            stage: Some("prod".into()),
            custom_domains: vec![CustomDomain {
                domain: "127.0.0.1".into(),
                mapping_key: origin_path.trim_start_matches('/').to_owned(),
                raw_path: MappingPath::StripsMappingKey,
            }],
            upstream: Some(format!("http://127.0.0.1:{}", backend_with_its_own_auth())),
        },
        authorizer_api.clone(),
    )
    .await
    .unwrap();
    let check_url = format!("http://127.0.0.1:{gateway}{origin_path}{check_path}");

    let rotator = |prefix: Option<&str>| {
        let runtime = futures_like_block(RuntimeApi::start()).unwrap();
        let mut env = runtime.lambda_env("key-rotator");
        env.extend(moto.env());
        env.extend([
            ("ORIGINSIG_ROTATION_WAIT_SECS", "2".to_owned()),
            ("ORIGINSIG_DIRECT_URL", check_url.clone()),
            ("ORIGINSIG_ORIGIN_PATH", origin_path.clone()),
        ]);
        if let Some(prefix) = prefix {
            env.push(("ORIGINSIG_GATEWAY_PATH_PREFIX", prefix.to_owned()));
        }
        (runtime, spawn(env!("CARGO_BIN_EXE_key-rotator"), env))
    };
    let token = "0123456789abcdef0123456789abcdef";
    let step = |name: &str| json!({"Step": name, "SecretId": arn, "ClientRequestToken": token});
    let invoke = |runtime: &RuntimeApi, event| {
        let runtime = runtime.clone();
        async move {
            runtime
                .invoke(event, Duration::from_secs(120))
                .await
                .expect("an answer")
        }
    };

    // The edge's default prefix: the new key is denied like an unknown key; nothing promoted,
    // the failure is recorded with the pending version, and finishSecret holds.
    let (wrong, _wrong_process) = rotator(None);
    for name in ["createSecret", "setSecret"] {
        assert!(matches!(invoke(&wrong, step(name)).await, Outcome::Response(_)));
    }
    let failed = invoke(&wrong, step("testSecret")).await;
    assert!(
        matches!(&failed, Outcome::Error(kind, message) if kind == "RotationTestFailed" && message.to_string().contains("gateway's deny")),
        "{failed:?}"
    );
    assert_eq!(store.failed_test().await.unwrap().as_deref(), Some(token));
    let held = invoke(&wrong, step("finishSecret")).await;
    assert!(
        matches!(&held, Outcome::Error(kind, _) if kind == "RotationHeldByFailedTest"),
        "{held:?}"
    );

    // GatewayPathPrefix '' (what `originsig doctor` names for this mapping): the authorizer
    // accepts the new key — the backend's own 401 behind it counts as accepted — the hold is
    // lifted and the key promoted.
    let (right, _right_process) = rotator(Some(""));
    let passed = invoke(&right, step("testSecret")).await;
    assert!(
        matches!(&passed, Outcome::Response(r) if r["result"].as_str().unwrap().contains("may be promoted")),
        "{passed:?}"
    );
    assert_eq!(store.failed_test().await.unwrap(), None);
    let finished = invoke(&right, step("finishSecret")).await;
    assert!(matches!(&finished, Outcome::Response(_)), "{finished:?}");
    let ring = rotation::stored_ring(&store).await.unwrap();
    assert_eq!(ring.current.unwrap().version_id, token);
    assert!(ring.previous.is_some());
}

/// Runs a future to completion from synchronous code inside the multi-threaded test runtime.
fn futures_like_block<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}
