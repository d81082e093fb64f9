//! Configuration from environment variables. Every error names the variable and says what a
//! valid value looks like; the table in README.md lists them all.

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
}

impl CachePolicy {
    /// The authorizer's cache policy of a timing model.
    pub const fn of(timing: &Timing) -> Self {
        CachePolicy {
            ttl: Duration::from_secs(timing.authorizer_cache_ttl_secs),
            max_stale: Duration::from_secs(timing.authorizer_max_stale_secs),
            unknown_key_interval: Duration::from_secs(timing.authorizer_unknown_key_refresh_secs),
            retry_interval: Duration::from_secs(timing.authorizer_refresh_retry_secs),
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
