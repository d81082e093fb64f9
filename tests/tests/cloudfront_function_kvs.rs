//! The CloudFront Functions edge on the real KeyValueStore path, end to end: `originsig init` /
//! `rotate --kvs-arn` write the store through the real SDK writer (SigV4A, to the KeyValueStore
//! emulator `originsig_tests::kvs`), each edge location's function (the real build, under njs)
//! signs with what that location's view of the store returns at that instant, and the real
//! authorizer binary verifies behind the gateway emulator, with keys from Secrets Manager (moto)
//! or a key file. Needs njs, moto (.venv) and the binaries built (tests/run-all.sh).

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use originsig_tests::chain::{binary, ChainEdge, ChainKeys, ChainOptions, LocalChain};
use originsig_tests::edge::{EdgeKeyValueStore, FunctionConfig, FunctionEngine};
use originsig_tests::kvs::{EdgeView, KvsClock, KvsEmulator, Propagation, Spreading};
use originsig_tests::moto::MotoServer;
use originsig_tests::repo;
use serde_json::Value;

const ITEM: &str = FunctionConfig::DEFAULT_KVS_KEY;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

/// Status, `Retry-After` and the key id the authorizer accepted (empty when refused).
async fn get(url: &str) -> (u16, Option<String>, String) {
    let response = http().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = serde_json::from_str(&response.text().await.unwrap_or_default()).unwrap_or(Value::Null);
    let key_id = body["authorizer"]["keyId"].as_str().unwrap_or("").to_owned();
    (status, retry_after, key_id)
}

