//! `local-chain`: the whole originsig chain on 127.0.0.1 with no AWS account — the README's
//! main command (`tests/local-chain.sh` builds what it needs, then runs this).
//!
//! viewer → edge emulator (CloudFront + the real Lambda@Edge bundle under Node, or with
//!          `--edge cloudfront-function` the real CloudFront Function under njs)
//!        → gateway emulator (HTTP API + the real authorizer binary) → demo backend or --upstream

// Printing the URLs and curl lines is this program's job.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, ValueEnum};
use originsig_tests::chain::{binary, ChainEdge, ChainKeys, ChainOptions, LocalChain};
use originsig_tests::edge::{EdgeKeyValueStore, FunctionConfig, FunctionEngine, InMemoryKeyValueStore};
use originsig_tests::kvs::{KvsClock, KvsEmulator, Propagation};
use originsig_tests::moto::MotoServer;
use originsig_tests::repo;

#[derive(Debug, Parser)]
#[command(
    name = "local-chain",
    about = "Run the originsig chain locally: edge (CloudFront + Lambda@Edge or a CloudFront Function) → gateway (HTTP API + authorizer) → backend",
    after_help = "Everything listens on 127.0.0.1. Ctrl-C stops it all."
)]
struct Args {
    /// Port of the edge (what viewers call, as they would call CloudFront).
    #[arg(long, default_value_t = 8080)]
    edge_port: u16,
    /// Port of the gateway (the execute-api endpoint that must refuse direct calls).
    #[arg(long, default_value_t = 8081)]
    gateway_port: u16,
    /// Key-ring file (created with `originsig init` if missing); embedded in the edge bundle.
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
    /// Keys from Secrets Manager instead: starts a local moto server and creates the secret (with
    /// --edge cloudfront-function, also a KeyValueStore emulator that `originsig init --kvs-arn`
    /// fills and `originsig rotate --kvs-arn` updates).
    #[arg(long, conflicts_with = "key_file")]
    secrets_manager: bool,
    /// Proxy allowed requests to this URL instead of the demo backend.
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// Do not print the components' logs.
    #[arg(long)]
    quiet: bool,
    /// Which signer runs at the edge.
    #[arg(long, value_enum, default_value_t = EdgeKind::LambdaEdge)]
    edge: EdgeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EdgeKind {
    /// An origin-request Lambda@Edge function (the bundle under Node), keys from the key file or
    /// Secrets Manager.
    LambdaEdge,
    /// A viewer-request CloudFront Function (runtime 2.0, under njs) reading its key from a
    /// KeyValueStore: with --secrets-manager, the KeyValueStore emulator that `originsig init`
    /// and `rotate --kvs-arn` write; with a key file, an in-memory copy of its current key.
    CloudfrontFunction,
}

fn originsig(args: &[&str], env: &[(&'static str, String)]) -> Result<String, String> {
    let out = std::process::Command::new(binary("originsig")?)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.clone())))
        .output()
        .map_err(|e| format!("originsig: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(format!(
            "originsig {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The KeyValueStore emulator's store the function reads, with `--secrets-manager`.
struct LocalStore {
    emulator: KvsEmulator,
    arn: String,
}

async fn run(args: Args) -> Result<(), String> {
    let mut moto = None;
    let mut store = None;
    let (keys, source_args, env): (ChainKeys, Vec<String>, Vec<(&'static str, String)>) =
        if args.secrets_manager {
            let server = MotoServer::start().map_err(|e| format!("moto: {e}"))?;
            let mut env = server.env();
            let mut init = vec!["init", "--secret-id", "originsig/local"];
            if args.edge == EdgeKind::CloudfrontFunction {
                // The edge stack's empty store; `init --kvs-arn` writes the first key into it
                // through the real SDK writer.
                let emulator = KvsEmulator::start(KvsClock::real())
                    .await
                    .map_err(|e| format!("KeyValueStore emulator: {e}"))?;
                env.extend(emulator.env());
                let arn = emulator.create_store("originsig-local");
                store = Some(LocalStore { emulator, arn });
            }
            if let Some(store) = &store {
                init.extend(["--kvs-arn", store.arn.as_str()]);
            }
            originsig(&init, &env)?;
            moto = Some(server);
            (
                ChainKeys::SecretsManager {
                    secret_id: "originsig/local".into(),
                    env: env.clone(),
                },
                vec!["--secret-id".into(), "originsig/local".into()],
                env,
            )
        } else {
            let path = args
                .key_file
                .clone()
                .unwrap_or_else(|| repo::root().join("target/local-chain/keys.json"));
            if !path.exists() {
                std::fs::create_dir_all(path.parent().unwrap_or(&path)).map_err(|e| e.to_string())?;
                originsig(&["init", "--key-file", &path.display().to_string()], &[])?;
            }
            (
                ChainKeys::File(path.clone()),
                vec!["--key-file".into(), path.display().to_string()],
                Vec::new(),
            )
        };
    let mut options = ChainOptions::new("demo", keys.clone());
    if args.edge == EdgeKind::CloudfrontFunction {
        let kvs: Arc<dyn EdgeKeyValueStore> = match (&store, &keys) {
            // One edge location, updated as soon as the data plane accepts a write.
            (Some(store), _) => Arc::new(store.emulator.edge_view(&store.arn, Propagation::IMMEDIATE)),
            (None, ChainKeys::File(path)) => key_file_store(path)?,
            (None, ChainKeys::SecretsManager { .. }) => {
                return Err("no KeyValueStore for the CloudFront Function (a bug in local-chain)".to_owned())
            }
        };
        options.edge = ChainEdge::CloudFrontFunction {
            store: kvs,
            engine: FunctionEngine::Njs,
        };
    }
    options.edge_port = args.edge_port;
    options.gateway_port = args.gateway_port;
    options.upstream = args.upstream.clone();
    options.echo_logs = !args.quiet;
    let chain = LocalChain::start(options).await?;
    let edge_url = chain.edge_url.clone();

    let domain = chain.options.origin_domain.clone();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut sign_args: Vec<String> = vec!["sign".into()];
    sign_args.extend(source_args);
    sign_args.extend([
        "--url".into(),
        format!("http://{domain}/prod/hello"),
        "--at".into(),
        (now - 600).to_string(),
    ]);
    let replayed = originsig(&sign_args.iter().map(String::as_str).collect::<Vec<_>>(), &env)?;

    println!("originsig local chain is up (Ctrl-C stops it)");
    let edge_kind = match args.edge {
        EdgeKind::LambdaEdge => "Lambda@Edge",
        EdgeKind::CloudfrontFunction => "CloudFront Function",
    };
    println!("  edge (CloudFront + {edge_kind}):   {edge_url}   -> origin {domain}, origin path /prod");
    println!("  direct (API GW):     {}/prod", chain.gateway_url);
    match (&moto, &store) {
        (Some(server), Some(store)) => {
            println!(
                "  keys:                Secrets Manager originsig/local on moto at {}",
                server.endpoint()
            );
            println!(
                "                       copied by `originsig init`/`rotate --kvs-arn` into the KeyValueStore emulator at {} (item {}):",
                store.emulator.endpoint(),
                FunctionConfig::DEFAULT_KVS_KEY
            );
            println!("                       {}", store.arn);
        }
        (Some(server), None) => println!(
            "  keys:                Secrets Manager originsig/local on moto at {}",
            server.endpoint()
        ),
        (None, _) if args.edge == EdgeKind::CloudfrontFunction => println!(
            "  keys:                the key file's current key, in the function's KeyValueStore (item {})",
            FunctionConfig::DEFAULT_KVS_KEY
        ),
        (None, _) => println!("  keys:                key file embedded in the edge bundle"),
    }
    println!();
    println!("  # through the edge: 200, signed on the way");
    println!("  curl -i {edge_url}/hello -H 'Authorization: Bearer my-token'");
    println!("  # direct to the API, no signature: 401 (API Gateway refuses before any Lambda runs)");
    println!("  curl -i {}/prod/hello", chain.gateway_url);
    println!(
        "  # direct, replaying a signature made 10 minutes ago: 403 (the authorizer logs reason \"expired\")"
    );
    println!(
        "  curl -i {}/prod/hello -H 'Host: {domain}' -H 'x-originsig: {replayed}'",
        chain.gateway_url
    );
    if store.is_some() {
        let exports: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "  # what the store holds, and a rotation that copies the new key into it (in another shell;"
        );
        println!(
            "  # `init --kvs-arn` recorded the store on the secret, tag originsig:kvs-arn: no --kvs-arn needed)"
        );
        println!("  export {}", exports.join(" "));
        println!(
            "  {} status --secret-id originsig/local",
            binary("originsig")?.display()
        );
        println!(
            "  {} rotate --secret-id originsig/local",
            binary("originsig")?.display()
        );
    }
    println!();

    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    println!("stopping");
    chain.stop().await;
    drop(moto);
    Ok(())
}

/// The key file's current key as the KeyValueStore holds it (SPEC.md §7's secret value).
fn current_key(key_file: &std::path::Path) -> Result<String, String> {
    let ring: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(key_file).map_err(|e| format!("{}: {e}", key_file.display()))?,
    )
    .map_err(|e| format!("{}: {e}", key_file.display()))?;
    // A key-ring file holds the secret value of each role; a secret-value file is one.
    let current = ring.get("current").filter(|c| c.is_object()).unwrap_or(&ring);
    Ok(current.to_string())
}

/// An in-memory KeyValueStore holding the key file's current key: the key file is the secret
/// here, so a rotation (`originsig rotate --key-file …`) is published by copying its current key
/// into the store once a second.
fn key_file_store(key_file: &std::path::Path) -> Result<Arc<dyn EdgeKeyValueStore>, String> {
    let kvs = Arc::new(InMemoryKeyValueStore::default());
    kvs.put(FunctionConfig::DEFAULT_KVS_KEY, &current_key(key_file)?);
    {
        let (kvs, key_file) = (Arc::clone(&kvs), key_file.to_path_buf());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                if let Ok(current) = current_key(&key_file) {
                    kvs.put(FunctionConfig::DEFAULT_KVS_KEY, &current);
                }
            }
        });
    }
    Ok(kvs)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("local-chain: {error}");
            ExitCode::FAILURE
        }
    }
}
