//! The KeyValueStore copy of the key (`store::kvs`, `edge_store`) against the KeyValueStore
//! emulator (`originsig_tests::kvs`) through the real AWS SDK: what the writer sends (SigV4A,
//! the account-prefixed host of the endpoint rules, `If-Match` = the described ETag), conflicts
//! retried with a fresh ETag and bounded, errors that say what to do; and the real `originsig`
//! binary: `init` writes the store, `status` compares it, a promotion whose store write failed is
//! finished by the next `rotate`.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::text;

use std::process::{Command, Output};

use originsig_core::{KeyId, SigningKey};
use originsig_hmac_authorizer::store::kvs::{KvsKeyCopy, Written, KVS_ITEM_KEY, MAX_WRITE_ATTEMPTS};
use originsig_hmac_authorizer::store::StoreError;
use originsig_hmac_authorizer::timing::TOOL_CALLS;
use originsig_tests::kvs::{InjectedError, KvsClock, KvsEmulator, ACCOUNT};
use serde_json::Value;

fn key(id: &str, byte: u8) -> SigningKey {
    SigningKey::new(KeyId::new(id).unwrap(), vec![byte; 32]).unwrap()
}

async fn copy(emulator: &KvsEmulator, arn: &str) -> KvsKeyCopy {
    let loader = originsig_hmac_authorizer::aws::config_loader(Some("us-east-1".into()), TOOL_CALLS)
        .endpoint_url(emulator.endpoint())
        .credentials_provider(aws_sdk_cloudfrontkeyvaluestore::config::Credentials::for_tests());
    KvsKeyCopy::open_with(arn, loader).await.unwrap()
}

#[tokio::test]
async fn the_writer_puts_the_secret_value_with_the_described_etag_signed_sigv4a() {
    let emulator = KvsEmulator::start(KvsClock::real()).await.unwrap();
    let arn = emulator.create_store("writer");
    let copy = copy(&emulator, &arn).await;
    assert_eq!(copy.read().await.unwrap().map(|k| k.is_ok()), None);

    let k1 = key("k1", 1);
    assert_eq!(copy.write(&k1).await.unwrap(), Written::Updated { attempts: 1 });
    assert_eq!(
        emulator.value(&arn, KVS_ITEM_KEY).as_deref(),
        Some(k1.to_secret_value().as_str()),
        "the item is exactly the secret value of SPEC.md §7"
    );
    // Idempotent: the same key again is not written.
    assert_eq!(copy.write(&k1).await.unwrap(), Written::Unchanged);

    let seen = emulator.seen();
    let puts: Vec<_> = seen.iter().filter(|r| r.operation == "PutKey").collect();
    assert_eq!(puts.len(), 1, "{seen:#?}");
    let describe = seen
        .iter()
        .rposition(|r| r.operation == "DescribeKeyValueStore")
        .unwrap();
    assert!(puts[0]
        .if_match
        .as_deref()
        .is_some_and(|e| e.starts_with("ETVEMU")));
    assert!(describe < seen.iter().position(|r| r.operation == "PutKey").unwrap());
    for request in &seen {
        let auth = request.authorization.as_deref().unwrap_or("");
        assert!(
            auth.starts_with("AWS4-ECDSA-P256-SHA256 "),
            "SigV4A expected: {auth}"
        );
        assert!(auth.contains("/cloudfront-keyvaluestore/aws4_request"), "{auth}");
        assert_eq!(request.region_set.as_deref(), Some("*"));
        let host = request.host.as_deref().unwrap_or("");
        assert!(host.starts_with(&format!("{ACCOUNT}.localhost:")), "{host}");
    }
}

