//! The operator's journey (issue 21.9): README.md's "Protect your API" quickstart, run as written.
//!
//! The commands are read from README.md between `<!-- protect-your-api:begin -->` and
//! `<!-- protect-your-api:end -->` (never copied here), and run one by one with `bash -c` in a clean
//! copy of the repository (the files git knows, under `target/journey/checkout`): configure →
//! check → build → deploy → attach → smoke → rotate → rollback, for the README's scenario, an HTTP
//! API in eu-west-1 behind the user's own distribution. If the README changes, this follows it.
//!
//! What stands in for AWS, and what is left out (each is said where it happens):
//! - `sam` is a recording stand-in (`ORIGINSIG_SAM`, as `infra/test_template.py` does): the test
//!   checks the exact `sam deploy` calls and the edge stack's parameters; SAM CLI's own parser
//!   already read the configuration (`infra/deploy_config.py`). Its stack outputs point at:
//! - the local chain (the real edge bundle under Node behind the CloudFront emulator, the real
//!   authorizer binary behind the HTTP API emulator), its bundle built with the exact arguments
//!   `infra/build.sh` used (the two `config.json` are compared), keys from a real moto Secrets
//!   Manager in eu-west-1; the HTTP API, its routes and its authorizer exist in moto too.
//! - moto names HTTP APIs with 8 letters where AWS uses 10 characters (which the templates
//!   require), so the configuration keeps the README's API id `a1b2c3d4e5` and only `routes`
//!   commands are pointed at the API moto created; each `<placeholder>` becomes the value the step
//!   before printed. `rotate` gets `--authorizer-cache-ttl 1`: the local
//!   chain's authorizer caches keys for 1 s (ORIGINSIG_CACHE_TTL_SECS) instead of a deployed 300 s.
//! - `infra/build.sh shop` cross-compiles the arm64 Lambdas (`cargo lambda build --release
//!   --arm64`) and builds the CLI in release: minutes on 2 cores. By default the test runs its
//!   `edge` step and uses the debug CLI of this workspace as `target/release/originsig`;
//!   ORIGINSIG_JOURNEY_FULL_BUILD=1 runs the line as written (needs the aarch64 target).
//! - The first-run installs (.venv-sam, .venv, node_modules) are linked from this checkout.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use originsig_tests::chain::{binary, ChainKeys, ChainOptions, LocalChain};
use originsig_tests::moto::MotoServer;
use originsig_tests::repo;
use serde_json::{json, Value};

const BEGIN: &str = "<!-- protect-your-api:begin -->";
const END: &str = "<!-- protect-your-api:end -->";
const REGION: &str = "eu-west-1";
/// The README's example API id: replaced by the id moto gave the API.
const EXAMPLE_API_ID: &str = "a1b2c3d4e5";

