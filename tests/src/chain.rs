//! The whole chain on 127.0.0.1, with the real pieces: the edge bundle under Node behind the edge
//! emulator, the authorizer binary behind the gateway emulator, keys from a key file or from
//! Secrets Manager (a moto server).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::edge::{start_edge, EdgeHost, OriginConfig};
use crate::gateway::{start_gateway, CustomDomain, GatewayConfig};
use crate::repo;
use crate::runtime_api::RuntimeApi;

/// Where the chain's keys come from.
#[derive(Debug, Clone)]
pub enum ChainKeys {
    /// A key-ring file: embedded in the edge bundle, read by the authorizer.
    File(PathBuf),
    /// A Secrets Manager secret, reached through `env` (AWS_ENDPOINT_URL_SECRETS_MANAGER, …).
    SecretsManager {
        secret_id: String,
        env: Vec<(&'static str, String)>,
    },
}

#[derive(Debug, Clone)]
pub struct ChainOptions {
    /// Names the bundle folder under `target/local-chain/`.
    pub name: String,
    pub keys: ChainKeys,
    pub edge_port: u16,
    pub gateway_port: u16,
    /// The origin's domain name as CloudFront would know it (signed; sent as `Host`).
    pub origin_domain: String,
    /// The origin path (`/prod` for a named stage).
    pub origin_path: String,
    /// The HTTP API's named stage (`None` for `$default`).
    pub stage: Option<String>,
    /// Custom domains the gateway also serves (each with the `rawPath` behaviour to emulate).
    pub custom_domains: Vec<CustomDomain>,
    pub upstream: Option<String>,
    /// Extra `edge-signer/bundle.py` options (`--cache-ttl 1`, …).
    pub bundle_args: Vec<String>,
    /// Extra authorizer environment (`ORIGINSIG_CACHE_TTL_SECS`, …).
    pub authorizer_env: Vec<(String, String)>,
    /// Extra environment of the edge host (`ORIGINSIG_EDGE_CLOCK_SKEW_SECS`, …).
    pub edge_env: Vec<(String, String)>,
    /// Print the components' logs to stderr as they come.
    pub echo_logs: bool,
}

impl ChainOptions {
    pub fn new(name: &str, keys: ChainKeys) -> Self {
        ChainOptions {
            name: name.to_owned(),
            keys,
            edge_port: 0,
            gateway_port: 0,
            origin_domain: "abc123defg.execute-api.localhost".to_owned(),
            origin_path: "/prod".to_owned(),
            stage: Some("prod".to_owned()),
            custom_domains: Vec::new(),
            upstream: None,
            bundle_args: Vec::new(),
            authorizer_env: Vec::new(),
            edge_env: Vec::new(),
            echo_logs: false,
        }
    }
}

#[derive(Debug)]
pub struct LocalChain {
    pub edge_url: String,
    pub gateway_url: String,
    pub edge: Arc<EdgeHost>,
    pub gateway_port: u16,
    pub options: ChainOptions,
    authorizer: Child,
    authorizer_logs: Arc<Mutex<Vec<String>>>,
    _runtime: RuntimeApi,
}

/// A built binary of this workspace (`target/debug/<name>`, or `ORIGINSIG_BIN_DIR`).
pub fn binary(name: &str) -> Result<PathBuf, String> {
    let dir = std::env::var_os("ORIGINSIG_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo::root().join("target/debug"));
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: build it first (cargo build --workspace --bins)",
            path.display()
        ))
    }
}

fn capture<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    stream: R,
    sink: Arc<Mutex<Vec<String>>>,
    echo: Option<&'static str>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(prefix) = echo {
                eprintln!("[{prefix}] {line}");
            }
            if let Ok(mut sink) = sink.lock() {
                sink.push(line);
            }
        }
    });
}

