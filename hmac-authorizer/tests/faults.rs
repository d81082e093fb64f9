//! Rotation and key reading under faults, against a real moto server behind a fault-injecting
//! proxy (`originsig_tests::fault_proxy`): an interrupted promotion, a Secrets Manager that hangs
//! (for the authorizer's cache and for the CLI), each malformed value under each label, the
//! rotation Lambda without the promotion tag, and a key id reused with other bytes. Each test
//! asserts the invariant (no premature drop of a key in use, no acceptance of a dropped key, an
//! answer within the documented bound) and is bounded in time.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::Client;
use originsig_core::{KeyId, KeyRole, SigningKey};
use originsig_hmac_authorizer::config::CachePolicy;
use originsig_hmac_authorizer::key_cache::KeyCache;
use originsig_hmac_authorizer::rotation::{self, RotationError};
use originsig_hmac_authorizer::rotation_lambda::{run_step, RotationEvent, RotatorConfig};
use originsig_hmac_authorizer::store::{KeyStore, ReadRing, SecretsManagerStore, StoreError};
use originsig_hmac_authorizer::timing::Timing;
use originsig_tests::fault_proxy::{Fault, FaultProxy};
use originsig_tests::moto::MotoServer;

fn key(id: &str, byte: u8) -> SigningKey {
    SigningKey::new(KeyId::new(id).unwrap(), vec![byte; 32]).unwrap()
}

fn now() -> u64 {
    originsig_hmac_authorizer::clock::now_unix()
}

async fn client_through(proxy: &FaultProxy, policy: originsig_hmac_authorizer::aws::CallPolicy) -> Client {
    let config = originsig_hmac_authorizer::aws::config_loader(Some("us-east-1".into()), policy)
        .endpoint_url(proxy.endpoint())
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::for_tests())
        .load()
        .await;
    Client::new(&config)
}

fn id_with(ring: &rotation::StoredRing, role: KeyRole) -> Option<String> {
    let version = match role {
        KeyRole::Current => &ring.current,
        KeyRole::Pending => &ring.pending,
        KeyRole::Previous => &ring.previous,
    };
    version
        .as_ref()
        .and_then(|v| v.key.as_ref().ok())
        .map(|k| k.id().to_string())
}

/// A promotion whose promotion record cannot be written leaves the labels as they were, so the
/// next `rotate` resumes it, and the rotation after that is refused: the key it demoted is not
/// dropped early. (Before: the labels moved, the record did not, and a plain `rotate` ran at
/// once and dropped the key edges still signed with.)
#[tokio::test]
async fn an_interrupted_promotion_keeps_the_guard_armed() {
    let moto = MotoServer::start().unwrap();
    let proxy = FaultProxy::start(moto.endpoint()).await.unwrap();
    let store = SecretsManagerStore::new(
        client_through(&proxy, originsig_hmac_authorizer::timing::TOOL_CALLS).await,
        "faults/promotion".into(),
    );
    // A guard of 3 s, so the test can pass it.
    let timing = Timing {
        edge_max_stale_secs: 1,
        kvs_propagation_secs: 1,
        max_age_secs: 1,
        safety_margin_secs: 1,
        ..Timing::DEFAULT
    };
    store
        .create(&rotation::new_key(now()).unwrap(), "test")
        .await
        .unwrap();
    let (first, _) = rotation::start(&store, &timing, now(), rotation::Overrides::NONE)
        .await
        .unwrap();
    rotation::promote(&store, &first.token, now()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(3500)).await;

    // The second rotation is allowed; its promotion is interrupted at the record.
    let (second, _) = rotation::start(&store, &timing, now(), rotation::Overrides::NONE)
        .await
        .unwrap();
    let before = rotation::stored_ring(&store).await.unwrap();
    proxy.set(Some("TagResource"), Fault::Drop);
    let interrupted = rotation::promote(&store, &second.token, now()).await;
    assert!(
        matches!(interrupted, Err(RotationError::Store(_))),
        "{interrupted:?}"
    );
    let after = rotation::stored_ring(&store).await.unwrap();
    for role in KeyRole::ALL {
        assert_eq!(
            id_with(&after, role),
            id_with(&before, role),
            "{role:?}: no label moved"
        );
    }

    // A plain rotate resumes and finishes it; the one after is too early.
    proxy.clear();
    let (resumed, _) = rotation::start(&store, &timing, now(), rotation::Overrides::NONE)
        .await
        .unwrap();
    assert!(resumed.resumed);
    assert_eq!(resumed.token, second.token);
    let promoted = rotation::promote(&store, &resumed.token, now()).await.unwrap();
    assert_eq!(
        promoted.previous_key_id.unwrap(),
        *first.key.id(),
        "the demoted key still verifies"
    );
    let early = rotation::start(&store, &timing, now(), rotation::Overrides::NONE).await;
    assert!(matches!(early, Err(RotationError::TooEarly { .. })), "{early:?}");
}

