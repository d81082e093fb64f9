//! The scheduled rotator: a Secrets Manager rotation Lambda. Secrets Manager calls it four times
//! per rotation with the same `ClientRequestToken`; each step runs the shared state machine
//! (`crate::rotation`), so a scheduled rotation behaves exactly like `originsig rotate`.
//!
//! | step | what |
//! |---|---|
//! | `createSecret` | stage a new key AWSPENDING under the token (idempotent; refused while the previous key may be in use) |
//! | `setSecret` | nothing (a CloudFront Functions edge's key value store is written at promotion) |
//! | `testSecret` | wait until authorizers can know the key (within the Lambda timeout), then the optional URL checks; with nothing staged under the token (Secrets Manager may call it alone to check a configuration), nothing |
//! | `finishSecret` | record the time, promote PENDING → AWSCURRENT, then copy it into the key value store (`ORIGINSIG_KVS_ARN`, if set; `crate::edge_store`); with nothing staged under the token, nothing |
//!
//! Every step is safe to call alone: only `createSecret` creates a key.

use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use thiserror::Error;

use crate::checks;
use crate::rotation::{self, RotationError};
use crate::store::KeyStore;
use crate::timing::{seconds_var, Timing};

/// The event Secrets Manager sends.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RotationEvent {
    #[serde(rename = "Step")]
    pub step: String,
    #[serde(rename = "SecretId")]
    pub secret_id: String,
    #[serde(rename = "ClientRequestToken")]
    pub token: String,
}

/// Rotator settings from the environment.
#[derive(Debug, Clone)]
pub struct RotatorConfig {
    /// The deployment's timing (authorizer cache TTL, edge max stale, freshness window).
    pub timing: Timing,
    /// How long a new key stays PENDING before promotion (default: derived from `timing`).
    pub wait: Duration,
    pub test_url: Option<Url>,
    pub direct_url: Option<Url>,
    /// The KeyValueStore of a CloudFront Functions edge (`ORIGINSIG_KVS_ARN`, checked here);
    /// `kvs` is its client, which the binary opens (`crate::edge_store`).
    pub kvs_arn: Option<String>,
    pub kvs: Option<crate::store::kvs::KvsKeyCopy>,
}

pub const WAIT_SECS: &str = "ORIGINSIG_ROTATION_WAIT_SECS";
pub const EDGE_MAX_STALE_SECS: &str = "ORIGINSIG_EDGE_MAX_STALE_SECS";
pub const TEST_URL: &str = "ORIGINSIG_TEST_URL";
pub const DIRECT_URL: &str = "ORIGINSIG_DIRECT_URL";
pub const KVS_PROPAGATION_SECS: &str = "ORIGINSIG_KVS_PROPAGATION_SECS";
pub const KVS_ARN: &str = "ORIGINSIG_KVS_ARN";

impl RotatorConfig {
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, crate::config::ConfigError> {
        let error = |variable, problem: String| crate::config::ConfigError { variable, problem };
        let url = |name: &'static str| {
            get(name)
                .filter(|v| !v.is_empty())
                .map(|text| Url::parse(&text).map_err(|e| error(name, format!("{text:?} is not a URL: {e}"))))
                .transpose()
        };
        let defaults = Timing::DEFAULT;
        let timing = Timing {
            authorizer_cache_ttl_secs: seconds_var(
                &get,
                crate::config::CACHE_TTL_SECS,
                defaults.authorizer_cache_ttl_secs,
            )?,
            edge_max_stale_secs: seconds_var(&get, EDGE_MAX_STALE_SECS, defaults.edge_max_stale_secs)?,
            max_age_secs: seconds_var(&get, crate::config::MAX_AGE_SECS, defaults.max_age_secs)?,
            kvs_propagation_secs: seconds_var(&get, KVS_PROPAGATION_SECS, defaults.kvs_propagation_secs)?,
            ..defaults
        };
        let kvs_arn = get(crate::store::kvs::KVS_ARN_VAR).filter(|v| !v.is_empty());
        if let Some(arn) = &kvs_arn {
            crate::store::kvs::check_arn(arn)
                .map_err(|problem| error(crate::store::kvs::KVS_ARN_VAR, problem))?;
        }
        Ok(RotatorConfig {
            wait: Duration::from_secs(seconds_var(&get, WAIT_SECS, timing.propagation_wait().as_secs())?),
            timing,
            test_url: url(TEST_URL)?,
            direct_url: url(DIRECT_URL)?,
            kvs_arn,
            kvs: None,
        })
    }
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RotatorError {
    #[error("unknown rotation step {0:?} (expected createSecret, setSecret, testSecret or finishSecret)")]
    UnknownStep(String),
    #[error(transparent)]
    Rotation(#[from] RotationError),
    #[error(
        "the propagation wait ({wait}s left) does not fit in this invocation ({available}s left): raise the \
         function timeout or lower {WAIT_SECS}"
    )]
    WaitTooLong { wait: u64, available: u64 },
}

