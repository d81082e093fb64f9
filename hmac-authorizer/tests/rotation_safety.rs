//! Rotation that cannot be talked into a mistake (issue 21.6, 23.2, 23.3), with the real
//! `originsig` binary against a real moto server: an invalid AWSPENDING is a store problem,
//! `--replace-pending` does not skip the guard, `--force` names what it overrode, a wait below the
//! propagation wait needs `--force`, a failed rotation test holds the promotion, `--dry-run` writes
//! nothing, `rollback` moves AWSCURRENT back, and a replica that does not hold the new key stops
//! the promotion.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_secretsmanager::types::ReplicaRegionType;
use aws_sdk_secretsmanager::Client;
use common::{moto_client, originsig, text};
use originsig_core::KeyRole;
use originsig_hmac_authorizer::rotation::{self, Overrides, RotationError};
use originsig_hmac_authorizer::store::{KeyStore, SecretsManagerStore, FAILED_TEST_TAG};
use originsig_hmac_authorizer::timing::Timing;
use originsig_tests::fault_proxy::{Fault, FaultProxy};
use originsig_tests::moto::MotoServer;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

async fn secret(moto: &MotoServer, name: &str) -> (Client, SecretsManagerStore) {
    let client = moto_client(moto).await;
    let store = SecretsManagerStore::new(client.clone(), name.into());
    store
        .create(&rotation::new_key(now()).unwrap(), "test")
        .await
        .unwrap();
    (client, store)
}

/// One rotation done through the library, promoted now: the guard is armed afterwards.
async fn rotate_once(store: &SecretsManagerStore) {
    let (pending, _) = rotation::start(store, &Timing::DEFAULT, now(), Overrides::NONE)
        .await
        .unwrap();
    rotation::promote(store, &pending.token, now()).await.unwrap();
}

async fn put_invalid_pending(client: &Client, name: &str) {
    client
        .put_secret_value()
        .secret_id(name)
        .secret_string("not a key")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn status_with_an_invalid_pending_key_is_a_store_problem() {
    let moto = MotoServer::start().unwrap();
    let (client, _) = secret(&moto, "safety/status").await;
    put_invalid_pending(&client, "safety/status").await;
    let out = originsig(&moto, &["status", "--secret-id", "safety/status"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("--replace-pending"), "{}", text(&out));
    assert!(
        !text(&out).contains("a rotation is in progress"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn replace_pending_replaces_but_keeps_the_guard_and_force_names_what_it_overrode() {
    let moto = MotoServer::start().unwrap();
    let (client, store) = secret(&moto, "safety/split").await;
    rotate_once(&store).await;
    put_invalid_pending(&client, "safety/split").await;
    let args = ["rotate", "--secret-id", "safety/split", "--no-wait"];

    let plain = originsig(&moto, &args);
    assert_eq!(plain.status.code(), Some(4), "{}", text(&plain));
    assert!(text(&plain).contains("--replace-pending"), "{}", text(&plain));

    // Replacing the invalid key does not skip the guard that protects the previous key.
    let replace = originsig(&moto, &[&args[..], &["--replace-pending"]].concat());
    assert_eq!(replace.status.code(), Some(4), "{}", text(&replace));
    assert!(text(&replace).contains("too early"), "{}", text(&replace));

    let forced = originsig(&moto, &[&args[..], &["--replace-pending", "--force"]].concat());
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert!(
        text(&forced).contains("--force overrode the rotation guard"),
        "{}",
        text(&forced)
    );
    let ring = rotation::stored_ring(&store).await.unwrap();
    assert!(ring.pending.unwrap().key.is_ok());
}

#[tokio::test]
async fn a_wait_below_the_propagation_wait_needs_force_and_stages_nothing() {
    let moto = MotoServer::start().unwrap();
    let (_, store) = secret(&moto, "safety/wait").await;
    let refused = originsig(&moto, &["rotate", "--secret-id", "safety/wait", "--wait", "0"]);
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused));
    assert!(text(&refused).contains("propagation wait"), "{}", text(&refused));
    assert!(rotation::stored_ring(&store).await.unwrap().pending.is_none());

    let forced = originsig(
        &moto,
        &["rotate", "--secret-id", "safety/wait", "--wait", "0", "--force"],
    );
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert!(
        text(&forced).contains("--force overrode the propagation wait"),
        "{}",
        text(&forced)
    );
    assert!(text(&forced).contains("rotated: AWSCURRENT is now"));
}

/// An API that lets everything through (200 to any request): the direct check must fail on it.
fn open_api() -> u16 {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 8192];
            let _ = stream.read(&mut buffer);
            let _ =
                stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nopen");
        }
    });
    port
}

