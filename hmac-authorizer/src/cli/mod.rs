//! `originsig`: keys for the originsig protocol. One module per subcommand; the exit codes are
//! `exit`, printing is `output`.

/// `println!` for the CLI: never panics on a closed pipe (`cli::output`). Shadows `std`'s in
/// every subcommand module declared below.
macro_rules! println {
    () => {
        $crate::cli::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for the CLI (see `println!`).
#[allow(unused_macros, reason = "not every build uses it")]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!($($arg)*))
    };
}

/// `eprintln!` for the CLI (see `println!`).
macro_rules! eprintln {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod completions;
mod doctor;
pub mod exit;
mod init;
mod kvs;
pub mod output;
mod reference;
mod rollback;
mod rotate;
mod routes;
mod sign;
mod status;
mod timing;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;

use clap::{Args, Parser, Subcommand};
use thiserror::Error;

use crate::aws::{Identity, SetupError};
use crate::rotation::RotationError;
use crate::store::{KeyFileStore, SecretsManagerStore, StoreError};
use crate::timing::{Timing, TOOL_CALLS};
use exit::{codes, Exit};

const ABOUT_KEYS: &str = "\
Keys come from Secrets Manager with --secret-id (a name, or an ARN, whose region is then used),
through the standard AWS environment (AWS_PROFILE or --profile, AWS_REGION or --region,
AWS_ENDPOINT_URL_SECRETS_MANAGER, ...), or from a local key-ring file with --key-file (the local
chain). ORIGINSIG_SECRET_ID or ORIGINSIG_KEY_FILE stand for the flag when neither is given; a flag
always wins. See SPEC.md §7 for the formats.

Example (a secret in eu-west-1, whatever the profile's region):
  originsig status --secret-id arn:aws:secretsmanager:eu-west-1:123456789012:secret:originsig/prod-AbCdEf";

/// `originsig --help`'s epilogue: the keys, then every exit code.
fn after_help() -> String {
    format!("{ABOUT_KEYS}\n\n{}", exit::help(codes::ANY))
}

#[derive(Debug, Parser)]
#[command(
    name = "originsig",
    version,
    about = "Manage and debug originsig keys: create, rotate with zero rejected requests, inspect, sign, verify",
    after_help = after_help()
)]
pub struct Cli {
    /// AWS profile for every AWS call (default: AWS_PROFILE, else the default profile).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the secret (or key file) with a first key; never overwrites.
    Init(init::InitArgs),
    /// Rotate the key: stage it AWSPENDING, wait for authorizers, test, promote.
    Rotate(rotate::RotateArgs),
    /// Move AWSCURRENT back to the AWSPREVIOUS key (both keep verifying); no AWS CLI needed.
    Rollback(rollback::RollbackArgs),
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) of originsig, or write one per subcommand to a directory.
    Man(completions::ManArgs),
}

/// The clap definition of the whole tool: what completions, the man page and
/// docs/reference/cli.md are generated from.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

pub use reference::{markdown as reference_markdown, JSON_FIELDS};

/// Where the keys are. Both flags are optional to clap: a flag beats its environment variable,
/// which [`KeySourceArgs::source`] reads only when no flag was typed (clap's own `env` would make
/// an exported `ORIGINSIG_SECRET_ID` conflict with a typed `--key-file`).
#[derive(Debug, Clone, Args)]
pub struct KeySourceArgs {
    /// Secrets Manager secret name or ARN; an ARN's region is used [env: ORIGINSIG_SECRET_ID].
    #[arg(long, value_name = "ID", conflicts_with = "key_file")]
    pub secret_id: Option<String>,
    /// Local key-ring file instead of Secrets Manager (the local chain) [env: ORIGINSIG_KEY_FILE].
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

/// Where the keys are, once flags and environment are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    SecretsManager(String),
    File(PathBuf),
}