impl From<RotatorError> for lambda_runtime::Diagnostic {
    fn from(error: RotatorError) -> Self {
        let error_type = match &error {
            RotatorError::UnknownStep(_) => "UnknownStep",
            RotatorError::Rotation(RotationError::TooEarly { .. }) => "RotationTooEarly",
            RotatorError::Rotation(RotationError::CheckFailed(_)) => "RotationTestFailed",
            RotatorError::Rotation(_) => "RotationFailed",
            RotatorError::WaitTooLong { .. } => "WaitTooLong",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Runs one step. `time_left` is what remains of the invocation (the wait must fit in it).
pub async fn run_step(
    store: &impl KeyStore,
    config: &RotatorConfig,
    event: &RotationEvent,
    now: u64,
    time_left: Duration,
) -> Result<String, RotatorError> {
    match event.step.as_str() {
        "createSecret" => {
            // A promotion that did not reach the key value store is finished first (the guard
            // then counts from now and refuses a new key until the old one is out of use).
            if let Some(copy) = &config.kvs {
                crate::edge_store::publish_current(copy, store, now).await?;
            }
            let pending = rotation::ensure_pending(store, &event.token, &config.timing, now).await?;
            Ok(format!(
                "{} key {} under token {}",
                if pending.resumed { "kept" } else { "staged" },
                pending.key.id(),
                event.token
            ))
        }
        "setSecret" => {
            Ok("nothing to set: the key value store, if any, is written at finishSecret".to_owned())
        }
        "testSecret" => {
            let Some(pending) = rotation::existing_pending(store, &event.token).await? else {
                return Ok(format!(
                    "nothing staged under token {}: nothing to test",
                    event.token
                ));
            };
            let wait = rotation::remaining_wait(config.wait, pending.created, now);
            let available = time_left.saturating_sub(Duration::from_secs(10));
            if wait > available {
                return Err(RotatorError::WaitTooLong {
                    wait: wait.as_secs(),
                    available: available.as_secs(),
                });
            }
            tokio::time::sleep(wait).await;
            if let Some(url) = &config.test_url {
                checks::check_through_cloudfront(url)
                    .await
                    .map_err(RotationError::CheckFailed)?;
            }
            if let Some(url) = &config.direct_url {
                let now = now + wait.as_secs();
                checks::check_direct(url, &pending.key, now)
                    .await
                    .map_err(RotationError::CheckFailed)?;
            }
            Ok(format!(
                "key {} may be promoted (waited {}s)",
                pending.key.id(),
                wait.as_secs()
            ))
        }
        "finishSecret" => {
            if rotation::existing_pending(store, &event.token).await?.is_none() {
                return Ok(format!(
                    "nothing staged under token {}: nothing to finish",
                    event.token
                ));
            }
            let promoted = rotation::promote(store, &event.token, now).await?;
            if let Some(copy) = &config.kvs {
                crate::edge_store::publish_current(copy, store, now).await?;
            }
            Ok(format!(
                "AWSCURRENT is {}, AWSPREVIOUS is {}",
                promoted.new_key_id,
                promoted
                    .previous_key_id
                    .map_or_else(|| "none".to_owned(), |id| id.to_string())
            ))
        }
        other => Err(RotatorError::UnknownStep(other.to_owned())),
    }
}