#[tokio::test]
async fn a_failed_rotation_test_holds_the_promotion_until_it_passes_or_force() {
    let moto = MotoServer::start().unwrap();
    let (_, store) = secret(&moto, "safety/hold").await;
    let port = open_api();
    let url = format!("http://127.0.0.1:{port}/health");
    let failed = originsig(
        &moto,
        &[
            "rotate",
            "--secret-id",
            "safety/hold",
            "--wait",
            "0",
            "--force",
            "--direct-url",
            &url,
        ],
    );
    assert_eq!(failed.status.code(), Some(4), "{}", text(&failed));
    assert!(text(&failed).contains("not protected"), "{}", text(&failed));
    let pending = rotation::stored_ring(&store).await.unwrap().pending.unwrap();
    assert_eq!(
        store.failed_test().await.unwrap().as_deref(),
        Some(pending.version_id.as_str()),
        "the failure is recorded in {FAILED_TEST_TAG} with the pending version"
    );

    // What a rerun without the test URLs would do: refused, and --force says what it overrides.
    let plan = originsig(&moto, &["rotate", "--secret-id", "safety/hold", "--dry-run"]);
    assert_eq!(plan.status.code(), Some(4), "{}", text(&plan));
    assert!(
        text(&plan).contains("refused:  a rotation test failed"),
        "{}",
        text(&plan)
    );
    let plan = originsig(
        &moto,
        &["rotate", "--secret-id", "safety/hold", "--dry-run", "--force"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(
        text(&plan).contains("--force overrode the recorded failed test"),
        "{}",
        text(&plan)
    );

    // The library: held without a passing test; a passing test lifts the hold.
    let resumed = match rotation::plan(&store, &Timing::DEFAULT, now(), Overrides::NONE)
        .await
        .unwrap()
        .staging
    {
        rotation::Staging::Resume(pending) => pending,
        other => panic!("{other:?}"),
    };
    let wait = Timing::DEFAULT.propagation_wait();
    let mut overridden = Vec::new();
    let held = rotation::promotion_checks(
        &store,
        &resumed,
        &Timing::DEFAULT,
        wait,
        false,
        false,
        &mut overridden,
    )
    .await;
    assert!(
        matches!(held, Err(RotationError::HeldByFailedTest { .. })),
        "{held:?}"
    );
    rotation::promotion_checks(
        &store,
        &resumed,
        &Timing::DEFAULT,
        wait,
        true,
        false,
        &mut overridden,
    )
    .await
    .unwrap();
    assert_eq!(store.failed_test().await.unwrap(), None);
    assert!(overridden.is_empty());
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let moto = MotoServer::start().unwrap();
    let (_, store) = secret(&moto, "safety/dry").await;
    rotate_once(&store).await;
    // Every write is dropped on the way: a dry run that wrote would fail with exit 3.
    let proxy = FaultProxy::start(moto.endpoint()).await.unwrap();
    for write in [
        "PutSecretValue",
        "UpdateSecretVersionStage",
        "TagResource",
        "CreateSecret",
    ] {
        proxy.set(Some(write), Fault::Drop);
    }
    let before = rotation::stored_ring(&store).await.unwrap();
    let promoted_before = store.last_promotion().await.unwrap();
    // (--force: the guard armed by the rotation above is overridden, so the plan goes through.)
    for args in [&["rotate", "--force"][..], &["rollback"][..]] {
        let command = args[0];
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_originsig"))
            .args(args)
            .args(["--secret-id", "safety/dry", "--dry-run"])
            .envs(moto.env())
            .env(
                "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                format!("http://127.0.0.1:{}", proxy.port),
            )
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{command}: {}", text(&out));
        let printed = text(&out);
        assert!(printed.contains("dry run: nothing is changed"), "{printed}");
        assert!(printed.contains("guard:"), "{command}: {printed}");
    }
    let after = rotation::stored_ring(&store).await.unwrap();
    let ids = |r: &rotation::StoredRing| {
        [&r.current, &r.pending, &r.previous].map(|v| v.as_ref().map(|v| v.version_id.clone()))
    };
    assert_eq!(ids(&before), ids(&after));
    assert_eq!(store.last_promotion().await.unwrap(), promoted_before);
}

#[tokio::test]
async fn rollback_moves_current_back_and_arms_the_guard() {
    let moto = MotoServer::start().unwrap();
    let (_, store) = secret(&moto, "safety/rollback").await;
    let none = originsig(&moto, &["rollback", "--secret-id", "safety/rollback"]);
    assert_eq!(none.status.code(), Some(4), "{}", text(&none));
    assert!(text(&none).contains("no AWSPREVIOUS"), "{}", text(&none));

    let first = rotation::stored_ring(&store).await.unwrap().current.unwrap();
    rotate_once(&store).await;
    let second = rotation::stored_ring(&store).await.unwrap().current.unwrap();
    let out = originsig(&moto, &["rollback", "--secret-id", "safety/rollback"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let first_id = first.key.as_ref().unwrap().id().to_string();
    let second_id = second.key.as_ref().unwrap().id().to_string();
    assert!(
        text(&out).contains(&format!("rolled back: AWSCURRENT is now {first_id}")),
        "{}",
        text(&out)
    );
    let ring = rotation::stored_ring(&store).await.unwrap();
    assert_eq!(ring.current.unwrap().version_id, first.version_id);
    assert_eq!(ring.previous.unwrap().version_id, second.version_id);
    assert!(text(&out).contains(&format!("AWSPREVIOUS is {second_id}")));
    // The next rotation would drop the key just demoted: the guard waits for it.
    let early = rotation::start(&store, &Timing::DEFAULT, now(), Overrides::NONE).await;
    assert!(matches!(early, Err(RotationError::TooEarly { .. })), "{early:?}");
}

#[tokio::test]
async fn replicas_are_shown_and_one_without_the_key_stops_the_promotion() {
    let moto = MotoServer::start().unwrap();
    let client = moto_client(&moto).await;
    // A healthy replica: InSync, the version readable there.
    client
        .create_secret()
        .name("safety/replicated")
        .secret_string(rotation::new_key(now()).unwrap().to_secret_value().as_str())
        .add_replica_regions(ReplicaRegionType::builder().region("eu-west-1").build())
        .send()
        .await
        .unwrap();
    let status = originsig(&moto, &["status", "--secret-id", "safety/replicated"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    assert!(
        text(&status).contains("replica eu-west-1: InSync"),
        "{}",
        text(&status)
    );
    let rotated = originsig(
        &moto,
        &[
            "rotate",
            "--secret-id",
            "safety/replicated",
            "--wait",
            "0",
            "--force",
        ],
    );
    assert_eq!(rotated.status.code(), Some(0), "{}", text(&rotated));

    // A failed replica (a secret of that name already exists in the region): the rotation stops
    // before promoting, naming the region.
    let other_region = {
        let config = client
            .config()
            .to_builder()
            .region(aws_sdk_secretsmanager::config::Region::new("eu-west-2"))
            .build();
        Client::from_conf(config)
    };
    other_region
        .create_secret()
        .name("safety/stuck")
        .secret_string("someone else's")
        .send()
        .await
        .unwrap();
    client
        .create_secret()
        .name("safety/stuck")
        .secret_string(rotation::new_key(now()).unwrap().to_secret_value().as_str())
        .add_replica_regions(ReplicaRegionType::builder().region("eu-west-2").build())
        .send()
        .await
        .unwrap();
    let status = originsig(&moto, &["status", "--secret-id", "safety/stuck"]);
    assert!(
        text(&status).contains("replica eu-west-2: Failed"),
        "{}",
        text(&status)
    );
    let stuck = originsig(
        &moto,
        &["rotate", "--secret-id", "safety/stuck", "--wait", "0", "--force"],
    );
    assert_eq!(stuck.status.code(), Some(4), "{}", text(&stuck));
    assert!(
        text(&stuck).contains("the replica in eu-west-2"),
        "{}",
        text(&stuck)
    );
    let store = SecretsManagerStore::new(client.clone(), "safety/stuck".into());
    let ring = rotation::stored_ring(&store).await.unwrap();
    assert!(ring.pending.is_some(), "not promoted");
    let behind = rotation::replicas_hold(
        &store,
        &ring.pending.unwrap().version_id,
        KeyRole::Pending,
        "the new key",
    )
    .await;
    assert!(
        matches!(behind, Err(RotationError::ReplicaBehind { .. })),
        "{behind:?}"
    );
}
