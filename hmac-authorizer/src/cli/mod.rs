//! `originsig`: keys for the originsig protocol. One module per subcommand.

// Printing results is what a command-line tool is for.
#![allow(clippy::print_stdout)]

mod init;
mod rotate;
mod sign;
mod status;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use thiserror::Error;

use crate::rotation::RotationError;
use crate::store::{KeyFileStore, SecretsManagerStore, StoreError};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (verify: the request would be allowed)
  1  verify: the request would be denied
  2  usage error (bad arguments)
  3  key store error (AWS, permissions, throttling, missing or malformed secret, file)
  4  rotation refused (too early, invalid pending key) or a rotation test failed

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

/// The request a signature is about: `sign` and `verify` take the same two flags.
#[derive(Debug, Clone, Args)]
pub struct RequestArgs {
    /// HTTP method of the request.
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// The request's URL at the origin (host, stage and path included).
    #[arg(long)]
    pub url: String,
}

impl RequestArgs {
    /// The URL and what a signature over it covers.
    pub fn target(&self) -> Result<(reqwest::Url, originsig_core::RequestTarget), CliError> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| CliError::Usage(format!("--url {}: {e}", self.url)))?;
        let target = crate::checks::target_of(&self.method, &url).map_err(CliError::Usage)?;
        Ok((url, target))
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

impl KeySourceArgs {
    pub async fn open(&self, region: &RegionArgs) -> AnyStore {
        match (&self.secret_id, &self.key_file) {
            (_, Some(path)) => AnyStore::File(KeyFileStore::new(path.clone())),
            (Some(id), None) => AnyStore::SecretsManager(
                SecretsManagerStore::from_env(id.clone(), region.region.clone()).await,
            ),
            (None, None) => AnyStore::File(KeyFileStore::new(PathBuf::from("originsig-keys.json"))),
        }
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
            CliError::Store(_) => 3,
            CliError::Rotation(_) => 4,
        }
    }
}

pub use crate::timefmt::{human, now_unix, utc};

/// Parses the command line and runs it.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init(args) => init::run(args).await,
        Command::Rotate(args) => rotate::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::Sign(args) => sign::run(args).await,
        Command::Verify(args) => verify::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Denied) => ExitCode::from(1),
        Err(error) => {
            eprintln!("originsig: error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
