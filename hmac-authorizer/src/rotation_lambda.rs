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
//! `createSecret` and `finishSecret` first hold `ORIGINSIG_KVS_ARN` to the store recorded on the
//! secret (`crate::edge_store::store_to_use`): recorded if the secret records none; another store,
//! or none while the secret records one, fails the step (`KeyValueStoreMismatch`) before anything
//! changes, since a promotion that skips the store the edge reads ends in denials.
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
use originsig_core::KeyRole;

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
    /// The direct check: a health route of the API, signed as the edge signs it.
    pub direct: Option<checks::DirectTarget>,
    /// The KeyValueStore of a CloudFront Functions edge (`ORIGINSIG_KVS_ARN`, checked here);
    /// `kvs` is its client, which the binary opens (`crate::edge_store`).
    pub kvs_arn: Option<String>,
    pub kvs: Option<crate::store::kvs::KvsKeyCopy>,
}

pub const WAIT_SECS: &str = "ORIGINSIG_ROTATION_WAIT_SECS";
pub const EDGE_MAX_STALE_SECS: &str = "ORIGINSIG_EDGE_MAX_STALE_SECS";
pub const TEST_URL: &str = "ORIGINSIG_TEST_URL";
/// `https://<origin><origin path><check path>` (template: `RotatorCheckPath`).
pub const DIRECT_URL: &str = "ORIGINSIG_DIRECT_URL";
/// The CloudFront origin path inside `ORIGINSIG_DIRECT_URL` (not part of the uri).
pub const ORIGIN_PATH: &str = "ORIGINSIG_ORIGIN_PATH";
/// What the edge signs before the uri (its `gatewayPathPrefix`); unset: the origin path.
pub const GATEWAY_PATH_PREFIX: &str = "ORIGINSIG_GATEWAY_PATH_PREFIX";
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
        let direct = url(DIRECT_URL)?
            .map(|url| {
                let direct = checks::DirectTarget {
                    url,
                    origin_path: get(ORIGIN_PATH).unwrap_or_default(),
                    gateway_path_prefix: get(GATEWAY_PATH_PREFIX),
                };
                // Refuse at start what could never be signed, not at the first rotation.
                direct.target().map_err(|problem| error(DIRECT_URL, problem))?;
                Ok(direct)
            })
            .transpose()?;
        let kvs_arn = get(crate::store::kvs::KVS_ARN_VAR).filter(|v| !v.is_empty());
        if let Some(arn) = &kvs_arn {
            crate::store::kvs::check_arn(arn)
                .map_err(|problem| error(crate::store::kvs::KVS_ARN_VAR, problem))?;
        }
        Ok(RotatorConfig {
            wait: Duration::from_secs(seconds_var(&get, WAIT_SECS, timing.propagation_wait().as_secs())?),
            timing,
            test_url: url(TEST_URL)?,
            direct,
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
        "the propagation wait ({wait}s left) and the URL checks do not fit in this invocation ({available}s \
         left): lower AuthorizerCacheTtlSeconds to at most the timing model's \
         maxAuthorizerCacheTtlSecs (`originsig timing --json`), or {WAIT_SECS}"
    )]
    WaitTooLong { wait: u64, available: u64 },
    /// The secret records another key value store than this rotator writes (or none).
    #[error(
        "the secret records key value store {recorded} (tag {tag}) as the one the edge reads, but this rotator {writes}: \
         a promotion now would leave those edges on the old key. Set the API-region stack's KeyValueStoreArn to the \
         store the edge reads (infra/samconfig.toml, then infra/deploy.sh ENV); if the edge reads another store now, \
         record it with `originsig rotate --kvs-arn ARN --replace-recorded-kvs`",
        tag = crate::store::KVS_ARN_TAG,
        writes = configured.as_deref().map_or_else(|| "writes none (no KeyValueStoreArn)".to_owned(), |c| format!("writes {c}"))
    )]
    KvsRecordDiffers {
        configured: Option<String>,
        recorded: String,
    },
}

impl RotatorError {
    /// The error type Lambda records, and the rotator logs as `kind` (the template's
    /// replication alarm counts `ReplicaBehind`).
    pub fn kind(&self) -> &'static str {
        match self {
            RotatorError::UnknownStep(_) => "UnknownStep",
            RotatorError::Rotation(RotationError::TooEarly { .. }) => "RotationTooEarly",
            RotatorError::Rotation(RotationError::CheckFailed(_)) => "RotationTestFailed",
            RotatorError::Rotation(RotationError::HeldByFailedTest { .. }) => "RotationHeldByFailedTest",
            RotatorError::Rotation(RotationError::ReplicaBehind { .. }) => "ReplicaBehind",
            RotatorError::Rotation(_) => "RotationFailed",
            RotatorError::WaitTooLong { .. } => "WaitTooLong",
            RotatorError::KvsRecordDiffers { .. } => "KeyValueStoreMismatch",
        }
    }
}

