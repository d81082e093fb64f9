//! `originsig`: keys for the originsig protocol. One module per subcommand.

// Printing results is what a command-line tool is for.
#![allow(clippy::print_stdout)]

mod doctor;
mod init;
mod kvs;
mod rotate;
mod routes;
mod sign;
mod status;
mod timing;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use thiserror::Error;

use crate::rotation::RotationError;
use crate::store::{KeyFileStore, SecretsManagerStore, StoreError};
use crate::timing::{Timing, TOOL_CALLS};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (verify: the request would be allowed)
  1  verify: the request would be denied
  2  usage error (bad arguments)
  3  key store or AWS error (permissions, throttling, no answer, missing, malformed or
     conflicting keys, file)
  4  rotation refused (too early, invalid pending key), a rotation test failed, doctor found
     a change to make, or routes found a route without the originsig authorizer

Keys come from Secrets Manager through the standard AWS environment (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL_SECRETS_MANAGER, ...) with --secret-id, or from a local key-ring file with
--key-file (the local chain). See SPEC.md §7 for the formats.";

#[derive(Debug, Parser)]
#[command(
    name = "originsig",
    version,
    about = "Manage and debug originsig keys: create, rotate with zero rejected requests, inspect, sign, verify",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the secret (or key file) with a first key; never overwrites.
    Init(init::InitArgs),
    /// Rotate the key: stage it AWSPENDING, wait for authorizers, test, promote.
    Rotate(rotate::RotateArgs),
    /// Show versions, staging labels, key ids, ages and the next safe rotation time.
    Status(status::StatusArgs),
    /// Sign a request with the AWSCURRENT key: print the header or a ready curl command.
    Sign(sign::SignArgs),
    /// Say whether a request with this signature header would be allowed, and if not, exactly why.
    Verify(verify::VerifyArgs),
    /// After a deploy: find which path prefix API Gateway shows before the uri (custom domains).
    Doctor(doctor::DoctorArgs),
    /// Print the timing model: every default, and the rotation wait and guard derived from it.
    Timing(timing::TimingArgs),
    /// Every route of an HTTP API behind the originsig authorizer: audit, or attach it.
    Routes(routes::RoutesArgs),
}

/// Where the keys are.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct KeySourceArgs {
    /// Secrets Manager secret name or ARN.
    #[arg(long, env = "ORIGINSIG_SECRET_ID", value_name = "ID")]
    pub secret_id: Option<String>,
    /// Local key-ring file instead of Secrets Manager (the local chain).
    #[arg(long, env = "ORIGINSIG_KEY_FILE", value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

/// The request a signature is about: `sign` and `verify` take the same flags.
#[derive(Debug, Clone, Args)]
pub struct RequestArgs {
    /// HTTP method of the request.
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// The request's URL at the API (host, stage and path included), used exactly as given:
    /// no dot-segment removal, no re-encoding.
    #[arg(long)]
    pub url: String,
    /// The kind of API the URL points at: HTTP APIs decode the path twice before the
    /// authorizer sees it, REST APIs keep its encoding (SPEC.md §4).
    #[arg(long, value_enum, default_value_t = ApiKindArg::HttpApi)]
    pub api_kind: ApiKindArg,
}

/// `--api-kind` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ApiKindArg {
    HttpApi,
    RestApi,
}

impl From<ApiKindArg> for originsig_core::ApiKind {
    fn from(arg: ApiKindArg) -> Self {
        match arg {
            ApiKindArg::HttpApi => originsig_core::ApiKind::HttpApi,
            ApiKindArg::RestApi => originsig_core::ApiKind::RestApi,
        }
    }
}

impl RequestArgs {
    /// What a signature over the URL covers, with its path and query exactly as written.
    pub fn target(&self) -> Result<originsig_core::RequestTarget, CliError> {
        let parts =
            UrlParts::split(&self.url).map_err(|e| CliError::Usage(format!("--url {}: {e}", self.url)))?;
        originsig_core::RequestTarget::from_edge(
            &self.method,
            &parts.host,
            "",
            parts.path,
            parts.query,
            self.api_kind.into(),
        )
        .map_err(|e| CliError::Usage(format!("--url {} cannot be signed: {e}", self.url)))
    }
}

