//! Configuration from environment variables. Every error names the variable and says what a
//! valid value looks like; the table in docs/reference/configuration.md lists them all.

use std::path::PathBuf;
use std::time::Duration;

use originsig_core::{AcceptV1, Freshness};

use crate::aws::CallPolicy;
use crate::observability::MetricsTarget;
use crate::timing::{seconds_var, Timing};
use thiserror::Error;

/// Which gateway payload the authorizer reads, and how it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizerMode {
    /// HTTP API, payload 2.0, simple responses (`isAuthorized` + `context`).
    Simple,
    /// HTTP API, payload 2.0, IAM policy responses.
    Iam,
    /// REST API REQUEST authorizer, or HTTP API payload 1.0: IAM policy on `methodArn`.
    Rest,
}

/// Where keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySourceConfig {
    /// A Secrets Manager secret (name or ARN); AWSCURRENT, AWSPENDING and AWSPREVIOUS are read.
    SecretsManager { secret_id: String },
    /// A key-ring file (local chain and tests).
    File { path: PathBuf },
}

/// When the key cache refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// Refresh in the background once the ring is this old.
    pub ttl: Duration,
    /// Past this age without a successful refresh, stop verifying (fail closed).
    pub max_stale: Duration,
    /// At most one refresh per this interval because of an unknown key id.
    pub unknown_key_interval: Duration,
    /// After a failed refresh, wait this long before the next attempt.
    pub retry_interval: Duration,
    /// The longest one read of the store can take (its client's call bound): a read in flight
    /// for longer than this (and half the TTL) can only have spanned a freeze of the container.
    pub read_bound: Duration,
}

impl CachePolicy {
    /// The authorizer's cache policy of a timing model.
    pub const fn of(timing: &Timing) -> Self {
        CachePolicy {
            ttl: Duration::from_secs(timing.authorizer_cache_ttl_secs),
            max_stale: Duration::from_secs(timing.authorizer_max_stale_secs),
            unknown_key_interval: Duration::from_secs(timing.authorizer_unknown_key_refresh_secs),
            retry_interval: Duration::from_secs(timing.authorizer_refresh_retry_secs),
            read_bound: timing.authorizer_calls().call_timeout,
        }
    }
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy::of(&Timing::DEFAULT)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub keys: KeySourceConfig,
    pub mode: AuthorizerMode,
    pub freshness: Freshness,
    /// Which v1 signatures are accepted (SPEC.md §6.1).
    pub accept_v1: AcceptV1,
    pub cache: CachePolicy,
    pub metrics: MetricsTarget,
    /// Bounds on each Secrets Manager call.
    pub secrets_manager_calls: CallPolicy,
}

/// An invalid or missing variable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid configuration: {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

pub const SECRET_ID: &str = "ORIGINSIG_SECRET_ID";
pub const KEY_FILE: &str = "ORIGINSIG_KEY_FILE";
pub const RESPONSE_MODE: &str = "ORIGINSIG_RESPONSE_MODE";
pub const MAX_AGE_SECS: &str = "ORIGINSIG_MAX_AGE_SECS";
pub const MAX_FUTURE_SECS: &str = "ORIGINSIG_MAX_FUTURE_SECS";
pub const CACHE_TTL_SECS: &str = "ORIGINSIG_CACHE_TTL_SECS";
pub const MAX_STALE_SECS: &str = "ORIGINSIG_MAX_STALE_SECS";
pub const UNKNOWN_KEY_REFRESH_SECS: &str = "ORIGINSIG_UNKNOWN_KEY_REFRESH_SECS";
pub const REFRESH_RETRY_SECS: &str = "ORIGINSIG_REFRESH_RETRY_SECS";
pub const METRICS_NAMESPACE: &str = "ORIGINSIG_METRICS_NAMESPACE";
pub const METRICS_DEPLOYMENT: &str = "ORIGINSIG_METRICS_DEPLOYMENT";
pub const LOG_LEVEL: &str = "ORIGINSIG_LOG_LEVEL";
pub const ACCEPT_V1: &str = "ORIGINSIG_ACCEPT_V1";