/// A Secrets Manager that accepts calls and never answers: a cold authorizer gives up within its
/// call timeout (then errors: 500), later requests do not wait again before the retry interval,
/// and a warm one past its TTL verifies with its last ring within `max_stale`.
#[tokio::test]
async fn a_hung_secrets_manager_costs_the_authorizer_one_call_timeout() {
    let moto = MotoServer::start().unwrap();
    let setup = common::moto_client(&moto).await;
    setup
        .create_secret()
        .name("faults/hung")
        .secret_string(key("k-a", 1).to_secret_value().as_str())
        .send()
        .await
        .unwrap();
    let proxy = FaultProxy::start(moto.endpoint()).await.unwrap();
    let timing = Timing::DEFAULT;
    let client = client_through(&proxy, timing.authorizer_calls()).await;
    let policy = CachePolicy {
        ttl: Duration::from_secs(1),
        max_stale: Duration::from_secs(8),
        unknown_key_interval: Duration::from_secs(30),
        retry_interval: Duration::from_secs(2),
        read_bound: timing.authorizer_calls().call_timeout,
    };
    let bound = Duration::from_secs(timing.authorizer_call_timeout_secs) + Duration::from_millis(800);

    // Cold.
    proxy.set(None, Fault::Hang);
    let started = Instant::now();
    let cold = KeyCache::init(
        SecretsManagerStore::new(client.clone(), "faults/hung".into()),
        policy,
    )
    .await;
    assert!(
        started.elapsed() < bound,
        "init gave up after {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let error = cold.ring().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "no second wait inside the retry interval"
    );
    assert!(error.last_error.contains("no answer"), "{error}");

    // Warm, then hung past the TTL.
    proxy.clear();
    let warm = KeyCache::init(SecretsManagerStore::new(client, "faults/hung".into()), policy).await;
    assert!(warm.ring().await.is_ok());
    proxy.set(None, Fault::Hang);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = Instant::now();
    assert_eq!(
        warm.ring().await.unwrap().signing_key().id().as_str(),
        "k-a",
        "outage: the last ring"
    );
    assert!(
        started.elapsed() < bound,
        "one call timeout at most: {:?}",
        started.elapsed()
    );
}

/// The CLI against a Secrets Manager that never answers: exit 3 with "no answer", within its
/// call bound, instead of hanging.
#[test]
fn a_hung_secrets_manager_fails_the_cli_within_its_bound() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let moto = MotoServer::start().unwrap();
    let proxy = runtime.block_on(FaultProxy::start(moto.endpoint())).unwrap();
    proxy.set(None, Fault::Hang);
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_originsig"))
        .args(["status", "--secret-id", "faults/cli"])
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", proxy.endpoint())
        .output()
        .unwrap();
    let bound = originsig_hmac_authorizer::timing::TOOL_CALLS.call_timeout + Duration::from_secs(5);
    assert!(started.elapsed() < bound, "took {:?}", started.elapsed());
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no answer"));
}