/// Host, path and query of an `http(s)` URL, as written.
///
/// Hand-written on purpose: a URL parser (the `url` crate, WHATWG) removes `.` and `..` segments
/// (also `%2e%2e`) and re-encodes characters, while the signature must cover the path exactly as
/// a client sends it (`curl --path-as-is`). The URL is still validated by the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// As the parser reads it (lowercase, no port).
    pub host: String,
    pub path: &'a str,
    pub query: &'a str,
}

impl<'a> UrlParts<'a> {
    pub fn split(url: &'a str) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("only http and https URLs".to_owned());
        }
        let host = parsed.host_str().ok_or("no host")?.to_owned();
        // The scheme is http or https, so `://` follows it.
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let without_fragment = after_scheme.split_once('#').map_or(after_scheme, |(u, _)| u);
        let (before_query, query) = without_fragment.split_once('?').unwrap_or((without_fragment, ""));
        let path = before_query
            .find('/')
            .map_or("", |at| before_query.split_at(at).1);
        Ok(UrlParts {
            host,
            path: if path.is_empty() { "/" } else { path },
            query,
        })
    }
}

/// The AWS region override (otherwise the standard AWS environment decides).
#[derive(Debug, Clone, Args)]
pub struct RegionArgs {
    /// AWS region of the secret (default: from the AWS environment).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// Either store; the trait's async methods are not object-safe, so callers match on this.
#[derive(Debug)]
pub enum AnyStore {
    SecretsManager(SecretsManagerStore),
    File(KeyFileStore),
}

/// What the rotation guard needs to know of the deployment (`rotate` and `status` take the
/// same flags; defaults from the timing model).
#[derive(Debug, Clone, Args)]
pub struct GuardArgs {
    /// The edges' maximum staleness (maxStaleSeconds in the edge bundle): how long after a
    /// promotion an edge that cannot read Secrets Manager may still sign with the old key.
    #[arg(long, default_value_t = Timing::DEFAULT.edge_max_stale_secs, value_name = "SECS")]
    pub edge_max_stale: u64,
    /// The authorizers' freshness window (ORIGINSIG_MAX_AGE_SECS), seconds.
    #[arg(long, default_value_t = Timing::DEFAULT.max_age_secs, value_name = "SECS")]
    pub max_age: u64,
    /// How long a KeyValueStore update may take to reach every edge location (CloudFront
    /// Functions edge; unconfirmed by AWS, see `originsig timing`), seconds.
    #[arg(long, default_value_t = Timing::DEFAULT.kvs_propagation_secs, value_name = "SECS")]
    pub kvs_propagation: u64,
}

impl GuardArgs {
    pub fn timing(&self) -> Timing {
        Timing {
            edge_max_stale_secs: self.edge_max_stale,
            max_age_secs: self.max_age,
            kvs_propagation_secs: self.kvs_propagation,
            ..Timing::DEFAULT
        }
    }
}

impl KeySourceArgs {
    pub async fn open(&self, region: &RegionArgs) -> AnyStore {
        match (&self.secret_id, &self.key_file) {
            (Some(id), _) => {
                let client = crate::aws::secrets_manager_client(region.region.clone(), TOOL_CALLS).await;
                AnyStore::SecretsManager(SecretsManagerStore::new(client, id.clone()))
            }
            (None, Some(path)) => AnyStore::File(KeyFileStore::new(path.clone())),
            (None, None) => unreachable!("clap's required group makes --secret-id or --key-file present"),
        }
    }
}

/// The stored keys as authorizers would use them: the ring (for `verify`) and its AWSCURRENT key
/// (for `sign` and `doctor`). A missing or malformed AWSCURRENT, or two labels sharing a key id
/// with different bytes, is a store error (exit 3): authorizers cannot verify with it either.
pub fn usable_ring(
    location: String,
    stored: &crate::rotation::StoredRing,
) -> Result<originsig_core::KeyRing, CliError> {
    match crate::rotation::verifying_ring(stored) {
        Some(Ok(ring)) => Ok(ring),
        Some(Err(problem)) => Err(CliError::Store(StoreError::Invalid {
            what: location,
            label: "the key ring",
            problem,
        })),
        None => Err(match stored.current.as_ref().map(|c| c.key.clone()) {
            Some(Err(problem)) => CliError::Store(StoreError::Invalid {
                what: location,
                label: "AWSCURRENT",
                problem,
            }),
            _ => CliError::Usage(format!("{location} has no AWSCURRENT key; run `originsig init`")),
        }),
    }
}

/// Runs `$body` with `$store` bound to the concrete store.
macro_rules! with_store {
    ($any:expr, $store:ident => $body:expr) => {
        match $any {
            $crate::cli::AnyStore::SecretsManager($store) => $body,
            $crate::cli::AnyStore::File($store) => $body,
        }
    };
}
pub(crate) use with_store;

/// Everything a subcommand can fail with, mapped once to an exit code.
#[derive(Debug, Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Rotation(RotationError),
    /// `verify`: the request would be denied (the report was already printed).
    #[error("denied")]
    Denied,
    /// `doctor`: the deployment needs a change; `routes`: a route is not protected (the report
    /// says which).
    #[error("{0}")]
    CheckFailed(String),
    /// An AWS call other than the key store's (`routes`), with what to do.
    #[error("{0}")]
    Aws(String),
}