impl Config {
    /// Reads the configuration through `get` (normally `std::env::var`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|value| !value.is_empty());
        let keys = match (get(SECRET_ID), get(KEY_FILE)) {
            (Some(secret_id), None) => KeySourceConfig::SecretsManager { secret_id },
            (None, Some(path)) => KeySourceConfig::File {
                path: PathBuf::from(path),
            },
            (Some(_), Some(_)) => {
                return Err(error(
                    SECRET_ID,
                    format!("set either {SECRET_ID} or {KEY_FILE}, not both"),
                ))
            }
            (None, None) => {
                return Err(error(
                    SECRET_ID,
                    format!(
                        "not set: name the Secrets Manager secret (or set {KEY_FILE} for a local key file)"
                    ),
                ))
            }
        };
        let mode = match get(RESPONSE_MODE).as_deref() {
            None | Some("simple") => AuthorizerMode::Simple,
            Some("iam") => AuthorizerMode::Iam,
            Some("rest") => AuthorizerMode::Rest,
            Some(other) => {
                return Err(error(
                    RESPONSE_MODE,
                    format!("expected simple, iam or rest, got {other:?}"),
                ))
            }
        };
        let accept_v1 = match get(ACCEPT_V1) {
            None => AcceptV1::default(),
            Some(name) => AcceptV1::from_name(&name).ok_or_else(|| {
                let names: Vec<_> = AcceptV1::ALL.iter().map(|p| p.as_str()).collect();
                error(ACCEPT_V1, format!("expected {}, got {name:?}", names.join(", ")))
            })?,
        };
        let defaults = Timing::DEFAULT;
        let timing = Timing {
            max_age_secs: seconds_var(&get, MAX_AGE_SECS, defaults.max_age_secs)?,
            max_future_secs: seconds_var(&get, MAX_FUTURE_SECS, defaults.max_future_secs)?,
            authorizer_cache_ttl_secs: seconds_var(&get, CACHE_TTL_SECS, defaults.authorizer_cache_ttl_secs)?,
            authorizer_max_stale_secs: seconds_var(&get, MAX_STALE_SECS, defaults.authorizer_max_stale_secs)?,
            authorizer_unknown_key_refresh_secs: seconds_var(
                &get,
                UNKNOWN_KEY_REFRESH_SECS,
                defaults.authorizer_unknown_key_refresh_secs,
            )?,
            authorizer_refresh_retry_secs: seconds_var(
                &get,
                REFRESH_RETRY_SECS,
                defaults.authorizer_refresh_retry_secs,
            )?,
            ..defaults
        };
        let freshness = timing.freshness();
        let cache = CachePolicy::of(&timing);
        if cache.max_stale < cache.ttl {
            return Err(error(
                MAX_STALE_SECS,
                format!("must be at least {CACHE_TTL_SECS}"),
            ));
        }
        let metrics_namespace = get(METRICS_NAMESPACE).unwrap_or_else(|| "originsig".to_owned());
        if metrics_namespace.len() > 255 || metrics_namespace.contains(':') {
            return Err(error(
                METRICS_NAMESPACE,
                "expected a CloudWatch namespace (≤ 255 characters, no ':')".into(),
            ));
        }
        let metrics_deployment = get(METRICS_DEPLOYMENT).unwrap_or_else(|| "default".to_owned());
        if metrics_deployment.len() > 1024 {
            return Err(error(
                METRICS_DEPLOYMENT,
                "expected a CloudWatch dimension value (≤ 1024 characters)".into(),
            ));
        }
        // Read by the binary before this (to log configuration errors); checked here.
        let log_level = get(LOG_LEVEL)
            .unwrap_or_else(|| "info".to_owned())
            .to_ascii_lowercase();
        if !["error", "warn", "info", "debug", "trace"].contains(&log_level.as_str()) {
            return Err(error(
                LOG_LEVEL,
                format!("expected error, warn, info, debug or trace, got {log_level:?}"),
            ));
        }
        Ok(Config {
            keys,
            mode,
            secrets_manager_calls: timing.authorizer_calls(),
            freshness,
            accept_v1,
            cache,
            metrics: MetricsTarget {
                namespace: metrics_namespace,
                deployment: metrics_deployment,
            },
        })
    }
}

/// The variables Lambda sets for every function and that the Lambda runtime client needs (it
/// panics without them): without them the binary was not started by Lambda.
pub const LAMBDA_VARIABLES: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// What a Lambda binary says when it is run by hand (or with `--help`): what it is, which
/// variables it needs, and what to use instead.
#[derive(Debug, Clone, Copy)]
pub struct LambdaBinary {
    pub name: &'static str,
    pub what: &'static str,
    pub needs: &'static str,
}

