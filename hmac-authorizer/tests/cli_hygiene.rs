//! The real `originsig`, `hmac-authorizer` and `key-rotator` binaries, the way a person runs
//! them: a closed pipe never panics them, one situation gives one exit code in every subcommand,
//! each `--help` lists only its own codes, the environment never silently conflicts with a flag,
//! `--url` is used as written or refused with how to write it, `--output json` parses, and the
//! Lambda binaries run by hand say what they are.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::text;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use originsig_hmac_authorizer::cli::exit::{codes, Exit};
use originsig_hmac_authorizer::cli::JSON_FIELDS;
use originsig_tests::moto::MotoServer;
use serde_json::Value;

const ORIGINSIG: &str = env!("CARGO_BIN_EXE_originsig");

/// `originsig` with no key variables from the caller's environment, plus `env`.
fn command(args: &[&str], env: &[(&str, String)]) -> Command {
    let mut command = Command::new(ORIGINSIG);
    command
        .args(args)
        .env_remove("ORIGINSIG_SECRET_ID")
        .env_remove("ORIGINSIG_KEY_FILE");
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

fn run(args: &[&str], env: &[(&str, String)]) -> Output {
    command(args, env).output().unwrap()
}

/// A stdout whose reader is already gone: every write fails with EPIPE, as after `| head -1`.
fn closed_pipe() -> Stdio {
    let (write, read) = UnixStream::pair().unwrap();
    drop(read);
    Stdio::from(OwnedFd::from(write))
}

/// Runs with stdout (or stderr) closed; the command must finish with `code` and no panic.
fn assert_no_panic_on_closed_pipe(args: &[&str], env: &[(&str, String)], code: i32) {
    assert_no_panic_on_closed_stdout(args, env, code);
    let out = command(args, env)
        .stdout(Stdio::piped())
        .stderr(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(code), "{args:?} with stderr closed");
}

/// Runs with stdout closed; the command must finish with `code` and no panic.
fn assert_no_panic_on_closed_stdout(args: &[&str], env: &[(&str, String)], code: i32) {
    let out = command(args, env)
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?} with stdout closed: {stderr}"
    );
}

/// A fresh directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("originsig-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A key file with a first key.
fn key_file(dir: &Path) -> String {
    let file = dir.join("keys.json");
    let f = file.to_str().unwrap().to_owned();
    let out = run(&["init", "--key-file", &f], &[]);
    assert!(out.status.success(), "{}", text(&out));
    f
}

/// An HTTP server on 127.0.0.1 that answers every request with `status` (a stand-in API whose
/// authorizer denies everything), for `doctor`.
fn denying_api(status: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status} Forbidden\r\ncontent-type: application/json\r\ncontent-length: 23\r\nconnection: close\r\n\r\n{{\"message\":\"Forbidden\"}}"
            );
        }
    });
    format!("http://{address}/prod/health")
}

