//! Cold start: exec of a Lambda → first response through the Runtime API emulator, keys from a
//! local moto server, for the Rust authorizer and the Python boto3 peer side by side; peak RSS
//! (VmHWM) of each after its first response. Prints one JSON object.
//!
//!   bench-cold-start <hmac-authorizer binary> [runs]

// Printing the result is this program's job.
#![allow(clippy::print_stdout)]
// Reading a `serde_json::Value` by `&str` key yields `Null` when absent, never a panic.
#![allow(clippy::indexing_slicing)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use originsig_core::{sign, RequestTarget, SigningKey, UnixSeconds};
use originsig_tests::moto::MotoServer;
use originsig_tests::repo;
use originsig_tests::runtime_api::{Outcome, RuntimeApi};
use serde_json::{json, Value};

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmHWM:")
                .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

async fn measure(
    program: &str,
    args: &[String],
    env: &[(&'static str, String)],
    event: &Value,
    runs: usize,
) -> Result<(f64, u64), String> {
    let mut times = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..runs {
        let runtime = RuntimeApi::start().await.map_err(|e| e.to_string())?;
        let mut command = Command::new(program);
        command
            .args(args)
            .envs(runtime.lambda_env("bench"))
            .envs(env.iter().map(|(k, v)| (*k, v.clone())));
        command.stdout(Stdio::null()).stderr(Stdio::null());
        let started = Instant::now();
        let mut child = command.spawn().map_err(|e| format!("{program}: {e}"))?;
        let outcome = runtime.invoke(event.clone(), Duration::from_secs(60)).await;
        let elapsed = started.elapsed();
        let peak = peak_rss_kib(child.id());
        let _ = child.kill();
        let _ = child.wait();
        match outcome {
            Some(Outcome::Response(r)) if r["isAuthorized"] == true => {}
            other => return Err(format!("{program}: unexpected first answer {other:?}")),
        }
        times.push(elapsed.as_secs_f64() * 1000.0);
        rss.push(peak as f64);
    }
    Ok((median(times), median(rss) as u64))
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let ours = args
        .get(1)
        .cloned()
        .ok_or("usage: bench-cold-start <hmac-authorizer binary> [runs]")?;
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(10);
    let moto = MotoServer::start().map_err(|e| e.to_string())?;
    let keyring: Value =
        serde_json::from_str(&std::fs::read_to_string(repo::test_keyring()).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let python = repo::root().join(".venv/bin/python");
    let created = Command::new(&python)
        .args(["-c", "import boto3,sys; boto3.client('secretsmanager').create_secret(Name='bench/keys', SecretString=sys.argv[1])"])
        .arg(keyring["current"].to_string())
        .envs(moto.env().into_iter())
        .status()
        .map_err(|e| e.to_string())?;
    if !created.success() {
        return Err("could not create the secret in moto".into());
    }
    let mut env = moto.env();
    env.push(("ORIGINSIG_SECRET_ID", "bench/keys".into()));
    let key = SigningKey::from_secret_value(&keyring["current"].to_string()).map_err(|e| e.to_string())?;
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(repo::root().join("hmac-authorizer/testdata/events/http-api-v2.json"))
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let target = RequestTarget::from_gateway(
        "GET",
        "abc123defg.execute-api.us-east-1.amazonaws.com",
        "/prod/items/café",
        "a=1&b=2",
    )
    .map_err(|e| e.to_string())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    event["headers"]["x-originsig"] = json!(sign(&target, &key, UnixSeconds::new(now)).render());

    let (ours_ms, ours_rss) = measure(&ours, &[], &env, &event, runs).await?;
    let peer = [repo::root()
        .join("tests/bench/peer_boto3_authorizer.py")
        .display()
        .to_string()];
    let (peer_ms, peer_rss) = measure(&python.display().to_string(), &peer, &env, &event, runs).await?;
    println!(
        "{}",
        json!({"runs": runs, "oursMs": ours_ms, "oursRssKiB": ours_rss, "peerMs": peer_ms, "peerRssKiB": peer_rss})
    );
    Ok(())
}
