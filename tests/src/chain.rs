//! The whole chain on 127.0.0.1, with the real pieces: the edge bundle under Node behind the edge
//! emulator — or the CloudFront Function under njs reading its key from an edge location's
//! KeyValueStore ([`ChainEdge`]) —, the authorizer binary behind the gateway emulator, keys from a
//! key file or from Secrets Manager (a moto server).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::edge::{
    start_edge, start_function_edge, EdgeHost, EdgeKeyValueStore, FunctionConfig, FunctionEngine,
    OriginConfig, ViewerFunction,
};
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

/// Which signer runs at the chain's edge.
#[derive(Clone)]
pub enum ChainEdge {
    /// The origin-request Lambda@Edge bundle under Node, with the keys of [`ChainOptions::keys`].
    LambdaEdge,
    /// A viewer-request CloudFront Function (the real build of `edge-signer/cloudfront-function/`)
    /// under `engine`, signing with what `store` — one edge location's KeyValueStore, e.g. a
    /// [`crate::kvs::EdgeView`] — returns at each request. The authorizer still reads
    /// [`ChainOptions::keys`], the source of truth the store is a copy of.
    CloudFrontFunction {
        store: Arc<dyn EdgeKeyValueStore>,
        engine: FunctionEngine,
    },
}

impl std::fmt::Debug for ChainEdge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainEdge::LambdaEdge => f.write_str("LambdaEdge"),
            ChainEdge::CloudFrontFunction { engine, .. } => f
                .debug_struct("CloudFrontFunction")
                .field("engine", engine)
                .finish_non_exhaustive(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ChainOptions {
    /// Names the bundle folder under `target/local-chain/`.
    pub name: String,
    pub keys: ChainKeys,
    /// The signer at the edge (Lambda@Edge unless set).
    pub edge: ChainEdge,
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
            edge: ChainEdge::LambdaEdge,
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
    /// The warm Lambda@Edge container (`None` with a CloudFront Function edge).
    pub edge: Option<Arc<EdgeHost>>,
    /// The CloudFront Function of each edge location, in the order they were started (empty
    /// with a Lambda@Edge edge).
    pub functions: Arc<Mutex<Vec<Arc<ViewerFunction>>>>,
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
        // 1. The edge bundle, with its configuration baked in (Lambda@Edge only).
        let bundle = repo::root().join("target/local-chain").join(&options.name);
        if let ChainEdge::LambdaEdge = options.edge {
            build_bundle(&bundle, &options)?;
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

        let mut chain = LocalChain {
            edge_url: String::new(),
            gateway_url: format!("http://127.0.0.1:{gateway_port}"),
            edge: None,
            functions: Arc::default(),
            gateway_port,
            options,
            authorizer,
            authorizer_logs,
            _runtime: runtime,
        };

        // 4. The edge, behind the CloudFront emulator.
        chain.edge_url = match chain.options.edge.clone() {
            // The bundle in a warm Node host.
            ChainEdge::LambdaEdge => {
                let mut edge_env: Vec<(&str, String)> = aws_env.clone();
                edge_env.extend(
                    chain
                        .options
                        .edge_env
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.clone())),
                );
                let edge = EdgeHost::start(&bundle, &edge_env, chain.options.echo_logs)
                    .await
                    .map_err(|e| format!("edge host: {e}"))?;
                chain.edge = Some(Arc::clone(&edge));
                let edge_port = start_edge(chain.options.edge_port, chain.origin(), edge)
                    .await
                    .map_err(|e| format!("edge on 127.0.0.1:{}: {e}", chain.options.edge_port))?;
                format!("http://127.0.0.1:{edge_port}")
            }
            // The function, run before each request is forwarded.
            ChainEdge::CloudFrontFunction { store, engine } => {
                chain
                    .add_function_edge_on(chain.options.edge_port, store, engine)
                    .await?
            }
        };
        Ok(chain)
    }

    /// Where the chain's CloudFront sends requests: the gateway, as the origin's domain.
    fn origin(&self) -> OriginConfig {
        OriginConfig {
            domain_name: self.options.origin_domain.clone(),
            path: self.options.origin_path.clone(),
            port: self.gateway_port,
        }
    }

    /// Another edge location of a CloudFront Functions distribution in front of the same
    /// gateway: the same function, reading `store` (that location's view of the KeyValueStore).
    /// Returns its URL.
    pub async fn add_function_edge(
        &self,
        store: Arc<dyn EdgeKeyValueStore>,
        engine: FunctionEngine,
    ) -> Result<String, String> {
        self.add_function_edge_on(0, store, engine).await
    }

    async fn add_function_edge_on(
        &self,
        port: u16,
        store: Arc<dyn EdgeKeyValueStore>,
        engine: FunctionEngine,
    ) -> Result<String, String> {
        static LOCATIONS: AtomicU64 = AtomicU64::new(0);
        // Each location's function gets its own folder: request files are numbered per function.
        let dir = repo::root()
            .join("target/local-chain")
            .join(&self.options.name)
            .join(format!(
                "cloudfront-function-{}-{}",
                std::process::id(),
                LOCATIONS.fetch_add(1, Ordering::Relaxed)
            ));
        // What API Gateway shows before the uri is the origin path (the stage), as the
        // Lambda@Edge bundle reads it from the event.
        let config = FunctionConfig::new(&self.options.origin_domain, &self.options.origin_path);
        let function = ViewerFunction::build(&dir, &config, engine, store)?;
        if self.options.echo_logs {
            echo_function_logs(Arc::clone(&function.logs));
        }
        if let Ok(mut functions) = self.functions.lock() {
            functions.push(Arc::clone(&function));
        }
        let bound = start_function_edge(port, self.origin(), function)
            .await
            .map_err(|e| format!("CloudFront Function edge on 127.0.0.1:{port}: {e}"))?;
        Ok(format!("http://127.0.0.1:{bound}"))
    }

    /// Another CloudFront distribution (or origin) on the same edge bundle and gateway: a custom
    /// domain with a base path, say. Returns its URL.
    pub async fn add_edge(&self, origin_domain: &str, origin_path: &str) -> Result<String, String> {
        let origin = OriginConfig {
            domain_name: origin_domain.to_owned(),
            path: origin_path.to_owned(),
            port: self.gateway_port,
        };
        let edge = self
            .edge
            .as_ref()
            .ok_or("add_edge needs a Lambda@Edge chain (see add_function_edge)")?;
        let port = start_edge(0, origin, Arc::clone(edge))
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!("http://127.0.0.1:{port}"))
    }

    pub fn authorizer_logs(&self) -> Vec<String> {
        self.authorizer_logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// What the edge logged: the Lambda@Edge handler, or every location's function.
    pub fn edge_logs(&self) -> Vec<String> {
        let mut logs = Vec::new();
        if let Some(edge) = &self.edge {
            logs.extend(edge.logs.lock().map(|l| l.clone()).unwrap_or_default());
        }
        for function in self.functions.lock().map(|f| f.clone()).unwrap_or_default() {
            logs.extend(function.logs.lock().map(|l| l.clone()).unwrap_or_default());
        }
        logs
    }

    pub async fn stop(mut self) {
        let _ = self.authorizer.kill().await;
    }
}

/// Builds the Lambda@Edge bundle for the chain into `bundle`.
fn build_bundle(bundle: &std::path::Path, options: &ChainOptions) -> Result<(), String> {
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
    if built.status.success() {
        Ok(())
    } else {
        Err(format!("edge bundle: {}", String::from_utf8_lossy(&built.stderr)))
    }
}

/// Prints a function's `console.log` lines to stderr as they come.
fn echo_function_logs(logs: Arc<Mutex<Vec<String>>>) {
    tokio::spawn(async move {
        let mut shown = 0;
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let lines: Vec<String> = logs
                .lock()
                .map(|l| l.iter().skip(shown).cloned().collect())
                .unwrap_or_default();
            for line in &lines {
                eprintln!("[cloudfront-function] {line}");
            }
            shown += lines.len();
        }
    });
}
