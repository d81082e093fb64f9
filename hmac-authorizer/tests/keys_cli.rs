//! `originsig` (the real binary) and the rotation state machine against a real moto server:
//! init/rotate/status end to end, a rotation interrupted after each step and resumed, the guard
//! against a too-early rotation, and the local key-file store.

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

use originsig_hmac_authorizer::rotation;
use originsig_hmac_authorizer::store::{KeyStore, SecretsManagerStore};
use originsig_hmac_authorizer::timing::Timing;
use originsig_tests::moto::MotoServer;
use serde_json::Value;

fn originsig(moto: Option<&MotoServer>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_originsig"));
    command
        .args(args)
        .env_remove("ORIGINSIG_SECRET_ID")
        .env_remove("ORIGINSIG_KEY_FILE");
    if let Some(moto) = moto {
        command.envs(moto.env());
    }
    command.output().unwrap()
}

fn status(moto: &MotoServer, secret: &str) -> Value {
    let out = originsig(Some(moto), &["status", "--secret-id", secret, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn key_with(status: &Value, label: &str) -> Option<String> {
    status["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["labels"].as_array().unwrap().iter().any(|l| l == label))
        .and_then(|v| v["keyId"].as_str().map(str::to_owned))
}

#[test]
fn init_rotate_status_end_to_end() {
    let moto = MotoServer::start().unwrap();
    let out = originsig(Some(&moto), &["init", "--secret-id", "e2e/keys"]);
    assert!(out.status.success(), "{}", text(&out));
    let first = key_with(&status(&moto, "e2e/keys"), "AWSCURRENT").unwrap();

    let again = originsig(Some(&moto), &["init", "--secret-id", "e2e/keys"]);
    assert_eq!(again.status.code(), Some(3), "init never overwrites");
    assert!(text(&again).contains("already exists"));

    // A wait below the propagation wait needs --force (docs/operations.md).
    let out = originsig(
        Some(&moto),
        &["rotate", "--secret-id", "e2e/keys", "--wait", "1", "--force"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("next rotation safe at"));
    let after = status(&moto, "e2e/keys");
    let second = key_with(&after, "AWSCURRENT").unwrap();
    assert_ne!(first, second);
    assert_eq!(key_with(&after, "AWSPREVIOUS").as_deref(), Some(first.as_str()));
    assert!(after["lastPromotion"].as_u64().is_some());
    assert_eq!(after["rotationInProgress"], false);

    // The guard: a second rotation right away would drop `first` while edges may hold it.
    let early = originsig(Some(&moto), &["rotate", "--secret-id", "e2e/keys", "--wait", "1"]);
    assert_eq!(early.status.code(), Some(4), "{}", text(&early));
    assert!(
        text(&early).contains("too early") && text(&early).contains(&first),
        "{}",
        text(&early)
    );
    let forced = originsig(
        Some(&moto),
        &["rotate", "--secret-id", "e2e/keys", "--wait", "1", "--force"],
    );
    assert!(forced.status.success(), "{}", text(&forced));
    assert_eq!(
        key_with(&status(&moto, "e2e/keys"), "AWSPREVIOUS").as_deref(),
        Some(second.as_str())
    );
}

#[test]
fn interrupted_after_staging_resumes_the_same_key() {
    let moto = MotoServer::start().unwrap();
    assert!(originsig(Some(&moto), &["init", "--secret-id", "e2e/resume"])
        .status
        .success());
    let staged = originsig(
        Some(&moto),
        &["rotate", "--secret-id", "e2e/resume", "--wait", "30", "--no-wait"],
    );
    assert!(staged.status.success(), "{}", text(&staged));
    let pending = key_with(&status(&moto, "e2e/resume"), "AWSPENDING").unwrap();
    assert!(
        text(&staged).contains("`originsig rotate` again"),
        "{}",
        text(&staged)
    );

    // Running again resumes (no second pending key); a failing test stops before promotion.
    let failed = originsig(
        Some(&moto),
        &[
            "rotate",
            "--secret-id",
            "e2e/resume",
            "--wait",
            "0",
            "--force",
            "--test-url",
            "http://127.0.0.1:9/",
        ],
    );
    // The test URL does not answer: "no answer" is exit 3 in every subcommand (a wrong answer
    // would be 4); either way the promotion is held.
    assert_eq!(failed.status.code(), Some(3), "{}", text(&failed));
    assert!(
        text(&failed).contains("resuming") && text(&failed).contains("NOT promoted"),
        "{}",
        text(&failed)
    );
    let now = status(&moto, "e2e/resume");
    assert_eq!(key_with(&now, "AWSPENDING").as_deref(), Some(pending.as_str()));
    assert_eq!(now["versions"].as_array().unwrap().len(), 2);

    // The failed test holds the key: promoting it without the test needs --force, which says so.
    let done = originsig(
        Some(&moto),
        &["rotate", "--secret-id", "e2e/resume", "--wait", "0", "--force"],
    );
    assert!(done.status.success(), "{}", text(&done));
    assert!(
        text(&done).contains("--force overrode the recorded failed test"),
        "{}",
        text(&done)
    );
    assert_eq!(
        key_with(&status(&moto, "e2e/resume"), "AWSCURRENT").as_deref(),
        Some(pending.as_str())
    );
}

#[tokio::test]
async fn interrupted_during_promotion_finishes_idempotently() {
    let moto = MotoServer::start().unwrap();
    let store = SecretsManagerStore::new(common::moto_client(&moto).await, "e2e/promote".into());
    store
        .create(&rotation::new_key(1).unwrap(), "test")
        .await
        .unwrap();
    let timing = Timing::DEFAULT;
    let (pending, _) = rotation::start(&store, &timing, 1000, rotation::Overrides::NONE)
        .await
        .unwrap();
    // Crash after the label moved but before the time was recorded:
    store.promote(&pending.token).await.unwrap();
    let promoted = rotation::promote(&store, &pending.token, 2000).await.unwrap();
    assert_eq!(&promoted.new_key_id, pending.key.id());
    // And again (a retried finish): still fine, nothing changes.
    let again = rotation::promote(&store, &pending.token, 3000).await.unwrap();
    assert_eq!(again.new_key_id, promoted.new_key_id);
    // Resuming with start() after a full promotion makes a new rotation, not a duplicate.
    let ring = rotation::stored_ring(&store).await.unwrap();
    assert!(ring.pending.is_none());
}

#[test]
fn bad_secrets_get_clear_messages() {
    let moto = MotoServer::start().unwrap();
    let missing = originsig(Some(&moto), &["rotate", "--secret-id", "e2e/none", "--wait", "0"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(
        text(&missing).contains("does not exist") && text(&missing).contains("originsig init"),
        "{}",
        text(&missing)
    );

    // A human put a non-JSON value as AWSCURRENT.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = common::moto_client(&moto).await;
        client
            .create_secret()
            .name("e2e/garbage")
            .secret_string("hunter2")
            .send()
            .await
            .unwrap();
    });
    let garbage = originsig(
        Some(&moto),
        &["rotate", "--secret-id", "e2e/garbage", "--wait", "0"],
    );
    assert_eq!(garbage.status.code(), Some(3), "{}", text(&garbage));
    assert!(
        text(&garbage).contains("AWSCURRENT value is invalid"),
        "{}",
        text(&garbage)
    );
    assert!(!text(&garbage).contains("hunter2"), "never echo a secret value");
    let status = originsig(Some(&moto), &["status", "--secret-id", "e2e/garbage"]);
    assert!(text(&status).contains("INVALID"), "{}", text(&status));
    assert_eq!(
        status.status.code(),
        Some(3),
        "status reports a broken store with exit 3"
    );
    let url = "https://api.example.com/prod/x";
    let sign = originsig(Some(&moto), &["sign", "--secret-id", "e2e/garbage", "--url", url]);
    assert_eq!(sign.status.code(), Some(3), "{}", text(&sign));
    assert!(
        text(&sign).contains("AWSCURRENT is not a valid key"),
        "{}",
        text(&sign)
    );
    let header = "v1;t=1;k=a;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let verify = originsig(
        Some(&moto),
        &[
            "verify",
            "--secret-id",
            "e2e/garbage",
            "--url",
            url,
            "--header",
            header,
        ],
    );
    assert_eq!(verify.status.code(), Some(3), "{}", text(&verify));
    assert!(!text(&sign).contains("hunter2") && !text(&verify).contains("hunter2"));
}

/// Every subcommand's --help lists the exit codes, as the README says.
#[test]
fn every_subcommand_help_lists_the_exit_codes() {
    for command in [
        "init",
        "rotate",
        "status",
        "sign",
        "verify",
        "doctor",
        "timing",
        "routes",
        "routes audit",
        "routes attach",
    ] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let out = originsig(None, &args);
        assert!(out.status.success(), "{command}");
        assert!(
            text(&out).contains("Exit codes:"),
            "{command} --help: {}",
            text(&out)
        );
    }
}

#[test]
fn no_credentials_or_endpoint_is_an_aws_error_with_exit_3() {
    // Point at a closed port: the SDK cannot connect.
    let out = Command::new(env!("CARGO_BIN_EXE_originsig"))
        .args(["status", "--secret-id", "x", "--region", "us-east-1"])
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

#[test]
fn key_file_store_init_rotate_sign_verify() {
    let dir = std::env::temp_dir().join(format!("originsig-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keys.json");
    let _ = std::fs::remove_file(&file);
    let f = file.to_str().unwrap();
    assert!(originsig(None, &["init", "--key-file", f]).status.success());
    let header = String::from_utf8(
        originsig(
            None,
            &[
                "sign",
                "--key-file",
                f,
                "--url",
                "https://api.example.com/prod/a%20b?y=1&x=2",
            ],
        )
        .stdout,
    )
    .unwrap();
    let ok = originsig(
        None,
        &[
            "verify",
            "--key-file",
            f,
            "--url",
            "https://api.example.com/prod/a%20b?x=2&y=1",
            "--header",
            header.trim(),
        ],
    );
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        originsig(None, &["rotate", "--key-file", f, "--wait", "0", "--force"])
            .status
            .success()
    );
    // The old key still verifies as AWSPREVIOUS.
    let previous = originsig(
        None,
        &[
            "verify",
            "--key-file",
            f,
            "--url",
            "https://api.example.com/prod/a%20b?y=1&x=2",
            "--header",
            header.trim(),
        ],
    );
    assert!(text(&previous).contains("AWSPREVIOUS"), "{}", text(&previous));
    // Expired: verify later than the window.
    let at = (header
        .split(";t=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse::<u64>()
        .unwrap()
        + 3600)
        .to_string();
    let late = originsig(
        None,
        &[
            "verify",
            "--key-file",
            f,
            "--url",
            "https://api.example.com/prod/a%20b?y=1&x=2",
            "--header",
            header.trim(),
            "--at",
            &at,
        ],
    );
    assert_eq!(late.status.code(), Some(1));
    assert!(
        text(&late).contains("denied: expired") && text(&late).contains("past the 60s window"),
        "{}",
        text(&late)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