impl From<RotationError> for CliError {
    fn from(error: RotationError) -> Self {
        match error {
            RotationError::Store(store) => CliError::Store(store),
            other => CliError::Rotation(other),
        }
    }
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Denied => 1,
            CliError::Usage(_) => 2,
            // No or a malformed AWSCURRENT is the store's state, like any other store error.
            CliError::Store(_)
            | CliError::Aws(_)
            | CliError::Rotation(RotationError::NoCurrent(_) | RotationError::InvalidCurrent { .. }) => 3,
            CliError::Rotation(_) | CliError::CheckFailed(_) => 4,
        }
    }
}

pub use crate::clock::now_unix;
pub use crate::human_time::{human, utc};

/// Parses the command line and runs it.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init(args) => init::run(args).await,
        Command::Rotate(args) => rotate::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::Sign(args) => sign::run(args).await,
        Command::Verify(args) => verify::run(args).await,
        Command::Doctor(args) => doctor::run(args).await,
        Command::Timing(args) => timing::run(&args),
        Command::Routes(args) => routes::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Denied) => ExitCode::from(1),
        Err(error) => {
            eprintln!("originsig: error: {error}");
            if let CliError::Rotation(RotationError::TooEarly { .. }) = error {
                eprintln!("originsig: (or pass --force if you know no edge can still sign with that key)");
            }
            ExitCode::from(error.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::UrlParts;

    #[test]
    fn url_parts_keep_the_path_exactly_as_written() {
        let split = |url| {
            let parts = UrlParts::split(url).unwrap();
            (parts.host, parts.path, parts.query)
        };
        assert_eq!(
            split("https://API.example.com:8443/prod/a/../b/./c?x=1&y#frag"),
            ("api.example.com".to_owned(), "/prod/a/../b/./c", "x=1&y")
        );
        assert_eq!(split("https://h.example/%2e%2e/a%252Fb").1, "/%2e%2e/a%252Fb");
        assert_eq!(split("https://u:p@h.example?q=1").1, "/");
        assert_eq!(split("https://h.example?q=/a/b").2, "q=/a/b");
        assert!(UrlParts::split("ftp://h.example/").is_err());
        assert!(UrlParts::split("/relative").is_err());
    }
}