impl From<RotatorError> for lambda_runtime::Diagnostic {
    fn from(error: RotatorError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.kind().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The store this rotator writes, held to the one recorded on the secret by the shared rule
/// (`crate::edge_store::store_to_use`): recorded when the secret records none; another one (or
/// none while the secret records one) fails the step before anything changes.
async fn recorded_store_agrees(store: &impl KeyStore, config: &RotatorConfig) -> Result<(), RotatorError> {
    use crate::edge_store::{store_to_use, Access, Refused, Said};
    let said = config.kvs_arn.clone().map_or(Said::NoStore, Said::Arn);
    let recorded = store.recorded_kvs().await.map_err(RotationError::from)?;
    match store_to_use(said, recorded.as_deref(), Access::Write { replace: false }) {
        Ok(choice) => {
            if let Some(record) = choice.record {
                store
                    .record_kvs(record.as_deref())
                    .await
                    .map_err(RotationError::from)?;
                tracing::info!(
                    store = record.as_deref().unwrap_or(""),
                    tag = crate::store::KVS_ARN_TAG,
                    "recorded the key value store on the secret"
                );
            }
            Ok(())
        }
        Err(Refused { said, recorded }) => Err(RotatorError::KvsRecordDiffers {
            configured: said,
            recorded,
        }),
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
            recorded_store_agrees(store, config).await?;
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
            // The wait and at least a second per check request must fit; the deployment's bound
            // (Timing::max_authorizer_cache_ttl_secs) leaves each request its full timeout.
            let requests = u32::from(config.test_url.is_some())
                + if config.direct.is_some() {
                    checks::DIRECT_CHECK_REQUESTS
                } else {
                    0
                };
            let available =
                time_left.saturating_sub(Duration::from_secs(crate::timing::ROTATOR_RESERVE_SECS));
            let for_checks = available.saturating_sub(wait);
            if wait > available || for_checks < Duration::from_secs(u64::from(requests)) {
                return Err(RotatorError::WaitTooLong {
                    wait: wait.as_secs(),
                    available: available.as_secs(),
                });
            }
            let per_request = for_checks
                .checked_div(requests.max(1))
                .unwrap_or(checks::CHECK_TIMEOUT)
                .min(checks::CHECK_TIMEOUT);
            tokio::time::sleep(wait).await;
            // Replication takes seconds; after the propagation wait a replica without the key
            // is stuck or failed (Secrets Manager retries the rotation later).
            rotation::replicas_hold(store, &pending.token, KeyRole::Pending, "the new key").await?;
            let tested = async {
                if let Some(url) = &config.test_url {
                    checks::check_through_cloudfront(url, per_request).await?;
                }
                if let Some(direct) = &config.direct {
                    let now = now + wait.as_secs();
                    checks::check_direct(direct, &pending.key, now, "RotatorCheckPath", per_request).await?;
                }
                Ok::<(), checks::CheckError>(())
            };
            match tested.await {
                // A test that passes lifts a hold recorded by an earlier failure.
                Ok(()) => {
                    let held = store.failed_test().await.map_err(RotationError::from)?;
                    if held.as_deref() == Some(event.token.as_str()) {
                        store
                            .record_failed_test(None)
                            .await
                            .map_err(RotationError::from)?;
                    }
                }
                Err(problem) => return Err(rotation::test_failed(store, &pending, problem).await.into()),
            }
            Ok(format!(
                "key {} may be promoted (waited {}s)",
                pending.key.id(),
                wait.as_secs()
            ))
        }
        "finishSecret" => {
            let Some(pending) = rotation::existing_pending(store, &event.token).await? else {
                return Ok(format!(
                    "nothing staged under token {}: nothing to finish",
                    event.token
                ));
            };
            // Secrets Manager finishes only after testSecret passed; a hold recorded by a failed
            // test (here or by `originsig rotate`) still stands until a test passes.
            let held = store.failed_test().await.map_err(RotationError::from)?;
            if held.as_deref() == Some(event.token.as_str()) {
                return Err(RotationError::HeldByFailedTest {
                    key_id: pending.key.id().to_string(),
                    version: event.token.clone(),
                    tag: crate::store::FAILED_TEST_TAG,
                }
                .into());
            }
            recorded_store_agrees(store, config).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each timing variable the templates set reaches the rotator's timing model (the guard and
    /// the wait are derived from it): a variable ignored here would fall back to the default
    /// silently, and the defaults equal the templates' defaults.
    #[test]
    fn every_timing_variable_reaches_the_timing_model() {
        let set = [
            (crate::config::CACHE_TTL_SECS, "17"),
            (EDGE_MAX_STALE_SECS, "1801"),
            (crate::config::MAX_AGE_SECS, "61"),
            (KVS_PROPAGATION_SECS, "901"),
        ];
        let config = RotatorConfig::from_env(|name| {
            set.iter()
                .find(|(variable, _)| *variable == name)
                .map(|(_, value)| (*value).to_owned())
        })
        .unwrap();
        let t = config.timing;
        assert_eq!(
            (
                t.authorizer_cache_ttl_secs,
                t.edge_max_stale_secs,
                t.max_age_secs,
                t.kvs_propagation_secs
            ),
            (17, 1801, 61, 901)
        );
        for (_, value) in set {
            let default = Timing::DEFAULT;
            assert!(
                [
                    default.authorizer_cache_ttl_secs,
                    default.edge_max_stale_secs,
                    default.max_age_secs,
                    default.kvs_propagation_secs
                ]
                .iter()
                .all(|d| d.to_string() != value),
                "{value} must differ from every default"
            );
        }
    }
}
