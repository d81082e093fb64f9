//! The scheduled rotator (the real `key-rotator` binary through the Runtime API emulator) driven
//! through all four Secrets Manager steps with real events, and the central property of the
//! rotation: with edge and authorizer caches of different ages, continuous signing and
//! verification while a rotation runs sees zero false denials; after the next rotation the
//! oldest key no longer verifies.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_secretsmanager::Client;
use originsig_core::{sign, verify, Freshness, RequestTarget, SigningKey, UnixSeconds, VerifyError};
use originsig_hmac_authorizer::config::CachePolicy;
use originsig_hmac_authorizer::key_cache::KeyCache;
use originsig_hmac_authorizer::rotation;
use originsig_hmac_authorizer::store::{KeyStore, SecretsManagerStore};
use originsig_hmac_authorizer::timing::Timing;
use originsig_tests::moto::MotoServer;
use originsig_tests::runtime_api::{Outcome, RuntimeApi};
use serde_json::json;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

struct Rotator(Child);

impl Drop for Rotator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_rotator_runs_all_four_steps_with_real_events() {
    let moto = MotoServer::start().unwrap();
    let client = common::moto_client(&moto).await;
    let store = SecretsManagerStore::new(client.clone(), "rotator/keys".into());
    store
        .create(&rotation::new_key(now()).unwrap(), "test")
        .await
        .unwrap();
    let arn = client
        .describe_secret()
        .secret_id("rotator/keys")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();

    let runtime = RuntimeApi::start().await.unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_key-rotator"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command.envs(runtime.lambda_env("key-rotator")).envs(moto.env());
    command
        .env("ORIGINSIG_ROTATION_WAIT_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _rotator = Rotator(command.spawn().unwrap());

    let token = "0123456789abcdef0123456789abcdef";
    let step = |name: &str| json!({"Step": name, "SecretId": arn, "ClientRequestToken": token, "RotationToken": "rt"});
    let invoke = |event| {
        let runtime = runtime.clone();
        async move {
            runtime
                .invoke(event, Duration::from_secs(30))
                .await
                .expect("an answer")
        }
    };

    let created = invoke(step("createSecret")).await;
    assert!(
        matches!(&created, Outcome::Response(r) if r["result"].as_str().unwrap().starts_with("staged")),
        "{created:?}"
    );
    let ring = rotation::stored_ring(&store).await.unwrap();
    let pending_id = ring
        .pending
        .as_ref()
        .unwrap()
        .key
        .as_ref()
        .unwrap()
        .id()
        .to_string();
    assert_eq!(ring.pending.unwrap().version_id, token);

    // Secrets Manager retries steps: createSecret again keeps the same key.
    let again = invoke(step("createSecret")).await;
    assert!(
        matches!(&again, Outcome::Response(r) if r["result"].as_str().unwrap().starts_with("kept")),
        "{again:?}"
    );

    assert!(matches!(invoke(step("setSecret")).await, Outcome::Response(_)));
    let tested = invoke(step("testSecret")).await;
    assert!(
        matches!(&tested, Outcome::Response(r) if r["result"].as_str().unwrap().contains("may be promoted")),
        "{tested:?}"
    );
    let finished = invoke(step("finishSecret")).await;
    assert!(matches!(&finished, Outcome::Response(_)), "{finished:?}");
    let ring = rotation::stored_ring(&store).await.unwrap();
    assert_eq!(ring.current.unwrap().key.unwrap().id().as_str(), pending_id);
    assert!(ring.previous.is_some() && ring.pending.is_none());
    assert!(store.last_promotion().await.unwrap().is_some());

    // The next scheduled rotation right away is refused: the previous key may still be in use.
    let early = invoke(json!({"Step": "createSecret", "SecretId": arn, "ClientRequestToken": "fedcba9876543210fedcba9876543210"})).await;
    assert!(
        matches!(&early, Outcome::Error(kind, _) if kind == "RotationTooEarly"),
        "{early:?}"
    );
    let unknown =
        invoke(json!({"Step": "rotateEverything", "SecretId": arn, "ClientRequestToken": token})).await;
    assert!(
        matches!(&unknown, Outcome::Error(kind, _) if kind == "UnknownStep"),
        "{unknown:?}"
    );
}

/// An edge as far as keys go: it caches AWSCURRENT for `ttl` (asking for the label explicitly,
/// as `edge-signer/node/index.mjs` does).
struct Edge {
    client: Client,
    ttl: Duration,
    key: Option<(SigningKey, Instant)>,
}

impl Edge {
    async fn key(&mut self) -> SigningKey {
        if self.key.as_ref().is_none_or(|(_, at)| at.elapsed() >= self.ttl) {
            let value = self
                .client
                .get_secret_value()
                .secret_id("property/keys")
                .version_stage("AWSCURRENT")
                .send()
                .await
                .unwrap();
            let key = SigningKey::from_secret_value(value.secret_string().unwrap()).unwrap();
            self.key = Some((key, Instant::now()));
        }
        self.key.as_ref().unwrap().0.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_under_traffic_has_zero_false_denials() {
    let moto = MotoServer::start().unwrap();
    let client = common::moto_client(&moto).await;
    let store = SecretsManagerStore::new(client.clone(), "property/keys".into());
    let first = rotation::new_key(now()).unwrap();
    store.create(&first, "test").await.unwrap();

    // Authorizers with different cache TTLs, started at different times; unknown-key refreshes
    // effectively off, so the property rests on the rotation's own waiting.
    let mut authorizers = Vec::new();
    for ttl_ms in [400u64, 900, 1500] {
        let policy = CachePolicy {
            ttl: Duration::from_millis(ttl_ms),
            max_stale: Duration::from_secs(600),
            unknown_key_interval: Duration::from_secs(3600),
            retry_interval: Duration::from_millis(100),
            read_bound: CachePolicy::default().read_bound,
        };
        authorizers.push(
            KeyCache::init(
                SecretsManagerStore::new(client.clone(), "property/keys".into()),
                policy,
            )
            .await,
        );
        tokio::time::sleep(Duration::from_millis(130)).await;
    }
    let mut edges: Vec<Edge> = [300u64, 1000, 2000]
        .into_iter()
        .map(|ms| Edge {
            client: client.clone(),
            ttl: Duration::from_millis(ms),
            key: None,
        })
        .collect();

    // The rotation: authorizers' largest TTL + margin before promotion; edges cache ≤ 2 s. (The
    // guard does not apply: the first rotation drops no key.)
    let timing = Timing::DEFAULT;
    let propagation_wait = Duration::from_millis(1500 + 700);
    let edge_cache_ttl = Duration::from_secs(2);
    let done = Arc::new(AtomicBool::new(false));
    let rotation_store = store.clone();
    let rotation_done = Arc::clone(&done);
    let rotation = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (pending, _) = rotation::start(&rotation_store, &timing, now(), rotation::Overrides::NONE)
            .await
            .unwrap();
        tokio::time::sleep(propagation_wait).await;
        let promoted = rotation::promote(&rotation_store, &pending.token, now())
            .await
            .unwrap();
        // Keep the traffic going until every edge must have picked the new key up.
        tokio::time::sleep(edge_cache_ttl + Duration::from_millis(500)).await;
        rotation_done.store(true, Ordering::SeqCst);
        promoted
    });

