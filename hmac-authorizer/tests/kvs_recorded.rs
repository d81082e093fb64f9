//! The record of the edge's key value store on the secret (tag `originsig:kvs-arn`,
//! `edge_store::store_to_use`), on real moto and the KeyValueStore emulator: the real `originsig`
//! binary and the rotation Lambda's steps.
//!
//! The outage it prevents: a promotion that skips the store leaves CloudFront functions signing
//! with the old key; a second one and the authorizers no longer accept it. So once a store is
//! recorded, `rotate` without `--kvs-arn` writes it, another store is refused unless
//! `--replace-recorded-kvs`, and a rotator configured with another store (or none) fails before
//! anything changes.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::{moto_client, text};

use std::process::{Command, Output};
use std::time::Duration;

use originsig_hmac_authorizer::rotation_lambda::{run_step, RotationEvent, RotatorConfig, RotatorError};
use originsig_hmac_authorizer::store::kvs::{KvsKeyCopy, KVS_ITEM_KEY};
use originsig_hmac_authorizer::store::{KeyStore, SecretsManagerStore, KVS_ARN_TAG};
use originsig_hmac_authorizer::timing::TOOL_CALLS;
use originsig_tests::kvs::{KvsClock, KvsEmulator};
use originsig_tests::moto::MotoServer;
use serde_json::Value;

/// A rotation token (Secrets Manager wants 32 to 64 characters).
const T1: &str = "00000000-0000-4000-8000-000000000001";

struct World {
    moto: MotoServer,
    kvs: KvsEmulator,
}

impl World {
    async fn start() -> World {
        World {
            moto: MotoServer::start().unwrap(),
            kvs: KvsEmulator::start(KvsClock::real()).await.unwrap(),
        }
    }

    fn originsig(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_originsig"))
            .args(args)
            .env_remove("ORIGINSIG_SECRET_ID")
            .env_remove("ORIGINSIG_KEY_FILE")
            .env_remove("ORIGINSIG_KVS_ARN")
            .envs(self.moto.env())
            .envs(self.kvs.env())
            .output()
            .unwrap()
    }