/// The shell lines of the quickstart's code block, comments left out.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(repo::root().join("README.md")).unwrap();
    let start = readme
        .find(BEGIN)
        .expect("README.md has no protect-your-api:begin marker");
    let end = readme
        .find(END)
        .expect("README.md has no protect-your-api:end marker");
    let block = &readme[start..end];
    let code = block
        .split("```sh")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the quickstart has no ```sh block");
    let lines: Vec<String> = code
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert!(
        lines.len() <= 10,
        "the quickstart has {} command lines (at most 10)",
        lines.len()
    );
    lines
}

/// `target/journey/checkout`: every file git knows (tracked or new, not ignored), as a clone has.
fn clean_copy(full_build: bool) -> PathBuf {
    let root = repo::root();
    let checkout = root.join("target/journey/checkout");
    if checkout.exists() {
        std::fs::remove_dir_all(&checkout).unwrap();
    }
    let listed = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(listed.status.success());
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        let from = root.join(&name);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let to = checkout.join(&name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    // First-run installs and build caches, linked (not what this test is about). Never
    // target/debug: `cargo test` holds its lock while this runs. target/release only for the full
    // build: otherwise the checkout's target/release/originsig is a copy of the debug CLI, which
    // must not land in this repository's target/release.
    for link in [".venv-sam", ".venv", "node_modules"] {
        std::os::unix::fs::symlink(root.join(link), checkout.join(link)).unwrap();
    }
    std::fs::create_dir_all(checkout.join("target")).unwrap();
    let linked: &[&str] = if full_build {
        &[
            "wasm",
            "wasm32-unknown-unknown",
            "release",
            "aarch64-unknown-linux-gnu",
        ]
    } else {
        &["wasm", "wasm32-unknown-unknown"]
    };
    for dir in linked {
        std::fs::create_dir_all(root.join("target").join(dir)).unwrap();
        std::os::unix::fs::symlink(root.join("target").join(dir), checkout.join("target").join(dir)).unwrap();
    }
    checkout
}

/// A stand-in for the sam binary: records each call (with the parameter file's content), answers
/// `list stack-outputs` from FAKE_SAM_OUTPUTS.
const FAKE_SAM: &str = r#"#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
record = {"args": args}
for a in args:
    if a.startswith("file://"):
        record["file"] = json.load(open(a[len("file://"):]))
with open(os.environ["FAKE_SAM_LOG"], "a") as f:
    f.write(json.dumps(record) + "\n")
if args[:2] == ["list", "stack-outputs"]:
    stack = args[args.index("--stack-name") + 1]
    outputs = json.load(open(os.environ["FAKE_SAM_OUTPUTS"])).get(stack, [])
    if args[args.index("--output") + 1] == "json":
        print(json.dumps(outputs))
    else:
        for o in outputs:
            print(o["OutputKey"], o["OutputValue"])
"#;

/// Creates, in moto, what the user already has: an HTTP API with routes, and the authorizer the
/// API-region stack would create on it. Prints {"api": id, "authorizer": id}.
const MOTO_API: &str = r#"
import json, boto3
client = boto3.client("apigatewayv2", region_name="eu-west-1")
api = client.create_api(Name="shop", ProtocolType="HTTP")["ApiId"]
for key in ("GET /hello", "ANY /{proxy+}"):
    client.create_route(ApiId=api, RouteKey=key)
authorizer = client.create_authorizer(
    ApiId=api, Name="originsig", AuthorizerType="REQUEST",
    AuthorizerUri="arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:originsig-shop-authorizer/invocations",
    IdentitySource=["$request.header.x-originsig"], AuthorizerPayloadFormatVersion="2.0",
    EnableSimpleResponses=True, AuthorizerResultTtlInSeconds=0)["AuthorizerId"]
print(json.dumps({"api": api, "authorizer": authorizer}))
"#;

fn run(checkout: &Path, line: &str, env: &[(String, String)]) -> (i32, String) {
    eprintln!("journey: $ {line}");
    let out = Command::new("bash")
        .args(["-c", line])
        .current_dir(checkout)
        .env_remove("CARGO_TARGET_DIR")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    (out.status.code().unwrap_or(-1), text)
}

fn sam_calls(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

// Needs .venv-sam (the SAM CLI), which `tests/run-all.sh` installs after `cargo test`; it runs this
// test after that: `cargo test -p originsig-tests --test journey -- --ignored`.
#[ignore = "tests/run-all.sh runs it once .venv-sam exists"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_quickstart_protects_an_http_api_in_eu_west_1_behind_your_distribution() {
    let commands = readme_commands();
    let full_build = std::env::var_os("ORIGINSIG_JOURNEY_FULL_BUILD").is_some();
    let checkout = clean_copy(full_build);
    let root = repo::root();

    // What exists before the user starts: their API in eu-west-1 (moto), and — standing in for
    // the deployed stacks — the key secret and the local chain in front of a demo backend.
    let moto = MotoServer::start().unwrap();
    let mut aws_env: Vec<(String, String)> = moto
        .env()
        .into_iter()
        .filter(|(k, _)| !k.contains("REGION"))
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    aws_env.push(("AWS_REGION".into(), REGION.into()));
    aws_env.push(("AWS_DEFAULT_REGION".into(), REGION.into()));
    let created = Command::new(root.join(".venv/bin/python"))
        .args(["-c", MOTO_API])
        .envs(aws_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let ids: Value = serde_json::from_slice(&created.stdout).unwrap();
    let (api_id, authorizer_id) = (ids["api"].as_str().unwrap(), ids["authorizer"].as_str().unwrap());
    let commands: Vec<String> = commands
        .iter()
        .map(|c| {
            if c.contains(" routes ") {
                c.replace(EXAMPLE_API_ID, api_id)
            } else {
                c.clone()
            }
        })
        .collect();

    // 1-2. configure and check (run before the chain: the bundle's arguments come from them).
    let mut env = aws_env.clone();
    let log = checkout.join("target/journey-sam.log");
    let outputs = checkout.join("target/journey-outputs.json");
    let sam = checkout.join("target/fake-sam");
    std::fs::write(&sam, FAKE_SAM).unwrap();
    std::fs::set_permissions(&sam, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env.push(("ORIGINSIG_SAM".into(), sam.display().to_string()));
    env.push(("FAKE_SAM_LOG".into(), log.display().to_string()));
    env.push(("FAKE_SAM_OUTPUTS".into(), outputs.display().to_string()));
    env.push(("NO_PROXY".into(), "127.0.0.1".into()));
    env.push(("no_proxy".into(), "127.0.0.1".into()));
    let mut steps = commands.iter();
    let configure = steps.next().unwrap();
    assert!(
        configure.starts_with("python3 infra/configure.py"),
        "step 1 configures: {configure}"
    );
    let (code, text) = run(&checkout, configure, &env);
    assert_eq!(code, 0, "configure: {text}");
    assert!(
        text.contains("not checked"),
        "configure says what it could not check: {text}"
    );
    let env_name = configure
        .split_whitespace()
        .skip_while(|w| *w != "--env")
        .nth(1)
        .unwrap()
        .to_owned();

    // The local chain with the configuration `infra/build.sh` bakes into the bundle.
    let bundle_args = Command::new(checkout.join(".venv-sam/bin/python"))
        .args(["infra/deploy_config.py", "bundle-args", &env_name])
        .current_dir(&checkout)
        .output()
        .unwrap();
    assert!(
        bundle_args.status.success(),
        "{}",
        String::from_utf8_lossy(&bundle_args.stderr)
    );
    let bundle_args: Vec<String> = String::from_utf8_lossy(&bundle_args.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let secret_id = bundle_args[bundle_args.iter().position(|a| a == "--secret-id").unwrap() + 1].clone();
    let moto_env: Vec<(&'static str, String)> = vec![
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto.endpoint()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", REGION.into()),
        ("AWS_DEFAULT_REGION", REGION.into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ];
    // The stack creates the secret with a first key; `init` is the same on moto.
    let init = Command::new(binary("originsig").unwrap())
        .args(["init", "--secret-id", &secret_id, "--region", REGION])
        .envs(moto_env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let origin_domain = format!("{EXAMPLE_API_ID}.execute-api.{REGION}.amazonaws.com");
    let mut options = ChainOptions::new(
        "journey",
        ChainKeys::SecretsManager {
            secret_id: secret_id.clone(),
            env: moto_env.clone(),
        },
    );
    options.origin_domain = origin_domain.clone();
    options.bundle_args = bundle_args.clone();
    options.authorizer_env = vec![("ORIGINSIG_CACHE_TTL_SECS".into(), "1".into())];
    let chain = LocalChain::start(options).await.unwrap();
    let direct_url = format!("{}{}/", chain.gateway_url, "/prod");
    let viewer_url = format!("{}/", chain.edge_url);
    let secret_arn = format!("arn:aws:secretsmanager:{REGION}:123456789012:secret:{secret_id}-AbCdEf");
    let api_stack = format!("originsig-{env_name}");
    let stack_outputs = json!({
        api_stack.clone(): [
            {"OutputKey": "SecretArn", "OutputValue": secret_arn},
            {"OutputKey": "SecretName", "OutputValue": secret_id},
            {"OutputKey": "SecretRegion", "OutputValue": REGION},
            {"OutputKey": "OriginDomain", "OutputValue": origin_domain},
            {"OutputKey": "OriginPath", "OutputValue": "/prod"},
            {"OutputKey": "EdgeMaxStaleSeconds", "OutputValue": "3600"},
            {"OutputKey": "ApiKind", "OutputValue": "http_api"},
            {"OutputKey": "ApiId", "OutputValue": EXAMPLE_API_ID},
            {"OutputKey": "AuthorizerId", "OutputValue": authorizer_id},
            {"OutputKey": "DirectApiUrl", "OutputValue": direct_url},
        ],
        format!("{api_stack}-edge"): [
            {"OutputKey": "EdgeSignerVersionArn", "OutputValue": "arn:aws:lambda:us-east-1:123456789012:function:originsig-shop-edge-signer:1"},
        ],
    });
    std::fs::write(&outputs, stack_outputs.to_string()).unwrap();
    let placeholders: BTreeMap<&str, String> = BTreeMap::from([
        ("https://<your distribution's domain>/", viewer_url.clone()),
        ("<AuthorizerId>", authorizer_id.to_owned()),
        ("<DirectApiUrl>", direct_url.clone()),
        // The health route (RotatorCheckPath) on the origin; the chain's backend answers every path.
        ("<RotatorCheckUrl>", direct_url.clone()),
    ]);

    for line in steps {
        let mut line = line.clone();
        for (placeholder, value) in &placeholders {
            line = line.replace(placeholder, value);
        }
        assert!(
            !line.contains('<'),
            "a placeholder this test does not know: {line}"
        );
        if line.starts_with("infra/build.sh") && !full_build {
            eprintln!(
                "journey: running `{line} edge` only: the arm64 cross-compile and the release CLI take \
                 minutes (ORIGINSIG_JOURNEY_FULL_BUILD=1 runs them); target/release/originsig is this \
                 workspace's debug build"
            );
            line.push_str(" edge");
            std::fs::create_dir_all(checkout.join("target/release")).unwrap();
            let cli = checkout.join("target/release/originsig");
            let _ = std::fs::remove_file(&cli);
            std::fs::copy(binary("originsig").unwrap(), &cli).unwrap();
        }
        if line.contains("originsig rotate") {
            line.push_str(" --authorizer-cache-ttl 1");
        }
        if line.contains("originsig rollback") {
            let help = Command::new(checkout.join("target/release/originsig"))
                .args(["rollback", "--help"])
                .output()
                .unwrap();
            if !help.status.success() {
                eprintln!("journey: SKIPPED `{line}`: this originsig has no rollback subcommand yet");
                continue;
            }
        }
        let (code, text) = run(&checkout, &line, &env);
        assert_eq!(code, 0, "`{line}` failed:\n{text}");

        if line.starts_with("python3 infra/deploy_config.py check") {
            assert!(text.contains("every parameter valid"), "{text}");
        }
        if line.starts_with("infra/build.sh") {
            // The chain runs a bundle built from the same configuration as the one built here.
            let built: Value = serde_json::from_str(
                &std::fs::read_to_string(checkout.join("target/lambda/edge-signer/config.json")).unwrap(),
            )
            .unwrap();
            let running: Value = serde_json::from_str(
                &std::fs::read_to_string(root.join("target/local-chain/journey/config.json")).unwrap(),
            )
            .unwrap();
            assert_eq!(
                built, running,
                "the local chain runs another configuration than build.sh baked in"
            );
            assert_eq!(built["region"], REGION);
            assert_eq!(built["apiKind"], "http_api");
        }
        if line.starts_with("infra/deploy.sh") {
            let calls = sam_calls(&log);
            let deploys: Vec<&Value> = calls.iter().filter(|c| c["args"][0] == "deploy").collect();
            assert_eq!(deploys.len(), 2, "{calls:?}");
            // The API-region stack: its section, and the edge section's GatewayPathPrefix (the
            // rotator signs its check as the edge does).
            let api_args = deploys[0]["args"].as_array().unwrap();
            assert_eq!(
                &api_args[..3],
                &[json!("deploy"), json!("--config-env"), json!(env_name)]
            );
            assert_eq!(deploys[0]["file"]["HttpApiId"], EXAMPLE_API_ID);
            assert_eq!(deploys[0]["file"]["GatewayPathPrefix"], "(origin path)");
            let edge_args = deploys[1]["args"].as_array().unwrap();
            assert_eq!(
                &edge_args[..3],
                &[
                    json!("deploy"),
                    json!("--config-env"),
                    json!(format!("{env_name}-edge"))
                ]
            );
            let parameters = &deploys[1]["file"];
            assert_eq!(parameters["SecretName"], json!(secret_id));
            assert_eq!(parameters["SecretRegion"], REGION);
            assert_eq!(parameters["OriginDomain"], json!(origin_domain));
            assert_eq!(parameters["OriginPath"], "/prod");
            assert_eq!(parameters["ExistingDistributionId"], "E1EXAMPLE2ABCD");
            assert_eq!(parameters["GatewayPathPrefix"], "(origin path)");
            // The API-region stack: what `sam deploy --config-env` reads (SAM CLI's parser).
            for (name, expected) in [
                ("HttpApiId", EXAMPLE_API_ID),
                ("RestApiId", ""),
                ("OriginPath", "/prod"),
                ("ApiCustomDomain", ""),
            ] {
                let value = Command::new(checkout.join(".venv-sam/bin/python"))
                    .args(["infra/deploy_config.py", "parameter", &env_name, name])
                    .current_dir(&checkout)
                    .output()
                    .unwrap();
                assert_eq!(String::from_utf8_lossy(&value.stdout).trim(), expected, "{name}");
            }
            assert!(
                text.contains("routes attach"),
                "deploy.sh prints the next commands: {text}"
            );
        }
        if line.starts_with("infra/smoke.sh") {
            assert_eq!(text.matches("ok    ").count(), 3, "{text}");
        }
    }

    // After the journey the key was rotated (or rolled back) and the API still answers through
    // the edge only.
    let status = Command::new(binary("originsig").unwrap())
        .args(["status", "--secret-id", &secret_id, "--region", REGION])
        .envs(moto_env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(status.contains("AWSPREVIOUS"), "a rotation happened: {status}");
    let through_edge = reqwest::get(format!("{}/hello", chain.edge_url)).await.unwrap();
    assert_eq!(through_edge.status().as_u16(), 200);
    let direct = reqwest::get(format!("{direct_url}hello")).await.unwrap();
    assert_eq!(direct.status().as_u16(), 401);
    chain.stop().await;
    drop(moto);
}