    let target = RequestTarget::from_gateway("GET", "api.example.com", "/prod/items", "a=1").unwrap();
    let (requests, denials) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut signers_seen = std::collections::BTreeSet::new();
    while !done.load(Ordering::SeqCst) && Instant::now() < deadline {
        for edge in &mut edges {
            let key = edge.key().await;
            signers_seen.insert(key.id().to_string());
            let header = sign(&target, &key, UnixSeconds::new(now())).render();
            for authorizer in &authorizers {
                let ring = authorizer.ring().await.unwrap();
                requests.fetch_add(1, Ordering::Relaxed);
                if let Err(reason) = verify(
                    &header,
                    &target,
                    &ring,
                    &Freshness::default(),
                    UnixSeconds::new(now()),
                ) {
                    denials.fetch_add(1, Ordering::Relaxed);
                    eprintln!(
                        "false denial: {reason} (edge ttl {:?}, key {})",
                        edge.ttl,
                        key.id()
                    );
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let promoted = rotation.await.unwrap();
    let (requests, denials) = (requests.into_inner(), denials.into_inner());
    eprintln!(
        "{requests} verifications during the rotation, {denials} denials; keys signed with: {signers_seen:?}"
    );
    assert!(requests > 500, "{requests}");
    assert_eq!(denials, 0);
    assert_eq!(
        signers_seen.len(),
        2,
        "edges signed with the old and then the new key"
    );

    // After the next rotation, the first key is dropped: it no longer verifies anywhere.
    let old_header = sign(&target, &first, UnixSeconds::new(now())).render();
    let force = rotation::Overrides {
        force: true,
        ..rotation::Overrides::NONE
    };
    let (pending, _) = rotation::start(&store, &timing, now(), force).await.unwrap();
    rotation::promote(&store, &pending.token, now()).await.unwrap();
    assert_ne!(&promoted.new_key_id, first.id());
    tokio::time::sleep(Duration::from_millis(1600)).await;
    for authorizer in &authorizers {
        let ring = authorizer.ring().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await; // let the background refresh land
        let ring = if ring.find(first.id().as_str()).is_some() {
            authorizer.ring().await.unwrap()
        } else {
            ring
        };
        assert_eq!(
            verify(
                &old_header,
                &target,
                &ring,
                &Freshness::default(),
                UnixSeconds::new(now())
            ),
            Err(VerifyError::UnknownKey)
        );
    }
}
