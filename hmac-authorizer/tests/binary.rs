//! The real `hmac-authorizer` binary, started the way Lambda starts it (`AWS_LAMBDA_RUNTIME_API`
//! pointing at the emulator in `tests/src/runtime_api.rs`), serving allowed and denied requests;
//! keys from the key file and from Secrets Manager (moto) through the standard AWS environment.
//! Its whole output is checked for key material.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use originsig_core::{sign, KeyRing, RequestTarget, UnixSeconds};
use originsig_tests::moto::MotoServer;
use originsig_tests::repo;
use originsig_tests::runtime_api::{Outcome, RuntimeApi};
use serde_json::{json, Value};

const API: &str = "abc123defg.execute-api.us-east-1.amazonaws.com";

struct Running {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Running {
    fn start(runtime: &RuntimeApi, env: &[(&str, String)]) -> Running {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hmac-authorizer"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in runtime
            .lambda_env("hmac-authorizer")
            .into_iter()
            .chain(env.iter().map(|(k, v)| (*k, v.clone())))
        {
            command.env(k, v);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    output
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        Running { child, output }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        self.output()
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn event(header: Option<String>) -> Value {
    let path = repo::root().join("hmac-authorizer/testdata/events/http-api-v2.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    match header {
        Some(h) => event["headers"]["x-originsig"] = json!(h),
        None => {
            event["headers"].as_object_mut().unwrap().remove("x-originsig");
        }
    }
    event
}

fn signed_event() -> Value {
    let ring = KeyRing::from_keyring_json(&std::fs::read_to_string(repo::test_keyring()).unwrap()).unwrap();
    let target = RequestTarget::from_gateway("GET", API, "/prod/items/café", "a=1&b=2").unwrap();
    event(Some(
        sign(&target, ring.signing_key(), UnixSeconds::new(now())).render(),
    ))
}

const WAIT: Duration = Duration::from_secs(20);

fn assert_no_key_material(output: &str) {
    assert!(!output.is_empty());
    for secret in repo::key_material_strings() {
        assert!(!output.contains(&secret), "key material in the output");
    }
}

#[tokio::test]
async fn serves_allowed_and_denied_requests_and_logs_no_key_byte() {
    let runtime = RuntimeApi::start().await.unwrap();
    let process = Running::start(
        &runtime,
        &[
            ("ORIGINSIG_KEY_FILE", repo::test_keyring().display().to_string()),
            ("ORIGINSIG_METRICS_DEPLOYMENT", "stack-a".to_owned()),
        ],
    );

    let allowed = runtime.invoke(signed_event(), WAIT).await.expect("an answer");
    let Outcome::Response(allowed) = allowed else {
        panic!("{allowed:?}")
    };
    assert_eq!(allowed["isAuthorized"], true);
    assert_eq!(allowed["context"]["keyId"], "key-current");

    let denied = runtime
        .invoke(
            event(Some(
                "v1;t=1;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            )),
            WAIT,
        )
        .await;
    assert_eq!(
        denied,
        Some(Outcome::Response(json!({"isAuthorized": false, "context": {}})))
    );

    let wrong = runtime
        .invoke(json!({"version": "1.0", "type": "REQUEST"}), WAIT)
        .await;
    assert!(
        matches!(wrong, Some(Outcome::Error(ref kind, _)) if kind == "WrongEventType"),
        "{wrong:?}"
    );

    let output = process.stop();
    if std::env::var_os("ORIGINSIG_SHOW_OUTPUT").is_some() {
        eprintln!("{output}");
    }
    let lines: Vec<Value> = output
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let decisions: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "authorization decision")
        .collect();
    assert_eq!(decisions.len(), 2, "{output}");
    assert_eq!(decisions[0]["decision"], "allow");
    assert_eq!(decisions[1]["reason"], "bad_signature");
    let metrics: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!(metrics.len(), 3);
    assert_eq!(metrics[1]["Reason"], "bad_signature");
    assert_eq!(
        metrics[1]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
        "Decisions"
    );
    // The template's alarms watch Decisions by [Deployment, Decision] (infra/test_template.py).
    let decisions_by: Vec<&str> = metrics
        .iter()
        .map(|m| m["Decision"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(decisions_by, ["allow", "deny", "error"]);
    for metric in &metrics {
        assert_eq!(metric["Deployment"], "stack-a");
        assert_eq!(
            metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0],
            json!(["Deployment", "Decision"])
        );
    }
    assert_no_key_material(&output);
}

#[tokio::test]
async fn reads_keys_from_secrets_manager_through_the_standard_environment() {
    let moto = MotoServer::start().unwrap();
    let keyring: Value =
        serde_json::from_str(&std::fs::read_to_string(repo::test_keyring()).unwrap()).unwrap();
    // Create the secret with the AWS CLI-free route: the same SDK the binary uses, pointed by env.
    common::moto_client(&moto)
        .await
        .create_secret()
        .name("originsig/test")
        .secret_string(keyring["current"].to_string())
        .send()
        .await
        .unwrap();
    let runtime = RuntimeApi::start().await.unwrap();
    let mut env = moto.env();
    env.push(("ORIGINSIG_SECRET_ID", "originsig/test".into()));
    let process = Running::start(&runtime, &env);
    let allowed = runtime.invoke(signed_event(), WAIT).await;
    assert!(
        matches!(&allowed, Some(Outcome::Response(r)) if r["isAuthorized"] == true),
        "{allowed:?}\n{}",
        process.output()
    );
    assert_no_key_material(&process.stop());
}

#[tokio::test]
async fn invalid_configuration_fails_the_init_naming_the_variable() {
    let runtime = RuntimeApi::start().await.unwrap();
    let mut process = Running::start(
        &runtime,
        &[
            ("ORIGINSIG_KEY_FILE", "x".into()),
            ("ORIGINSIG_RESPONSE_MODE", "fancy".into()),
        ],
    );
    let status = tokio::task::spawn_blocking(move || {
        let status = process.child.wait().unwrap();
        (status, process)
    })
    .await
    .unwrap();
    assert!(!status.0.success());
    std::thread::sleep(Duration::from_millis(100));
    let output = status.1.output();
    assert!(output.contains("ORIGINSIG_RESPONSE_MODE"), "{output}");
}