#[tokio::test]
async fn a_conflict_is_written_again_with_a_fresh_etag_and_the_retries_are_bounded() {
    let emulator = KvsEmulator::start(KvsClock::real()).await.unwrap();
    let arn = emulator.create_store("conflict");
    let copy = copy(&emulator, &arn).await;
    copy.write(&key("k0", 9)).await.unwrap();
    // Two other writers, each right after a DescribeKeyValueStore: two conflicts, then success.
    emulator.race_next_describes(2);
    assert_eq!(
        copy.write(&key("k1", 1)).await.unwrap(),
        Written::Updated { attempts: 3 }
    );

    emulator.race_next_describes(MAX_WRITE_ATTEMPTS + 5);
    let error = copy.write(&key("k2", 2)).await.unwrap_err();
    let StoreError::KeyValueStore {
        action,
        problem,
        todo,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(*action, "PutKey");
    assert!(problem.starts_with("ConflictException"), "{problem}");
    assert!(todo.contains("run the command again"), "{todo}");
    let puts = emulator.seen().iter().filter(|r| r.operation == "PutKey").count();
    assert_eq!(puts, 1 + 3 + MAX_WRITE_ATTEMPTS);
}

#[tokio::test]
async fn errors_name_what_to_do() {
    let emulator = KvsEmulator::start(KvsClock::real()).await.unwrap();
    let arn = emulator.create_store("errors");
    let missing = copy(&emulator, &originsig_tests::kvs::store_arn("missing")).await;
    let error = missing.write(&key("k1", 1)).await.unwrap_err().to_string();
    assert!(
        error.contains("ResourceNotFoundException") && error.contains("--kvs-arn"),
        "{error}"
    );
    assert!(
        missing.read().await.is_err(),
        "a missing store is not an empty one"
    );

    let copy = copy(&emulator, &arn).await;
    emulator.fail_next_writes(1, InjectedError::AccessDenied);
    let error = copy.write(&key("k1", 1)).await.unwrap_err().to_string();
    assert!(error.contains("cloudfront-keyvaluestore:PutKey"), "{error}");
    assert!(!error.contains(&key("k1", 1).to_secret_value().to_string()));
}

/// Everything the binary printed in these tests (checked for key material).
static PRINTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn originsig(emulator: &KvsEmulator, args: &[&str]) -> Output {
    let out = run_originsig(emulator, args);
    PRINTED.lock().unwrap().push(text(&out));
    out
}

fn run_originsig(emulator: &KvsEmulator, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_originsig"))
        .args(args)
        .env_remove("ORIGINSIG_SECRET_ID")
        .env_remove("ORIGINSIG_KEY_FILE")
        .env_remove("ORIGINSIG_KVS_ARN")
        .envs(emulator.env())
        .envs([
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ])
        .output()
        .unwrap()
}

fn status(emulator: &KvsEmulator, file: &str, arn: &str) -> Value {
    let out = originsig(
        emulator,
        &["status", "--key-file", file, "--kvs-arn", arn, "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `init` writes the first key; a promotion whose store write fails leaves the store on the old
/// key (exit 3, the labels moved); `status` says so; the next `rotate` finishes the promotion
/// (and only that), and the guard then counts from the store write.
// Multi-threaded: the binary runs (blocking) while the emulator answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_promotion_is_finished_by_the_next_rotate() {
    let emulator = KvsEmulator::start(KvsClock::real()).await.unwrap();
    let arn = emulator.create_store("cli");
    let dir = std::env::temp_dir().join(format!("originsig-kvs-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keys.json");
    let _ = std::fs::remove_file(&file);
    let file = file.to_str().unwrap();

    let out = originsig(&emulator, &["init", "--key-file", file, "--kvs-arn", &arn]);
    assert!(out.status.success(), "{}", text(&out));
    let first = status(&emulator, file, &arn);
    assert_eq!(first["keyValueStore"]["matchesCurrent"], true, "{first:#}");
    let first_id = first["keyValueStore"]["keyId"].as_str().unwrap().to_owned();

    // The store fails the promotion's write, on every attempt the SDK makes.
    emulator.fail_next_writes(
        usize::try_from(TOOL_CALLS.max_attempts).unwrap(),
        InjectedError::InternalServer,
    );
    let out = originsig(
        &emulator,
        &[
            "rotate",
            "--key-file",
            file,
            "--kvs-arn",
            &arn,
            "--wait",
            "0",
            "--force",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("InternalServerException"), "{}", text(&out));
    let after = status(&emulator, file, &arn);
    assert_eq!(after["keyValueStore"]["matchesCurrent"], false, "{after:#}");
    assert_eq!(after["keyValueStore"]["keyId"], first_id.as_str());
    let text_status = originsig(&emulator, &["status", "--key-file", file, "--kvs-arn", &arn]);
    assert!(
        text(&text_status).contains("run `originsig rotate` to finish it"),
        "{}",
        text(&text_status)
    );

    // Run again: the promotion is finished, no new key is made.
    let out = originsig(
        &emulator,
        &["rotate", "--key-file", file, "--kvs-arn", &arn, "--wait", "0"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("finished the promotion"), "{}", text(&out));
    let done = status(&emulator, file, &arn);
    assert_eq!(done["keyValueStore"]["matchesCurrent"], true, "{done:#}");
    assert_ne!(done["keyValueStore"]["keyId"], first_id.as_str());
    assert!(done["rotationInProgress"] == false);
    // The guard counts from the store write: a plain rotate now is refused (exit 4).
    let out = originsig(
        &emulator,
        &["rotate", "--key-file", file, "--kvs-arn", &arn, "--wait", "0"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    // No key byte in anything printed (the values are in the key file and the store).
    let ring: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    for role in ["current", "previous"] {
        let secret = ring[role]["key"].as_str().unwrap();
        for printed in PRINTED.lock().unwrap().iter() {
            assert!(!printed.contains(secret), "{role} key material printed");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_malformed_arn_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_originsig"))
        .args([
            "status",
            "--key-file",
            "/nonexistent",
            "--kvs-arn",
            "arn:aws:s3:::bucket",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("key value store ARN"), "{}", text(&out));
}

/// The rotation Lambda: `finishSecret` copies the promoted key into the store; when that write
/// fails (labels moved, store old), the next `createSecret` finishes it before anything else and
/// then refuses a new key (the guard counts from the store write).
#[tokio::test]
async fn the_rotation_lambda_copies_the_promoted_key_and_finishes_an_interrupted_promotion() {
    use originsig_hmac_authorizer::rotation::RotationError;
    use originsig_hmac_authorizer::rotation_lambda::{run_step, RotationEvent, RotatorConfig, RotatorError};
    use originsig_hmac_authorizer::store::{KeyFileStore, KeyStore};
    use std::time::Duration;

    let emulator = KvsEmulator::start(KvsClock::real()).await.unwrap();
    let arn = emulator.create_store("lambda");
    let dir = std::env::temp_dir().join(format!("originsig-kvs-lambda-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys.json");
    let _ = std::fs::remove_file(&path);
    let store = KeyFileStore::new(path);
    store.create(&key("k0", 3), "test").await.unwrap();

    let mut config =
        RotatorConfig::from_env(|name| (name == "ORIGINSIG_KVS_ARN").then(|| arn.clone())).unwrap();
    assert_eq!(config.kvs_arn.as_deref(), Some(arn.as_str()));
    config.kvs = Some(copy(&emulator, &arn).await);
    let event = |step: &str, token: &str| RotationEvent {
        step: step.to_owned(),
        secret_id: "lambda".to_owned(),
        token: token.to_owned(),
    };
    let now = originsig_hmac_authorizer::clock::now_unix();
    let time_left = Duration::from_secs(600);

    // A new store is filled with AWSCURRENT first; then the key is staged.
    run_step(&store, &config, &event("createSecret", "t1"), now, time_left)
        .await
        .unwrap();
    assert_eq!(
        emulator.value(&arn, KVS_ITEM_KEY).as_deref(),
        Some(key("k0", 3).to_secret_value().as_str())
    );
    let staged = rotation_pending_value(&store).await;
    run_step(&store, &config, &event("finishSecret", "t1"), now, time_left)
        .await
        .unwrap();
    assert_eq!(
        emulator.value(&arn, KVS_ITEM_KEY),
        Some(staged),
        "finishSecret writes the promoted key"
    );

    // Next rotation, much later: the store fails the promotion's write.
    let later = now + 100_000;
    run_step(&store, &config, &event("createSecret", "t2"), later, time_left)
        .await
        .unwrap();
    let staged = rotation_pending_value(&store).await;
    emulator.fail_next_writes(
        usize::try_from(TOOL_CALLS.max_attempts).unwrap(),
        InjectedError::InternalServer,
    );
    let failed = run_step(&store, &config, &event("finishSecret", "t2"), later, time_left).await;
    assert!(failed
        .unwrap_err()
        .to_string()
        .contains("InternalServerException"));
    assert_ne!(emulator.value(&arn, KVS_ITEM_KEY).as_ref(), Some(&staged));

    // The next scheduled run finishes it, and refuses a new key for now.
    let refused = run_step(
        &store,
        &config,
        &event("createSecret", "t3"),
        later + 60,
        time_left,
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(RotatorError::Rotation(RotationError::TooEarly { .. }))
        ),
        "{refused:?}"
    );
    assert_eq!(emulator.value(&arn, KVS_ITEM_KEY), Some(staged));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The secret value of the key staged AWSPENDING.
async fn rotation_pending_value(store: &originsig_hmac_authorizer::store::KeyFileStore) -> String {
    let ring = originsig_hmac_authorizer::rotation::stored_ring(store)
        .await
        .unwrap();
    ring.pending.unwrap().key.unwrap().to_secret_value().to_string()
}