/// The real `originsig` binary, run off the async workers (the emulators answer it meanwhile).
async fn originsig(args: &[&str], env: &[(&'static str, String)]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env = env.to_vec();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(binary("originsig").unwrap())
            .args(&args)
            .env_remove("ORIGINSIG_SECRET_ID")
            .env_remove("ORIGINSIG_KEY_FILE")
            .env_remove("ORIGINSIG_KVS_ARN")
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits until every view reads the item (the first write has reached every location).
async fn until_everywhere(views: &[EdgeView], within: Duration) {
    let deadline = Instant::now() + within;
    while views.iter().any(|v| v.get(ITEM).is_none()) {
        assert!(
            Instant::now() < deadline,
            "the first key never reached every location"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The function reads what its edge location of the store sees now, not what the data plane
/// holds: before the first write has reached a slow location, that location answers 503 with
/// Retry-After (its one read failed) and nothing reaches the API; once it has, it signs with the
/// key `originsig init --kvs-arn` wrote, and the authorizer accepts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_location_signs_with_what_its_view_of_the_store_returns() {
    let clock = KvsClock::manual();
    let emulator = KvsEmulator::start(clock.clone()).await.unwrap();
    let arn = emulator.create_store("cff-view");
    let dir = repo::root().join("target/cloudfront-function-tests/cff-view");
    std::fs::create_dir_all(&dir).unwrap();
    let ring = dir.join(format!("keys-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&ring);
    let mut env = emulator.env();
    env.extend(
        [
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .map(|(k, v)| (k, v.to_owned())),
    );
    let out = originsig(
        &["init", "--key-file", ring.to_str().unwrap(), "--kvs-arn", &arn],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    // The writer's item is the one the function reads.
    let item: Value = serde_json::from_str(&emulator.value(&arn, ITEM).expect("init wrote no item")).unwrap();
    let key_id = item["kid"].as_str().unwrap().to_owned();

    let slow = emulator.edge_view(
        &arn,
        Propagation {
            delay: Duration::from_secs(30),
            while_spreading: Spreading::NotFound,
        },
    );
    let mut options = ChainOptions::new("cff-view", ChainKeys::File(ring.clone()));
    options.edge = ChainEdge::CloudFrontFunction {
        store: Arc::new(slow),
        engine: FunctionEngine::Njs,
    };
    let chain = LocalChain::start(options).await.unwrap();
    let near = chain
        .add_function_edge(
            Arc::new(emulator.edge_view(&arn, Propagation::IMMEDIATE)),
            FunctionEngine::Njs,
        )
        .await
        .unwrap();

    let (status, retry_after, _) = get(&format!("{}/hello", chain.edge_url)).await;
    assert_eq!(status, 503, "the write has not reached this location yet");
    assert!(retry_after.is_some(), "a 503 without Retry-After");
    let (status, _, signed_with) = get(&format!("{near}/hello")).await;
    assert_eq!((status, signed_with.as_str()), (200, key_id.as_str()));

    clock.advance(Duration::from_secs(30));
    let (status, _, signed_with) = get(&format!("{}/hello", chain.edge_url)).await;
    assert_eq!((status, signed_with.as_str()), (200, key_id.as_str()));
    let logs = chain.edge_logs().join("\n");
    assert!(logs.contains("no_key"), "{logs}");
    chain.stop().await;
    let _ = std::fs::remove_file(&ring);
}

/// `build.py`'s default item is the one item key (`infra/kvs-item-key.txt`, which the writer
/// `hmac-authorizer/src/store/kvs.rs` and `FunctionConfig::DEFAULT_KVS_KEY` include); the
/// function's source default and the Node tests' copy agree with it.
#[test]
fn the_store_item_key_has_one_source() {
    let root = repo::root();
    let built = std::process::Command::new("python3")
        .arg(root.join("edge-signer/cloudfront-function/build.py"))
        .args(["--origin-domain", "api.example.com", "--gateway-path-prefix", ""])
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let expected = format!("\"kvsKey\":\"{ITEM}\"");
    assert!(
        String::from_utf8_lossy(&built.stdout).contains(&expected),
        "build.py's default KeyValueStore item is not {ITEM:?} (infra/kvs-item-key.txt)"
    );
    let file = std::fs::read_to_string(root.join("infra/kvs-item-key.txt")).unwrap();
    assert_eq!(file.trim(), ITEM);
    for copy in [
        "edge-signer/cloudfront-function/function.js",
        "edge-signer/cloudfront-function/test/helpers.mjs",
    ] {
        let text = std::fs::read_to_string(root.join(copy)).unwrap();
        assert!(
            text.contains(&format!("\"{ITEM}\"")) || text.contains(&format!("'{ITEM}'")),
            "{copy} does not name the item {ITEM:?} (infra/kvs-item-key.txt)"
        );
    }
}

/// One request's outcome at one edge location.
#[derive(Debug, Clone)]
struct Seen {
    location: &'static str,
    status: u16,
    retry_after: Option<String>,
    key_id: String,
}

/// Whether each location's last `n` answers are 200s signed with another key than the first
/// answer's (the key before the rotation).
fn everywhere_new(seen: &[Seen], urls: &[(&'static str, String)], n: usize) -> bool {
    let Some(old) = seen.iter().find(|s| s.status == 200).map(|s| s.key_id.as_str()) else {
        return false;
    };
    urls.iter().all(|(location, _)| {
        let last: Vec<&Seen> = seen
            .iter()
            .rev()
            .filter(|s| s.location == *location)
            .take(n)
            .collect();
        last.len() == n && last.iter().all(|s| s.status == 200 && s.key_id != old)
    })
}

/// A rotation under continuous traffic through the chain with the real KeyValueStore path:
/// Secrets Manager (moto) is the source of truth, `originsig rotate --kvs-arn` copies the new
/// key into the store after the promotion, and four edge locations see that write after 0 to
/// 4 s. With `transient_not_found`, two of them read "not found" (always, or every other read)
/// while the update spreads, as one public measurement reported.
///
/// Expected: **zero 403** (false denials): the authorizers know the new key (AWSPENDING) before
/// any location signs with it, and keep the old one (AWSPREVIOUS) while slow locations still
/// sign with it. A **503** is the function's documented fail-closed answer when its one store
/// read fails (`no_key`, with Retry-After; the viewer retries, nothing unsigned reaches the API):
/// counted apart, allowed only at the locations configured to read "not found", and zero when
/// the not-found variant is off.
async fn rotation_under_traffic(name: &str, transient_not_found: bool) {
    let moto = MotoServer::start().unwrap();
    let kvs = KvsEmulator::start(KvsClock::real()).await.unwrap();
    let arn = kvs.create_store(name);
    let secret = format!("{name}/keys");
    let mut env = moto.env();
    env.extend(kvs.env());
    let out = originsig(&["init", "--secret-id", &secret, "--kvs-arn", &arn], &env).await;
    assert!(out.status.success(), "{}", text(&out));

    let spreading = |variant| {
        if transient_not_found {
            variant
        } else {
            Spreading::PreviousValue
        }
    };
    let locations: [(&'static str, Duration, Spreading); 4] = [
        ("near", Duration::ZERO, Spreading::PreviousValue),
        ("slow", Duration::from_secs(2), Spreading::PreviousValue),
        ("flaky", Duration::from_secs(3), spreading(Spreading::Alternate)),
        ("missing", Duration::from_secs(4), spreading(Spreading::NotFound)),
    ];
    let views: Vec<EdgeView> = locations
        .iter()
        .map(|(_, delay, while_spreading)| {
            kvs.edge_view(
                &arn,
                Propagation {
                    delay: *delay,
                    while_spreading: *while_spreading,
                },
            )
        })
        .collect();
    let store = |i: usize| -> Arc<dyn EdgeKeyValueStore> { Arc::new(views[i].clone()) };

    let mut options = ChainOptions::new(
        name,
        ChainKeys::SecretsManager {
            secret_id: secret.clone(),
            env: env.clone(),
        },
    );
    options.authorizer_env = [
        ("ORIGINSIG_CACHE_TTL_SECS", "1"),
        ("ORIGINSIG_MAX_STALE_SECS", "60"),
        ("ORIGINSIG_REFRESH_RETRY_SECS", "1"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    options.edge = ChainEdge::CloudFrontFunction {
        store: store(0),
        engine: FunctionEngine::Njs,
    };
    let chain = LocalChain::start(options).await.unwrap();
    let mut urls = vec![(locations[0].0, chain.edge_url.clone())];
    for (i, (location, ..)) in locations.iter().enumerate().skip(1) {
        let url = chain
            .add_function_edge(store(i), FunctionEngine::Njs)
            .await
            .unwrap();
        urls.push((location, url));
    }
    until_everywhere(&views, Duration::from_secs(10)).await;

    // Viewers at every location, one request after another, until the rotation is over and
    // every location has signed with the new key a few times (at most 25 s in all).
    let rotated = Arc::new(AtomicBool::new(false));
    let traffic = tokio::spawn({
        let rotated = Arc::clone(&rotated);
        async move {
            let mut seen: Vec<Seen> = Vec::new();
            let stop_at = Instant::now() + Duration::from_secs(25);
            while Instant::now() < stop_at {
                let (location, url) = &urls[seen.len() % urls.len()];
                let (status, retry_after, key_id) = get(&format!("{url}/hello?n={}", seen.len())).await;
                seen.push(Seen {
                    location,
                    status,
                    retry_after,
                    key_id,
                });
                if rotated.load(Ordering::SeqCst) && everywhere_new(&seen, &urls, 3) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            seen
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let out = originsig(
        &[
            "rotate",
            "--secret-id",
            &secret,
            "--kvs-arn",
            &arn,
            "--wait",
            "3",
            // Below the propagation wait and the guard: the test's 1 s authorizer cache and
            // 4 s store make them safe.
            "--force",
            "--authorizer-cache-ttl",
            "1",
            "--edge-max-stale",
            "60",
            "--kvs-propagation",
            "5",
        ],
        &env,
    )
    .await;
    rotated.store(true, Ordering::SeqCst);
    assert!(out.status.success(), "{}", text(&out));
    let seen = traffic.await.unwrap();

    let new_item: Value = serde_json::from_str(&kvs.value(&arn, ITEM).unwrap()).unwrap();
    let new_key = new_item["kid"].as_str().unwrap();
    let mut counts: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for s in &seen {
        *counts.entry((s.location, s.status)).or_default() += 1;
    }
    let unavailable: Vec<&Seen> = seen.iter().filter(|s| s.status == 503).collect();
    eprintln!(
        "{name}: {} requests; by (location, status): {counts:?}; {} 503 (store read failed while the update spread)",
        seen.len(),
        unavailable.len()
    );
    let denied: Vec<&Seen> = seen.iter().filter(|s| s.status == 403).collect();
    assert!(denied.is_empty(), "false denials: {denied:?}");
    let other: Vec<&Seen> = seen.iter().filter(|s| ![200, 503].contains(&s.status)).collect();
    assert!(other.is_empty(), "{other:?}");
    assert!(
        unavailable.iter().all(|s| s.retry_after.is_some()),
        "a 503 without Retry-After: not the function's answer"
    );
    if transient_not_found {
        assert!(
            !unavailable.is_empty(),
            "no location read 'not found': the variant was not exercised"
        );
        assert!(
            unavailable
                .iter()
                .all(|s| ["flaky", "missing"].contains(&s.location)),
            "503 where the store never reads 'not found': {unavailable:?}"
        );
    } else {
        assert!(unavailable.is_empty(), "{unavailable:?}");
    }
    // Every location signed with the old key, then with the new one.
    for (location, ..) in &locations {
        let keys: Vec<&str> = seen
            .iter()
            .filter(|s| s.location == *location && s.status == 200)
            .map(|s| s.key_id.as_str())
            .collect();
        let distinct: BTreeSet<&str> = keys.iter().copied().collect();
        assert_eq!(distinct.len(), 2, "{location}: {distinct:?}");
        assert_eq!(
            keys.last(),
            Some(&new_key),
            "{location} never signed with the new key"
        );
    }
    assert!(seen.len() > 100, "only {} requests", seen.len());
    chain.stop().await;
    drop(moto);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_through_the_store_with_slow_locations_has_no_false_denial() {
    rotation_under_traffic("cff-kvs-rotation", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_through_the_store_with_transient_not_found_has_no_false_denial() {
    rotation_under_traffic("cff-kvs-rotation-nf", true).await;
}

/// `local-chain --edge cloudfront-function --secrets-manager` (the README's command, here on
/// free ports): it starts, prints its curl lines and the store's commands, and each does what
/// its comment says — through the edge 200 signed with the key `init --kvs-arn` wrote, direct
/// 401, the replayed signature 403, and `status` (without `--kvs-arn`: `init` recorded the store
/// on the secret) finds the store holding AWSCURRENT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_chain_runs_the_function_on_the_store_with_secrets_manager() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(binary("local-chain").unwrap())
        .args([
            "--edge",
            "cloudfront-function",
            "--secrets-manager",
            "--quiet",
            "--edge-port",
            "0",
            "--gateway-port",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let read = async {
        // Up to the blank line that ends the instructions.
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.is_empty() && printed.iter().any(|l: &String| l.contains(" rotate --secret-id")) {
                break;
            }
            printed.push(line);
        }
    };
    if tokio::time::timeout(Duration::from_secs(60), read).await.is_err() || printed.is_empty() {
        let _ = child.start_kill();
        let out = child.wait_with_output().await.unwrap();
        panic!(
            "local-chain: {printed:?} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let shown = printed.join("\n");
    let curl = |comment: &str| -> Vec<String> {
        let at = printed
            .iter()
            .position(|l| l.contains(comment))
            .unwrap_or_else(|| panic!("{shown}"));
        printed[at + 1].split_whitespace().map(str::to_owned).collect()
    };
    // curl -i URL [-H 'Name: value']…
    async fn run(words: &[String]) -> (u16, String) {
        let mut request = http().get(&words[2]);
        let joined = words[3..].join(" ");
        for header in joined.split("-H ").filter(|h| !h.trim().is_empty()) {
            let header = header.trim().trim_matches('\'');
            let (name, value) = header.split_once(": ").unwrap();
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }
    let (status, body) = run(&curl("through the edge")).await;
    assert_eq!(status, 200, "{body}\n{shown}");
    let (status, _) = run(&curl("no signature: 401")).await;
    assert_eq!(status, 401, "{shown}");
    let (status, _) = run(&curl("10 minutes ago: 403")).await;
    assert_eq!(status, 403, "{shown}");

    // The printed status command, with the printed environment.
    let export = printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("export "))
        .unwrap_or_else(|| panic!("{shown}"));
    let env: Vec<(&'static str, String)> = export
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (&*Box::leak(k.to_owned().into_boxed_str()), v.to_owned()))
        .collect();
    let status_line = printed
        .iter()
        .find(|l| l.contains(" status --secret-id"))
        .unwrap_or_else(|| panic!("{shown}"));
    let words: Vec<&str> = status_line.split_whitespace().skip(1).collect();
    let mut args = words.clone();
    args.push("--json");
    let out = originsig(&args, &env).await;
    assert!(out.status.success(), "{}", text(&out));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["keyValueStore"]["matchesCurrent"], true, "{status:#}");
    let signed_with: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        signed_with["authorizer"]["keyId"], status["keyValueStore"]["keyId"],
        "the function signed with the key the store holds"
    );

    // Ctrl-C stops it all (moto and the emulators with it).
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let exit = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit}");
}