impl KeySourceArgs {
    /// The typed flag, else the one variable set; both variables set is an error that names them.
    pub fn source(&self, env: impl Fn(&str) -> Option<String>) -> Result<KeySource, CliError> {
        use crate::config::{KEY_FILE, SECRET_ID};
        match (&self.secret_id, &self.key_file) {
            (Some(id), _) => return Ok(KeySource::SecretsManager(id.clone())),
            (None, Some(path)) => return Ok(KeySource::File(path.clone())),
            (None, None) => {}
        }
        let env = |name: &str| env(name).filter(|v| !v.is_empty());
        match (env(SECRET_ID), env(KEY_FILE)) {
            (Some(id), None) => Ok(KeySource::SecretsManager(id)),
            (None, Some(path)) => Ok(KeySource::File(PathBuf::from(path))),
            (Some(_), Some(_)) => Err(CliError::Usage(format!(
                "{SECRET_ID} and {KEY_FILE} are both set in the environment: unset one, or name the keys \
                 with --secret-id or --key-file (a flag wins over both)"
            ))),
            (None, None) => Err(CliError::Usage(format!(
                "where are the keys? pass --secret-id NAME_OR_ARN (Secrets Manager) or --key-file PATH, \
                 or set {SECRET_ID} or {KEY_FILE}"
            ))),
        }
    }

    /// Opens the store: for Secrets Manager, with the operator's identity (credentials checked,
    /// region from `--region`, else the secret ARN, else the environment).
    pub async fn open(&self, region: &RegionArgs) -> Result<AnyStore, CliError> {
        match self.source(|name| std::env::var(name).ok())? {
            KeySource::SecretsManager(id) => {
                let identity = identity(region.region.as_deref(), Some(&id))?;
                let config = crate::aws::operator_config(&identity, TOOL_CALLS).await?;
                let client = aws_sdk_secretsmanager::Client::new(&config);
                Ok(AnyStore::SecretsManager(SecretsManagerStore::new(client, id)))
            }
            KeySource::File(path) => Ok(AnyStore::File(KeyFileStore::new(path))),
        }
    }
}

/// The global `--profile`, set once by [`main`] before any subcommand runs.
static PROFILE: OnceLock<Option<String>> = OnceLock::new();

/// The identity for an AWS call: the global `--profile`; `--region`, else the region of the
/// resource's ARN, else the environment's. A `--region` that contradicts the ARN is refused
/// (the call could only fail with "not found").
pub fn identity(region_flag: Option<&str>, resource: Option<&str>) -> Result<Identity, CliError> {
    let from_arn = resource.and_then(crate::aws::region_of_arn);
    let region = match (region_flag, from_arn) {
        (Some(flag), Some(arn)) if flag != arn => {
            return Err(CliError::Usage(format!(
                "--region {flag} contradicts the ARN, which is in {arn}: drop --region (the ARN's region is used)"
            )))
        }
        (Some(flag), _) => Some(flag.to_owned()),
        (None, arn) => arn.map(str::to_owned),
    };
    Ok(Identity {
        profile: PROFILE.get().cloned().flatten(),
        region,
    })
}

/// The request a signature is about: `sign` and `verify` take the same flags.
#[derive(Debug, Clone, Args)]
pub struct RequestArgs {
    /// HTTP method of the request, in upper case as sent (methods are case-sensitive).
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// The request's URL at the API (host, stage and path included), signed exactly as written:
    /// no dot-segment removal, no re-encoding. Write it as a client sends it on the wire: a
    /// character outside RFC 3986 (a space, a backslash, `"<>{}|^`, `[]` after the host, non-ASCII) must be
    /// percent-encoded (a space as %20); a URL with one is refused, with the encoded form to use.
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
        check_method(&self.method)?;
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

/// A method as the core accepts it, or an error that says how to write it.
fn check_method(method: &str) -> Result<(), CliError> {
    if originsig_core::Method::new(method).is_ok() {
        return Ok(());
    }
    let upper = method.to_ascii_uppercase();
    if originsig_core::Method::new(&upper).is_ok() {
        return Err(CliError::Usage(format!(
            "-X {method}: HTTP methods are case-sensitive and sent in upper case; did you mean -X {upper}?"
        )));
    }
    Err(CliError::Usage(format!(
        "-X {method}: not an HTTP method (1 to 16 upper-case letters, e.g. GET, POST)"
    )))
}

/// Host, path and query of an `http(s)` URL, as written.
///
/// Hand-written on purpose: a URL parser (the `url` crate, WHATWG) removes `.` and `..` segments
/// (also `%2e%2e`), turns `\` into `/` and re-encodes characters, while the signature must cover
/// the path exactly as a client sends it (`curl --path-as-is`). So a URL is used only when it is
/// already what goes on the wire: every character after the scheme is one RFC 3986 allows
/// (anything else is refused, with its encoded form), and the parser still checks the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// As the parser reads it (lowercase, no port).
    pub host: String,
    pub path: &'a str,
    pub query: &'a str,
}