#[test]
fn a_closed_pipe_never_panics_any_subcommand() {
    let dir = temp_dir("pipe");
    let f = key_file(&dir);
    let url = "https://api.example.com/prod/items?b=2&a=1";
    let header = String::from_utf8(run(&["sign", "--key-file", &f, "--url", url], &[]).stdout).unwrap();
    let header = header.trim();
    let api = denying_api(403);
    for (args, code) in [
        (vec!["timing"], 0),
        (vec!["timing", "--json"], 0),
        (vec!["timing", "--output", "json"], 0),
        (vec!["status", "--key-file", &f], 0),
        (vec!["status", "--key-file", &f, "--json"], 0),
        (
            vec![
                "sign",
                "--key-file",
                &f,
                "--url",
                url,
                "--curl",
                "--show-canonical",
            ],
            0,
        ),
        (
            vec!["verify", "--key-file", &f, "--url", url, "--header", header],
            0,
        ),
        (
            vec![
                "verify",
                "--key-file",
                &f,
                "--url",
                "https://api.example.com/other",
                "--header",
                header,
            ],
            1,
        ),
        (
            vec![
                "verify",
                "--key-file",
                &f,
                "--url",
                url,
                "--header",
                header,
                "--output",
                "json",
            ],
            0,
        ),
        (
            vec![
                "doctor",
                "--key-file",
                &f,
                "--direct-url",
                &api,
                "--origin-path",
                "/prod",
            ],
            4,
        ),
        (vec!["completions", "bash"], 0),
        (vec!["man"], 0),
        (vec!["--help"], 0),
        (vec!["rotate", "--help"], 0),
        (vec!["sign", "--key-file", &f, "--url", "https://h/a b"], 2),
    ] {
        assert_no_panic_on_closed_pipe(&args, &[], code);
    }
    // Last: rotate changes the file (the new key is staged and promoted even with stdout closed).
    assert_no_panic_on_closed_stdout(&["rotate", "--key-file", &f, "--wait", "0", "--force"], &[], 0);
    let status = run(&["status", "--key-file", &f, "--json"], &[]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(
        status["lastPromotion"].as_u64().is_some(),
        "the rotation completed: {status}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn routes_audit_and_init_survive_a_closed_pipe() {
    let moto = MotoServer::start().unwrap();
    let env = moto.env();
    // init creates: once per closed stream.
    assert_no_panic_on_closed_stdout(&["init", "--secret-id", "pipe/keys"], &env, 0);
    let out = command(&["init", "--secret-id", "pipe/other"], &env)
        .stderr(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_no_panic_on_closed_pipe(
        &["status", "--secret-id", "pipe/keys", "--output", "json"],
        &env,
        0,
    );
    // A real API: the table and the verdict are lost, the code stays 0.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let api = rt.block_on(async {
        let config = originsig_hmac_authorizer::aws::config_loader(
            Some("us-east-1".into()),
            originsig_hmac_authorizer::timing::TOOL_CALLS,
        )
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::for_tests())
        .load()
        .await;
        aws_sdk_apigatewayv2::Client::new(&config)
            .create_api()
            .name("pipe")
            .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
            .send()
            .await
            .unwrap()
            .api_id
            .unwrap()
    });
    assert_no_panic_on_closed_pipe(&["routes", "audit", "--api-id", &api], &env, 0);
    assert_no_panic_on_closed_pipe(
        &["routes", "audit", "--api-id", &api, "--output", "json"],
        &env,
        0,
    );
    // An unknown API: the error goes to stderr, the code stays 3.
    assert_no_panic_on_closed_pipe(&["routes", "audit", "--api-id", "zzzzzzzzzz"], &env, 3);
}