/// Each malformed value under each label: under AWSCURRENT the read fails (caches keep their
/// last good ring); under AWSPENDING or AWSPREVIOUS it is left out and the rest verifies.
#[tokio::test]
async fn each_malformed_value_under_each_label() {
    let moto = MotoServer::start().unwrap();
    let client = common::moto_client(&moto).await;
    let good = key("k-good", 1).to_secret_value().to_string();
    let ring_document = format!(r#"{{"format":"originsig-keyring-v1","current":{good}}}"#);
    let bad: Vec<(&str, Option<String>)> = vec![
        ("not-json", Some("hunter2".into())),
        ("key-ring", Some(ring_document)),
        (
            "short",
            Some(r#"{"format":"originsig-key-v1","kid":"k-short","key":"AAAA"}"#.into()),
        ),
        ("format", Some(r#"{"format":"v0","kid":"k","key":"AAAA"}"#.into())),
        ("binary", None),
    ];
    for (index, (name, value)) in bad.into_iter().enumerate() {
        let put = |secret: String, stages: Option<&'static str>| {
            let mut request = client.put_secret_value().secret_id(secret);
            request = match &value {
                Some(text) => request.secret_string(text),
                None => request.secret_binary(Blob::new(vec![0, 1, 2])),
            };
            if let Some(stage) = stages {
                request = request.version_stages(stage);
            }
            request.client_request_token(format!("token-{name}-{index:0>28}"))
        };
        // AWSPENDING and AWSCURRENT: created good, the bad value put under the label.
        for (label, stage) in [("pending", Some("AWSPENDING")), ("current", None)] {
            let secret = format!("faults/{name}/{label}");
            client
                .create_secret()
                .name(&secret)
                .secret_string(&good)
                .send()
                .await
                .unwrap();
            put(secret.clone(), stage).send().await.unwrap();
            let result = SecretsManagerStore::new(client.clone(), secret).read_ring().await;
            match label {
                "pending" => assert_eq!(
                    result.unwrap().entries().count(),
                    1,
                    "{name} under AWSPENDING is left out"
                ),
                _ => assert!(
                    matches!(
                        result,
                        Err(StoreError::Invalid {
                            label: "AWSCURRENT",
                            ..
                        })
                    ),
                    "{name} under AWSCURRENT fails the read"
                ),
            }
        }
        // AWSPREVIOUS: created bad, then a good value promoted over it.
        let secret = format!("faults/{name}/previous");
        let create = client.create_secret().name(&secret);
        match &value {
            Some(text) => create.secret_string(text),
            None => create.secret_binary(Blob::new(vec![0, 1, 2])),
        }
        .send()
        .await
        .unwrap();
        client
            .put_secret_value()
            .secret_id(&secret)
            .secret_string(&good)
            .send()
            .await
            .unwrap();
        let ring = SecretsManagerStore::new(client.clone(), secret)
            .read_ring()
            .await
            .unwrap();
        assert_eq!(ring.entries().count(), 1, "{name} under AWSPREVIOUS is left out");
    }
}

/// Labels moved by hand (no promotion tag): the rotation Lambda falls back to AWSCURRENT's
/// creation and refuses to drop the key it demoted, with the same message as the CLI minus the
/// CLI's `--force`.
#[tokio::test]
async fn the_rotation_lambda_without_the_tag_still_guards() {
    let moto = MotoServer::start().unwrap();
    let client = common::moto_client(&moto).await;
    let store = SecretsManagerStore::new(client.clone(), "faults/untagged".into());
    store.create(&key("k-a", 1), "test").await.unwrap();
    // A human promotes k-b by hand: k-a becomes AWSPREVIOUS, no tag is written.
    client
        .put_secret_value()
        .secret_id("faults/untagged")
        .secret_string(key("k-b", 2).to_secret_value().as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(store.last_promotion().await.unwrap(), None);
    let config = RotatorConfig::from_env(|_| None).unwrap();
    let event = RotationEvent {
        step: "createSecret".into(),
        secret_id: "faults/untagged".into(),
        token: "token-untagged-0000000000000000000000".into(),
    };
    let error = run_step(&store, &config, &event, now(), Duration::from_secs(60))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("too early") && text.contains("k-a"), "{text}");
    assert!(!text.contains("--force"), "a Lambda cannot pass --force: {text}");
    // Nothing was staged.
    assert!(rotation::stored_ring(&store).await.unwrap().pending.is_none());
    // The other steps are safe alone: nothing staged under the token, nothing done.
    for step in ["testSecret", "finishSecret", "setSecret"] {
        let event = RotationEvent {
            step: step.into(),
            ..event.clone()
        };
        run_step(&store, &config, &event, now(), Duration::from_secs(60))
            .await
            .unwrap();
    }
    assert!(rotation::stored_ring(&store).await.unwrap().pending.is_none());
}

/// A key id reused with other bytes (authorizers refuse such a ring): `status` says so and exits
/// 3, `sign` refuses (exit 3), `rotate` does not replace the conflicting AWSPENDING (exit 4).
#[tokio::test]
async fn a_reused_key_id_is_seen_by_status_sign_and_rotate() {
    let moto = MotoServer::start().unwrap();
    let client = common::moto_client(&moto).await;
    let store = SecretsManagerStore::new(client.clone(), "faults/reused".into());
    store.create(&key("k-same", 1), "test").await.unwrap();
    store
        .put_pending("token-reused-00000000000000000000000000", &key("k-same", 2))
        .await
        .unwrap();
    let status = common::originsig(&moto, &["status", "--secret-id", "faults/reused"]);
    let text = String::from_utf8_lossy(&status.stdout).to_string() + &String::from_utf8_lossy(&status.stderr);
    assert_eq!(status.status.code(), Some(3), "{text}");
    assert!(text.contains("PROBLEM") && text.contains("k-same"), "{text}");
    let sign = common::originsig(
        &moto,
        &[
            "sign",
            "--secret-id",
            "faults/reused",
            "--url",
            "https://a.example/x",
        ],
    );
    assert_eq!(
        sign.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&sign.stderr)
    );
    let rotate = common::originsig(&moto, &["rotate", "--secret-id", "faults/reused", "--wait", "0"]);
    assert_eq!(
        rotate.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    assert!(String::from_utf8_lossy(&rotate.stderr).contains("reuses the current key id"));
}