impl<'a> UrlParts<'a> {
    pub fn split(url: &'a str) -> Result<Self, String> {
        let Some((scheme, after_scheme)) = url.split_once("://") else {
            return Err("not an absolute http(s) URL (write https://HOST/PATH)".to_owned());
        };
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err("only http and https URLs".to_owned());
        }
        let without_fragment = after_scheme.split_once('#').map_or(after_scheme, |(u, _)| u);
        check_as_sent(url, without_fragment)?;
        let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
        let host = parsed.host_str().ok_or("no host")?.to_owned();
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

/// Whether a byte may appear in a URL as sent (RFC 3986: unreserved, reserved, `%`); `[` and `]`
/// only in the host (an IPv6 literal): in a path or query they are not RFC 3986, and curl reads
/// them as a glob.
fn allowed_in_url(byte: u8, in_host: bool) -> bool {
    byte.is_ascii_alphanumeric()
        || b"-._~:/?#@!$&'()*+,;=%".contains(&byte)
        || (in_host && b"[]".contains(&byte))
}

/// Refuses a URL that a client would not send as written, naming the first offending character
/// and giving the URL with every such character percent-encoded.
fn check_as_sent(url: &str, after_scheme: &str) -> Result<(), String> {
    let bytes = after_scheme.as_bytes();
    let bad_escape = bytes.iter().enumerate().find(|&(at, &b)| {
        b == b'%'
            && !(bytes.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if let Some((at, _)) = bad_escape {
        return Err(format!(
            "a `%` at byte {} is not followed by two hexadecimal digits; write a literal % as %25",
            url.len() - after_scheme.len() + at
        ));
    }
    // Offsets in `url`: the scheme and `://` end at `start`, the host (authority) at `path_at`.
    let start = url.len() - after_scheme.len();
    let path_at = start + after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
    let as_sent = |at: usize, c: char| {
        let mut buf = [0u8; 4];
        at < start || matches!(c.encode_utf8(&mut buf).as_bytes(), [b] if allowed_in_url(*b, at < path_at))
    };
    let Some(first) = after_scheme
        .char_indices()
        .find(|&(at, c)| !as_sent(start + at, c))
        .map(|(_, c)| c)
    else {
        return Ok(());
    };
    let encoded: String = url
        .char_indices()
        .map(|(at, c)| {
            if as_sent(at, c) {
                c.to_string()
            } else {
                let mut buf = [0u8; 4];
                c.encode_utf8(&mut buf)
                    .as_bytes()
                    .iter()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect();
    let what = match first {
        ' ' => "a space".to_owned(),
        '\\' => "a backslash (a URL parser would read it as /, a client may send it encoded)".to_owned(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("{c:?}"),
    };
    Err(format!(
        "{what} is not sent as written: the URL is signed exactly as given, so write it percent-encoded \
         as a client sends it: {encoded}"
    ))
}

/// The AWS region override (otherwise the secret ARN's, else the standard AWS environment's).
#[derive(Debug, Clone, Args)]
pub struct RegionArgs {
    /// AWS region of the secret (default: the secret ARN's, else AWS_REGION or the profile's).
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
            // The store's state, like a missing secret (exit 3), not the command line's.
            _ => CliError::Rotation(RotationError::NoCurrent(location)),
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

/// Everything a subcommand can fail with, mapped once to an exit code ([`CliError::exit`]).
#[derive(Debug, Error)]
#[non_exhaustive]
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
    /// No AWS credentials or region for the operator.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// An HTTP endpoint of the deployment did not answer (doctor's or a rotation test's URL):
    /// the same code as an AWS endpoint that does not answer.
    #[error("{0}")]
    Unreachable(String),
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
    /// The one mapping from an error to its exit code.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Denied => Exit::Denied,
            CliError::Usage(_) => Exit::Usage,
            // No or a malformed AWSCURRENT is the store's state, like any other store error.
            CliError::Store(_)
            | CliError::Aws(_)
            | CliError::Unreachable(_)
            | CliError::Rotation(
                RotationError::NoCurrent(_)
                | RotationError::InvalidCurrent { .. }
                | RotationError::CheckNoAnswer(_),
            ) => Exit::Aws,
            CliError::Setup(SetupError::NoRegion) => Exit::Usage,
            CliError::Setup(_) => Exit::Aws,
            CliError::Rotation(_) | CliError::CheckFailed(_) => Exit::Problem,
        }
    }
}

pub use crate::clock::now_unix;
pub use crate::human_time::{human, utc};

/// Parses the command line and runs it.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Set once, before any subcommand reads it; `main` runs once per process.
    let _ = PROFILE.set(cli.profile.clone());
    let result = match cli.command {
        Command::Init(args) => init::run(args).await,
        Command::Rotate(args) => rotate::run(args).await,
        Command::Rollback(args) => rollback::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::Sign(args) => sign::run(args).await,
        Command::Verify(args) => verify::run(args).await,
        Command::Doctor(args) => doctor::run(args).await,
        Command::Timing(args) => timing::run(&args),
        Command::Routes(args) => routes::run(args).await,
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Denied) => ExitCode::from(Exit::Denied.code()),
        Err(error) => {
            eprintln!("originsig: error: {error}");
            if let CliError::Rotation(RotationError::TooEarly { .. }) = error {
                eprintln!("originsig: (or pass --force if you know no edge can still sign with that key)");
            }
            ExitCode::from(error.exit().code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_url_that_is_not_sent_as_written_is_refused_with_its_encoded_form() {
        let error = |url| UrlParts::split(url).unwrap_err();
        assert!(
            error("https://h/a b").ends_with("https://h/a%20b"),
            "{}",
            error("https://h/a b")
        );
        assert!(error(r"https://h\a\b").contains("backslash"));
        assert!(error(r"https://h\a\b").ends_with(r"https://h%5Ca%5Cb"));
        assert!(error("https://h/caf\u{e9}").ends_with("https://h/caf%C3%A9"));
        assert!(error("https://h/a?q=\"x\"").ends_with("https://h/a?q=%22x%22"));
        assert!(error("https://h/a%zz").contains("%25"));
        assert!(error("https://h/a%2").contains("two hexadecimal digits"));
        assert!(error("https://h/a[1]").ends_with("https://h/a%5B1%5D"));
        assert!(error("https://h/a?x[]=1").ends_with("https://h/a?x%5B%5D=1"));
        assert_eq!(UrlParts::split("https://[::1]:8443/a").unwrap().path, "/a");
    }

    #[test]
    fn a_flag_beats_the_environment_and_a_conflict_names_the_variables() {
        let args = |secret: Option<&str>, file: Option<&str>| KeySourceArgs {
            secret_id: secret.map(str::to_owned),
            key_file: file.map(PathBuf::from),
        };
        let both = |name: &str| Some(format!("from-{name}"));
        assert_eq!(
            args(None, Some("k.json")).source(both).unwrap(),
            KeySource::File("k.json".into())
        );
        assert_eq!(
            args(Some("s"), None).source(both).unwrap(),
            KeySource::SecretsManager("s".into())
        );
        let conflict = args(None, None).source(both).unwrap_err().to_string();
        assert!(conflict.contains("ORIGINSIG_SECRET_ID") && conflict.contains("ORIGINSIG_KEY_FILE"));
        let only_file = |name: &str| (name == "ORIGINSIG_KEY_FILE").then(|| "f".to_owned());
        assert_eq!(
            args(None, None).source(only_file).unwrap(),
            KeySource::File("f".into())
        );
        assert!(matches!(
            args(None, None).source(|_| None),
            Err(CliError::Usage(_))
        ));
    }

    #[test]
    fn the_region_comes_from_the_flag_else_the_arn() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf";
        assert_eq!(
            identity(None, Some(arn)).unwrap().region.as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            identity(Some("eu-west-1"), Some(arn)).unwrap().region.as_deref(),
            Some("eu-west-1")
        );
        assert!(matches!(
            identity(Some("us-east-1"), Some(arn)),
            Err(CliError::Usage(_))
        ));
        assert_eq!(identity(None, Some("name")).unwrap().region, None);
        assert_eq!(
            identity(Some("ap-south-1"), Some("name"))
                .unwrap()
                .region
                .as_deref(),
            Some("ap-south-1")
        );
    }

    #[test]
    fn a_lower_case_method_suggests_its_upper_case() {
        let text = check_method("get").unwrap_err().to_string();
        assert!(
            text.contains("case-sensitive") && text.contains("-X GET"),
            "{text}"
        );
        assert!(check_method("GET").is_ok());
        assert!(check_method("GE T")
            .unwrap_err()
            .to_string()
            .contains("not an HTTP method"));
    }
}