    /// `originsig` that must succeed; its stdout and stderr.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.originsig(args);
        assert!(out.status.success(), "originsig {args:?}: {}", text(&out));
        text(&out)
    }

    async fn recorded(&self, secret: &str) -> Option<String> {
        let described = moto_client(&self.moto)
            .await
            .describe_secret()
            .secret_id(secret)
            .send()
            .await
            .unwrap();
        described
            .tags()
            .iter()
            .find(|t| t.key() == Some(KVS_ARN_TAG))
            .and_then(|t| t.value().map(str::to_owned))
    }

    fn status(&self, secret: &str) -> Value {
        let out = self.originsig(&["status", "--secret-id", secret, "--output", "json"]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Each version's id and labels (not its age, which moves on).
    fn labels(&self, secret: &str) -> Vec<(Value, Value)> {
        let status = self.status(secret);
        let versions = status["versions"].as_array().unwrap();
        versions
            .iter()
            .map(|v| (v["versionId"].clone(), v["labels"].clone()))
            .collect()
    }

    async fn copy(&self, arn: &str) -> KvsKeyCopy {
        let loader = originsig_hmac_authorizer::aws::config_loader(Some("us-east-1".into()), TOOL_CALLS)
            .endpoint_url(self.kvs.endpoint())
            .credentials_provider(aws_sdk_cloudfrontkeyvaluestore::config::Credentials::for_tests());
        KvsKeyCopy::open_with(arn, loader).await.unwrap()
    }
}

/// A promotion right now: no propagation wait, the guard overridden (these tests are about
/// which store is written, not when).
const NOW: [&str; 4] = ["--wait", "0", "--force", "--authorizer-cache-ttl=1"];

/// `rotate --secret-id SECRET EXTRA…` promoting right now ([`NOW`]).
fn rotate_now<'a>(secret: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    [&["rotate", "--secret-id", secret][..], extra, &NOW].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_given_once_is_written_by_every_later_promotion() {
    let world = World::start().await;
    let (a, b) = (world.kvs.create_store("a"), world.kvs.create_store("b"));
    let secret = "originsig/recorded";

    // init with the store: the secret records it.
    let said = world.ok(&["init", "--secret-id", secret, "--kvs-arn", &a]);
    assert!(said.contains("now records key value store"), "{said}");
    assert_eq!(world.recorded(secret).await.as_deref(), Some(a.as_str()));

    // rotate WITHOUT --kvs-arn: the recorded store gets the new key, status compares it unasked.
    let said = world.ok(&rotate_now(secret, &[]));
    assert!(said.contains("recorded on the secret"), "{said}");
    let status = world.status(secret);
    assert_eq!(status["keyValueStore"]["arn"], a.as_str(), "{status:#}");
    assert_eq!(status["keyValueStore"]["matchesCurrent"], true, "{status:#}");

    // Another store is refused (usage, exit 2) and nothing changes: not the labels, not the record.
    let before = world.labels(secret);
    let out = world.originsig(&rotate_now(secret, &["--kvs-arn", &b]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--replace-recorded-kvs") && text(&out).contains(&a),
        "{}",
        text(&out)
    );
    assert_eq!(world.labels(secret), before);
    assert_eq!(world.kvs.value(&b, KVS_ITEM_KEY), None);
    // ... and so is "no store" on a write, and a rollback to another store.
    let out = world.originsig(&rotate_now(secret, &["--kvs-arn", "none"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = world.originsig(&["rollback", "--secret-id", secret, "--kvs-arn", &b]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(world.recorded(secret).await.as_deref(), Some(a.as_str()));
    // A dry run says what it would record, and records nothing.
    let said = world.ok(&[
        "rotate",
        "--secret-id",
        secret,
        "--kvs-arn",
        &b,
        "--replace-recorded-kvs",
        "--dry-run",
        "--force",
    ]);
    assert!(said.contains("would record key value store"), "{said}");
    // ... and, b being empty, that the run would only fill it (step 0), not rotate.
    assert!(
        said.contains("would only copy AWSCURRENT there and stop"),
        "{said}"
    );
    assert_eq!(world.recorded(secret).await.as_deref(), Some(a.as_str()));
    // The recorded store's dry run names the copy after the promotion.
    let said = world.ok(&["rotate", "--secret-id", secret, "--dry-run", "--force"]);
    assert!(
        said.contains(&format!("copied into key value store {a}")),
        "{said}"
    );
    // Reading another store is allowed, with a note.
    let out = world.originsig(&["status", "--secret-id", secret, "--kvs-arn", &b]);
    assert!(text(&out).contains("records key value store"), "{}", text(&out));

    // The edge moved to b: said so, b is recorded and written; later rotations write b.
    let said = world.ok(&rotate_now(secret, &["--kvs-arn", &b, "--replace-recorded-kvs"]));
    assert!(said.contains("in place of"), "{said}");
    assert_eq!(world.recorded(secret).await.as_deref(), Some(b.as_str()));
    world.ok(&rotate_now(secret, &[]));
    let status = world.status(secret);
    assert_eq!(status["keyValueStore"]["arn"], b.as_str(), "{status:#}");
    assert_eq!(status["keyValueStore"]["matchesCurrent"], true, "{status:#}");

    // No edge reads a store any more: cleared, and promotions stop writing.
    world.ok(&[
        "rollback",
        "--secret-id",
        secret,
        "--kvs-arn",
        "none",
        "--replace-recorded-kvs",
    ]);
    assert_eq!(world.recorded(secret).await.as_deref(), Some(""));
    assert_eq!(world.status(secret)["keyValueStore"], Value::Null);
    let out = world.originsig(&["rotate", "--secret-id", secret, "--replace-recorded-kvs"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_store_never_becomes_the_record() {
    let world = World::start().await;
    let secret = "originsig/wrong-store";
    world.ok(&["init", "--secret-id", secret]);
    // Well-formed, but no such store: the command fails, and the secret records nothing.
    let missing = "arn:aws:cloudfront::123456789012:key-value-store/does-not-exist";
    let out = world.originsig(&rotate_now(secret, &["--kvs-arn", missing]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(world.recorded(secret).await, None);
    // A dry run fails where the real run would.
    let out = world.originsig(&["rotate", "--secret-id", secret, "--kvs-arn", missing, "--dry-run"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    // A malformed ARN on init is refused before the secret is created.
    let out = world.originsig(&[
        "init",
        "--secret-id",
        "originsig/never",
        "--kvs-arn",
        "arn:aws:s3:::bucket",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let described = moto_client(&world.moto)
        .await
        .describe_secret()
        .secret_id("originsig/never")
        .send()
        .await;
    assert!(
        described.is_err(),
        "init created the secret before refusing the ARN"
    );
    // A record edited by hand into something that is no store ARN: named as the tag, with the fix.
    moto_client(&world.moto)
        .await
        .tag_resource()
        .secret_id(secret)
        .tags(
            aws_sdk_secretsmanager::types::Tag::builder()
                .key(KVS_ARN_TAG)
                .value("not-an-arn")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let out = world.originsig(&["status", "--secret-id", secret]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("the secret's tag {KVS_ARN_TAG}"))
            && text(&out).contains("--replace-recorded-kvs"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rotator_records_its_store_and_refuses_another() {
    let world = World::start().await;
    let (a, b) = (world.kvs.create_store("a"), world.kvs.create_store("b"));
    let client = moto_client(&world.moto).await;
    let secret = "originsig/rotator";
    let store = SecretsManagerStore::new(client, secret.to_owned());
    store
        .create(&originsig_hmac_authorizer::rotation::new_key(0).unwrap(), "test")
        .await
        .unwrap();
    let config_for = |arn: Option<&str>| {
        let arn = arn.map(str::to_owned);
        RotatorConfig::from_env(|name| {
            if name == "ORIGINSIG_KVS_ARN" {
                arn.clone()
            } else {
                None
            }
        })
        .unwrap()
    };
    let event = |step: &str, token: &str| RotationEvent {
        step: step.to_owned(),
        secret_id: secret.to_owned(),
        token: token.to_owned(),
    };
    let now = originsig_hmac_authorizer::clock::now_unix();
    let time_left = Duration::from_secs(600);

    // Configured with a, nothing recorded: recorded, and a gets the key.
    let mut with_a = config_for(Some(&a));
    with_a.kvs = Some(world.copy(&a).await);
    run_step(&store, &with_a, &event("createSecret", T1), now, time_left)
        .await
        .unwrap();
    assert_eq!(world.recorded(secret).await.as_deref(), Some(a.as_str()));
    assert!(world.kvs.value(&a, KVS_ITEM_KEY).is_some());

    // A rotator with another store, or none, fails before it promotes.
    let mut with_b = config_for(Some(&b));
    with_b.kvs = Some(world.copy(&b).await);
    for (config, name) in [(&with_b, "store b"), (&config_for(None), "no store")] {
        let refused = run_step(&store, config, &event("finishSecret", T1), now, time_left).await;
        let Err(error @ RotatorError::KvsRecordDiffers { .. }) = refused else {
            panic!("{name}: {refused:?}");
        };
        assert_eq!(error.kind(), "KeyValueStoreMismatch");
        assert!(error.to_string().contains("KeyValueStoreArn"), "{error}");
        let ring = originsig_hmac_authorizer::rotation::stored_ring(&store)
            .await
            .unwrap();
        assert!(ring.pending.is_some(), "{name}: nothing promoted");
    }
    assert_eq!(world.kvs.value(&b, KVS_ITEM_KEY), None);
    // The configured store finishes it.
    run_step(&store, &with_a, &event("finishSecret", T1), now, time_left)
        .await
        .unwrap();
    let ring = originsig_hmac_authorizer::rotation::stored_ring(&store)
        .await
        .unwrap();
    assert!(ring.pending.is_none());
}