impl LambdaBinary {
    /// `Ok` when Lambda started this process (its variables are set and there are no arguments:
    /// Lambda passes none); else the one sentence to print before exiting non-zero.
    pub fn started_by_lambda(
        &self,
        mut args: impl Iterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(), String> {
        let missing: Vec<&str> = LAMBDA_VARIABLES
            .iter()
            .copied()
            .filter(|name| env(name).filter(|v| !v.is_empty()).is_none())
            .collect();
        let memory_ok = env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").is_none_or(|m| m.parse::<i32>().is_ok());
        if args.next().is_none() && missing.is_empty() && memory_ok {
            return Ok(());
        }
        let why = if missing.is_empty() {
            "it takes no arguments".to_owned()
        } else {
            format!("{} not set here", missing.join(", "))
        };
        Err(format!(
            "{} is {}; it runs only inside AWS Lambda ({why}) and is configured by {} (README.md); \
             to manage or test keys by hand, use `originsig --help`.",
            self.name, self.what, self.needs
        ))
    }
}

/// The authorizer binary's sentence.
pub const AUTHORIZER_BINARY: LambdaBinary = LambdaBinary {
    name: "hmac-authorizer",
    what: "the originsig API Gateway Lambda authorizer",
    needs: "ORIGINSIG_SECRET_ID (or ORIGINSIG_KEY_FILE) and the optional ORIGINSIG_* variables",
};

/// The rotator binary's sentence.
pub const ROTATOR_BINARY: LambdaBinary = LambdaBinary {
    name: "key-rotator",
    what: "the originsig Secrets Manager rotation function (invoked by Secrets Manager)",
    needs:
        "the optional ORIGINSIG_ROTATION_WAIT_SECS, ORIGINSIG_CACHE_TTL_SECS, ORIGINSIG_EDGE_MAX_STALE_SECS, \
            ORIGINSIG_MAX_AGE_SECS, ORIGINSIG_TEST_URL and ORIGINSIG_DIRECT_URL (the secret comes in each \
            Secrets Manager event)",
};

fn error(variable: &'static str, problem: String) -> ConfigError {
    ConfigError { variable, problem }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_env(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults() {
        let c = config(&[(SECRET_ID, "originsig/prod")]).unwrap();
        assert_eq!(c.mode, AuthorizerMode::Simple);
        assert_eq!(c.freshness, Freshness::default());
        assert_eq!(c.accept_v1, AcceptV1::Unambiguous);
        let all = config(&[(SECRET_ID, "a"), (ACCEPT_V1, "all")]).unwrap();
        assert_eq!(all.accept_v1, AcceptV1::All);
        assert_eq!(c.cache, CachePolicy::default());
    }

    #[test]
    fn a_lambda_binary_run_by_hand_says_what_it_is() {
        let lambda = |name: &str| match name {
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => Some("128".to_owned()),
            _ => Some("x".to_owned()),
        };
        let started = |args: &[&str], env: &dyn Fn(&str) -> Option<String>| {
            AUTHORIZER_BINARY.started_by_lambda(args.iter().map(|a| (*a).to_owned()), env)
        };
        assert!(started(&[], &lambda).is_ok());
        let by_hand = started(&[], &|_| None).unwrap_err();
        assert!(
            by_hand.contains("AWS_LAMBDA_RUNTIME_API") && by_hand.contains("ORIGINSIG_SECRET_ID"),
            "{by_hand}"
        );
        let help = started(&["--help"], &lambda).unwrap_err();
        assert!(help.contains("takes no arguments"), "{help}");
        let bad_memory = |name: &str| {
            Some(
                if name.ends_with("MEMORY_SIZE") {
                    "lots"
                } else {
                    "x"
                }
                .to_owned(),
            )
        };
        assert!(started(&[], &bad_memory).is_err());
    }

    #[test]
    fn every_error_names_its_variable() {
        let cases: [(&[(&str, &str)], &str); 8] = [
            (&[], SECRET_ID),
            (&[(SECRET_ID, "a"), (KEY_FILE, "b")], SECRET_ID),
            (&[(SECRET_ID, "a"), (RESPONSE_MODE, "fancy")], RESPONSE_MODE),
            (&[(SECRET_ID, "a"), (MAX_AGE_SECS, "-1")], MAX_AGE_SECS),
            (&[(SECRET_ID, "a"), (MAX_FUTURE_SECS, "0")], MAX_FUTURE_SECS),
            (
                &[(SECRET_ID, "a"), (CACHE_TTL_SECS, "100"), (MAX_STALE_SECS, "10")],
                MAX_STALE_SECS,
            ),
            (&[(SECRET_ID, "a"), (LOG_LEVEL, "loud")], LOG_LEVEL),
            (&[(SECRET_ID, "a"), (ACCEPT_V1, "some")], ACCEPT_V1),
        ];
        for (vars, variable) in cases {
            let err = config(vars).unwrap_err();
            assert_eq!(err.variable, variable);
            assert!(err.to_string().contains(variable), "{err}");
        }
    }
}