#[test]
fn an_endpoint_that_does_not_answer_is_exit_3_in_every_subcommand() {
    let dir = temp_dir("unreachable");
    let f = key_file(&dir);
    let closed = "http://127.0.0.1:9".to_owned();
    let env = [
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", closed.clone()),
        ("AWS_ENDPOINT_URL_APIGATEWAYV2", closed.clone()),
        ("AWS_ACCESS_KEY_ID", "x".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "x".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_MAX_ATTEMPTS", "1".to_owned()),
    ];
    let url = "https://api.example.com/prod/x";
    for args in [
        vec!["status", "--secret-id", "x"],
        vec!["sign", "--secret-id", "x", "--url", url],
        vec!["routes", "audit", "--api-id", "a1b2c3"],
        // The deployment's own URL (doctor) is an endpoint too.
        vec![
            "doctor",
            "--key-file",
            &f,
            "--direct-url",
            "http://127.0.0.1:9/prod/health",
            "--origin-path",
            "/prod",
        ],
        // So is a rotation test's URL: the test got no answer, it did not fail.
        vec![
            "rotate",
            "--key-file",
            &f,
            "--force",
            "--wait",
            "0",
            "--test-url",
            "http://127.0.0.1:9/health",
        ],
    ] {
        let out = run(&args, &env);
        assert_eq!(
            out.status.code(),
            Some(Exit::Aws.code().into()),
            "{args:?}: {}",
            text(&out)
        );
        assert!(text(&out).contains("no answer"), "{args:?}: {}", text(&out));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The codes listed under "Exit codes:" in a help text.
fn listed_codes(help: &str) -> Vec<u8> {
    help.split("Exit codes:")
        .nth(1)
        .unwrap_or_else(|| panic!("no exit codes in:\n{help}"))
        .lines()
        .filter_map(|l| l.strip_prefix("  ")?.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn each_help_lists_only_the_codes_its_subcommand_can_return() {
    let expected = |table: &[(Exit, &str)]| table.iter().map(|(e, _)| e.code()).collect::<Vec<_>>();
    for (command, table) in [
        ("init", codes::INIT),
        ("rotate", codes::ROTATE),
        ("rollback", codes::ROLLBACK),
        ("status", codes::STATUS),
        ("sign", codes::SIGN),
        ("verify", codes::VERIFY),
        ("doctor", codes::DOCTOR),
        ("timing", codes::TIMING),
        ("routes", codes::ROUTES),
        ("routes audit", codes::ROUTES),
        ("routes attach", codes::ROUTES),
        ("completions", codes::COMPLETIONS),
        ("man", codes::COMPLETIONS),
    ] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let out = run(&args, &[]);
        assert!(out.status.success(), "{command}");
        assert_eq!(listed_codes(&text(&out)), expected(table), "{command} --help");
    }
    // The facts behind the tables.
    assert_eq!(expected(codes::TIMING), [0, 2], "timing touches no store");
    assert_eq!(
        expected(codes::SIGN),
        [0, 2, 3],
        "sign neither denies nor refuses"
    );
    assert_eq!(listed_codes(&text(&run(&["--help"], &[]))), [0, 1, 2, 3, 4]);
}

#[test]
fn a_flag_beats_the_environment_and_a_conflict_names_the_variables() {
    let dir = temp_dir("env");
    let f = key_file(&dir);
    let url = "https://api.example.com/prod/x";
    // ORIGINSIG_SECRET_ID exported (from another shell session) and --key-file typed.
    let exported = [("ORIGINSIG_SECRET_ID", "originsig/prod".to_owned())];
    let out = run(&["sign", "--key-file", &f, "--url", url], &exported);
    assert!(out.status.success(), "{}", text(&out));
    // The variable alone is used.
    let from_env = run(&["status"], &[("ORIGINSIG_KEY_FILE", f.clone())]);
    assert!(from_env.status.success(), "{}", text(&from_env));
    // Both variables, no flag: refused, naming both.
    let both = run(
        &["status"],
        &[
            ("ORIGINSIG_KEY_FILE", f.clone()),
            ("ORIGINSIG_SECRET_ID", "originsig/prod".to_owned()),
        ],
    );
    assert_eq!(both.status.code(), Some(2), "{}", text(&both));
    assert!(
        text(&both).contains("ORIGINSIG_SECRET_ID") && text(&both).contains("ORIGINSIG_KEY_FILE"),
        "{}",
        text(&both)
    );
    // Both flags typed: clap refuses, naming the flags.
    let flags = run(&["status", "--key-file", &f, "--secret-id", "x"], &[]);
    assert_eq!(flags.status.code(), Some(2));
    let none = run(&["status"], &[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none).contains("--secret-id") && text(&none).contains("--key-file"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_url_and_method_are_used_as_written_or_refused_with_how_to_write_them() {
    let dir = temp_dir("url");
    let f = key_file(&dir);
    let sign = |method: &str, url: &str| {
        run(
            &["sign", "--key-file", &f, "-X", method, "--url", url, "--curl"],
            &[],
        )
    };

    let lower = sign("get", "https://h.example/a");
    assert_eq!(lower.status.code(), Some(2), "{}", text(&lower));
    assert!(
        text(&lower).contains("case-sensitive") && text(&lower).contains("-X GET"),
        "{}",
        text(&lower)
    );

    let space = sign("GET", "https://h.example/a b");
    assert_eq!(space.status.code(), Some(2), "{}", text(&space));
    assert!(
        text(&space).contains("https://h.example/a%20b"),
        "{}",
        text(&space)
    );

    // A backslash: a URL parser reads it as `/`; it was signed as path `/` before.
    let backslash = sign("GET", r"https://h.example\a\b");
    assert_eq!(backslash.status.code(), Some(2), "{}", text(&backslash));
    assert!(text(&backslash).contains("backslash"), "{}", text(&backslash));

    // The encoded form is accepted, and --curl prints exactly it.
    let encoded = sign("GET", "https://h.example/a%20b");
    assert!(encoded.status.success(), "{}", text(&encoded));
    assert!(
        String::from_utf8_lossy(&encoded.stdout)
            .trim_end()
            .ends_with("'https://h.example/a%20b'"),
        "{}",
        text(&encoded)
    );
    // --help says what happens.
    let help = text(&run(&["sign", "--help"], &[]));
    assert!(
        help.contains("percent-encoded") && help.contains("refused"),
        "{help}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The documented fields of `subcommand`'s JSON are all there.
fn assert_documented_fields(subcommand: &str, doc: &Value) {
    let fields: Vec<&str> = JSON_FIELDS
        .iter()
        .filter(|(c, _, _)| *c == subcommand)
        .map(|(_, f, _)| *f)
        .collect();
    assert!(!fields.is_empty(), "{subcommand}: no documented fields");
    for field in fields {
        assert!(doc.get(field).is_some(), "{subcommand}: no {field} in {doc}");
    }
}

#[test]
fn output_json_parses_and_has_the_documented_fields() {
    let dir = temp_dir("json");
    let f = key_file(&dir);
    let json = |args: &[&str], code: i32| -> Value {
        let out = run(args, &[]);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", text(&out)))
    };
    let status = json(&["status", "--key-file", &f, "--output", "json"], 0);
    assert_documented_fields("status", &status);
    assert_eq!(
        status,
        json(&["status", "--key-file", &f, "--json"], 0),
        "--json is --output json"
    );

    let url = "https://api.example.com/prod/items";
    let header = String::from_utf8(run(&["sign", "--key-file", &f, "--url", url], &[]).stdout).unwrap();
    let allowed = json(
        &[
            "verify",
            "--key-file",
            &f,
            "--url",
            url,
            "--header",
            header.trim(),
            "--output",
            "json",
        ],
        0,
    );
    assert_documented_fields("verify", &allowed);
    assert_eq!(allowed["decision"], "allow");
    assert_eq!(allowed["role"], "AWSCURRENT");
    let denied = json(
        &[
            "verify",
            "--key-file",
            &f,
            "--url",
            "https://api.example.com/prod/other",
            "--header",
            header.trim(),
            "--output",
            "json",
        ],
        1,
    );
    assert_eq!(denied["decision"], "deny");
    assert_eq!(denied["reason"], "bad_signature");
    assert!(denied["canonical"].as_str().unwrap().contains("/prod/other"));

    let timing = json(&["timing", "--output", "json"], 0);
    assert!(timing["propagationWaitSecs"].as_u64().is_some(), "{timing}");
    assert_eq!(timing, json(&["timing", "--json"], 0));

    let api = denying_api(403);
    let doctor = json(
        &[
            "doctor",
            "--key-file",
            &f,
            "--direct-url",
            &api,
            "--origin-path",
            "/prod",
            "--output",
            "json",
        ],
        4,
    );
    assert_documented_fields("doctor", &doctor);
    assert_eq!(doctor["verdict"], "none");
    assert_eq!(doctor["unsignedRefused"], true);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_secret_arn_sets_the_region() {
    let moto = MotoServer::start().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The secret lives in eu-west-1; the environment (the profile) says us-east-1.
    let arn = rt.block_on(async {
        let config = originsig_hmac_authorizer::aws::config_loader(
            Some("eu-west-1".into()),
            originsig_hmac_authorizer::timing::TOOL_CALLS,
        )
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::for_tests())
        .load()
        .await;
        let client = aws_sdk_secretsmanager::Client::new(&config);
        let ring = std::fs::read_to_string(originsig_tests::repo::test_keyring()).unwrap();
        let ring: Value = serde_json::from_str(&ring).unwrap();
        client
            .create_secret()
            .name("originsig/eu")
            .secret_string(ring["current"].to_string())
            .send()
            .await
            .unwrap()
            .arn
            .unwrap()
    });
    assert!(arn.contains(":eu-west-1:"), "{arn}");
    let env = moto.env();
    let by_arn = run(&["status", "--secret-id", &arn], &env);
    assert!(by_arn.status.success(), "{}", text(&by_arn));
    // By name the environment's region decides: not there.
    let by_name = run(&["status", "--secret-id", "originsig/eu"], &env);
    assert_eq!(by_name.status.code(), Some(3), "{}", text(&by_name));
    let contradicting = run(&["status", "--secret-id", &arn, "--region", "us-east-1"], &env);
    assert_eq!(contradicting.status.code(), Some(2), "{}", text(&contradicting));
    assert!(
        text(&contradicting).contains("eu-west-1"),
        "{}",
        text(&contradicting)
    );

    // --profile (global: before or after the subcommand) picks credentials and region from the
    // profile files, with nothing in the environment.
    let dir = temp_dir("profile");
    std::fs::write(dir.join("config"), "[profile ops]\nregion = eu-west-1\n").unwrap();
    std::fs::write(
        dir.join("credentials"),
        "[ops]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let files = || -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto.endpoint()),
            ("AWS_CONFIG_FILE", dir.join("config").display().to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.join("credentials").display().to_string(),
            ),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    };
    for args in [
        vec!["--profile", "ops", "status", "--secret-id", "originsig/eu"],
        vec!["status", "--secret-id", "originsig/eu", "--profile", "ops"],
    ] {
        let out = clean(&args, &files());
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    // Without it: no credentials, said so by name, without touching the network.
    let out = clean(
        &["status", "--secret-id", "originsig/eu", "--region", "eu-west-1"],
        &files(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("no AWS credentials found (looked in") && text(&out).contains("--profile"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("dispatch failure"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `originsig` with only PATH, HOME (empty) and `env`: no AWS variable from the caller.
fn clean(args: &[&str], env: &[(&str, String)]) -> Output {
    let home = temp_dir("home");
    let out = Command::new(ORIGINSIG)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&home);
    out
}

#[test]
fn the_lambda_binaries_run_by_hand_say_what_they_are() {
    for (binary, what) in [
        (
            env!("CARGO_BIN_EXE_hmac-authorizer"),
            "hmac-authorizer is the originsig API Gateway Lambda authorizer",
        ),
        (
            env!("CARGO_BIN_EXE_key-rotator"),
            "key-rotator is the originsig Secrets Manager rotation function",
        ),
    ] {
        for args in [vec!["--help"], vec![], vec!["-h"]] {
            let out = Command::new(binary)
                .args(&args)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .output()
                .unwrap();
            let all = text(&out);
            assert_eq!(out.status.code(), Some(2), "{binary} {args:?}: {all}");
            assert!(all.starts_with(what), "{binary} {args:?}: {all}");
            assert_eq!(all.trim_end().lines().count(), 1, "one sentence: {all}");
            assert!(all.contains("ORIGINSIG_"), "names its variables: {all}");
            for dump in ["panicked", "Error:", "{", "backtrace"] {
                assert!(!all.contains(dump), "{binary} {args:?}: {all}");
            }
        }
    }
}