impl LocalChain {
    pub async fn start(options: ChainOptions) -> Result<Self, String> {
        // 1. The edge bundle, with its configuration baked in.
        let bundle = repo::root().join("target/local-chain").join(&options.name);
        let mut args = vec![
            repo::root().join("edge-signer/bundle.py").display().to_string(),
            "--no-build".to_owned(),
            "--out".to_owned(),
            bundle.display().to_string(),
        ];
        match &options.keys {
            ChainKeys::File(path) => args.extend(["--key-file".to_owned(), path.display().to_string()]),
            ChainKeys::SecretsManager { secret_id, .. } => args.extend([
                "--secret-id".to_owned(),
                secret_id.clone(),
                "--region".to_owned(),
                "us-east-1".to_owned(),
            ]),
        }
        args.extend(options.bundle_args.iter().cloned());
        let built = std::process::Command::new("python3")
            .args(&args)
            .output()
            .map_err(|e| format!("python3: {e}"))?;
        if !built.status.success() {
            return Err(format!("edge bundle: {}", String::from_utf8_lossy(&built.stderr)));
        }

        // 2. The authorizer, started the way Lambda starts it.
        let runtime = RuntimeApi::start().await.map_err(|e| e.to_string())?;
        let mut command = Command::new(binary("hmac-authorizer")?);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        command.envs(runtime.lambda_env("hmac-authorizer"));
        let aws_env = match &options.keys {
            ChainKeys::File(path) => {
                command.env("ORIGINSIG_KEY_FILE", path);
                Vec::new()
            }
            ChainKeys::SecretsManager { secret_id, env } => {
                command.env("ORIGINSIG_SECRET_ID", secret_id);
                env.clone()
            }
        };
        command.envs(aws_env.iter().map(|(k, v)| (*k, v.clone())));
        command.envs(options.authorizer_env.iter().map(|(k, v)| (k.clone(), v.clone())));
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut authorizer = command.spawn().map_err(|e| format!("hmac-authorizer: {e}"))?;
        let authorizer_logs: Arc<Mutex<Vec<String>>> = Arc::default();
        let echo = options.echo_logs.then_some("authorizer");
        if let Some(out) = authorizer.stdout.take() {
            capture(out, Arc::clone(&authorizer_logs), echo);
        }
        if let Some(err) = authorizer.stderr.take() {
            capture(err, Arc::clone(&authorizer_logs), echo);
        }

        // 3. The gateway in front of the backend.
        let gateway_port = start_gateway(
            options.gateway_port,
            GatewayConfig {
                stage: options.stage.clone(),
                custom_domains: options.custom_domains.clone(),
                upstream: options.upstream.clone(),
            },
            runtime.clone(),
        )
        .await
        .map_err(|e| format!("gateway on 127.0.0.1:{}: {e}", options.gateway_port))?;

        // 4. The edge: the bundle in a warm Node host, behind the CloudFront emulator.
        let mut edge_env: Vec<(&str, String)> = aws_env.clone();
        edge_env.extend(options.edge_env.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let edge = EdgeHost::start(&bundle, &edge_env, options.echo_logs)
            .await
            .map_err(|e| format!("edge host: {e}"))?;
        let origin = OriginConfig {
            domain_name: options.origin_domain.clone(),
            path: options.origin_path.clone(),
            port: gateway_port,
        };
        let edge_port = start_edge(options.edge_port, origin, Arc::clone(&edge))
            .await
            .map_err(|e| format!("edge on 127.0.0.1:{}: {e}", options.edge_port))?;

        Ok(LocalChain {
            edge_url: format!("http://127.0.0.1:{edge_port}"),
            gateway_url: format!("http://127.0.0.1:{gateway_port}"),
            edge,
            gateway_port,
            options,
            authorizer,
            authorizer_logs,
            _runtime: runtime,
        })
    }

    /// Another CloudFront distribution (or origin) on the same edge bundle and gateway: a custom
    /// domain with a base path, say. Returns its URL.
    pub async fn add_edge(&self, origin_domain: &str, origin_path: &str) -> Result<String, String> {
        let origin = OriginConfig {
            domain_name: origin_domain.to_owned(),
            path: origin_path.to_owned(),
            port: self.gateway_port,
        };
        let port = start_edge(0, origin, Arc::clone(&self.edge))
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!("http://127.0.0.1:{port}"))
    }

    pub fn authorizer_logs(&self) -> Vec<String> {
        self.authorizer_logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn edge_logs(&self) -> Vec<String> {
        self.edge.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub async fn stop(mut self) {
        let _ = self.authorizer.kill().await;
    }
}
