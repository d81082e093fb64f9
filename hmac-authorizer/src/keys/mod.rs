//! Key sources. A [`RingFetcher`] knows how to read the key ring once (Secrets Manager or a
//! file); [`KeyCache`] decides when to read it, the same way for every fetcher:
//!
//! - loaded at init; served from memory;
//! - past the TTL, refreshed in the background while requests keep being served;
//! - an unknown key id triggers at most one refresh per `unknown_key_interval` (JWKS-style), so a
//!   rotation is seen at once but random key ids cannot cause a call storm;
//! - a failed refresh keeps the last good ring, retried at most every `retry_interval`;
//! - past `max_stale` without a successful refresh the cache has no ring: fail closed.

mod file;
mod secrets_manager;

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use originsig_core::{KeyError, KeyRing};
use thiserror::Error;
use tokio::time::Instant;

use crate::config::CachePolicy;

pub use file::FileFetcher;
pub use secrets_manager::SecretsManagerFetcher;

/// Why a key ring could not be read. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The store could not be reached or refused (network, throttling, permissions, missing).
    #[error("key store unavailable: {0}")]
    Unavailable(String),
    /// The store answered with a value that is not a valid key (or ring).
    #[error("malformed key in {label}: {error}")]
    Malformed { label: &'static str, error: KeyError },
}

/// Reads the whole key ring once.
pub trait RingFetcher: Send + Sync + 'static {
    fn fetch(&self) -> impl Future<Output = Result<KeyRing, FetchError>> + Send;
    /// For logs: where the keys come from.
    fn describe(&self) -> String;
}

/// No usable key ring: the authorizer must not allow anything.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("no usable key ring (last error: {last_error})")]
pub struct KeysUnavailable {
    pub last_error: String,
}

#[derive(Debug, Default)]
struct State {
    ring: Option<Arc<KeyRing>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    last_unknown_key_refresh: Option<Instant>,
    last_error: Option<String>,
    refreshing: bool,
}

/// The caching policy around a fetcher. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct KeyCache<F> {
    fetcher: F,
    policy: CachePolicy,
    state: Mutex<State>,
    /// Serialises fetches: one at a time, later callers reuse its result.
    fetch_gate: tokio::sync::Mutex<()>,
}

impl<F: RingFetcher> KeyCache<F> {
    /// Creates the cache and tries a first load (a failure is logged; requests will retry).
    pub async fn init(fetcher: F, policy: CachePolicy) -> Arc<Self> {
        let cache = Arc::new(KeyCache {
            fetcher,
            policy,
            state: Mutex::default(),
            fetch_gate: tokio::sync::Mutex::new(()),
        });
        cache.refresh().await;
        cache
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The ring to verify with, or `KeysUnavailable`.
    pub async fn ring(self: &Arc<Self>) -> Result<Arc<KeyRing>, KeysUnavailable> {
        let now = Instant::now();
        let (usable, expired, may_retry) = {
            let state = self.state();
            let age = state.fetched_at.map(|at| now.saturating_duration_since(at));
            let usable = state
                .ring
                .clone()
                .filter(|_| age.is_some_and(|age| age <= self.policy.max_stale));
            let expired = age.is_none_or(|age| age >= self.policy.ttl);
            let may_retry = !state.refreshing
                && state
                    .last_attempt
                    .is_none_or(|at| now.saturating_duration_since(at) >= self.policy.retry_interval);
            (usable, expired, may_retry)
        };
        match usable {
            Some(ring) => {
                if expired && may_retry {
                    let cache = Arc::clone(self);
                    tokio::spawn(async move { cache.refresh().await });
                }
                Ok(ring)
            }
            None => {
                if may_retry {
                    self.refresh().await;
                }
                let state = self.state();
                let fresh = state
                    .fetched_at
                    .is_some_and(|at| at.elapsed() <= self.policy.max_stale);
                match (&state.ring, fresh) {
                    (Some(ring), true) => Ok(Arc::clone(ring)),
                    _ => Err(KeysUnavailable {
                        last_error: state
                            .last_error
                            .clone()
                            .unwrap_or_else(|| "keys too stale".to_owned()),
                    }),
                }
            }
        }
    }

    /// After an unknown key id: refreshes (at most once per `unknown_key_interval`) and returns
    /// the new ring, or `None` when no refresh was allowed or it did not change anything.
    pub async fn ring_after_unknown_key(self: &Arc<Self>) -> Option<Arc<KeyRing>> {
        let now = Instant::now();
        {
            let mut state = self.state();
            let allowed = state
                .last_unknown_key_refresh
                .is_none_or(|at| now.saturating_duration_since(at) >= self.policy.unknown_key_interval);
            if !allowed {
                return None;
            }
            state.last_unknown_key_refresh = Some(now);
        }
        if self.refresh().await {
            self.state().ring.clone()
        } else {
            None
        }
    }

    /// Fetches once (or waits for the fetch already running); true when a ring was loaded.
    pub async fn refresh(&self) -> bool {
        let started = Instant::now();
        let _gate = self.fetch_gate.lock().await;
        {
            let mut state = self.state();
            // Someone else fetched while we waited: use theirs.
            if state.fetched_at.is_some_and(|at| at >= started) {
                return true;
            }
            state.refreshing = true;
            state.last_attempt = Some(Instant::now());
        }
        let result = self.fetcher.fetch().await;
        let mut state = self.state();
        state.refreshing = false;
        match result {
            Ok(ring) => {
                let ids = |ring: &KeyRing| {
                    ring.entries()
                        .map(|(r, k)| format!("{}={}", r.as_str(), k.id()))
                        .collect::<Vec<_>>()
                };
                let new_ids = ids(&ring);
                if state.ring.as_deref().map(ids) != Some(new_ids.clone()) {
                    tracing::info!(source = %self.fetcher.describe(), keys = %new_ids.join(","), "key ring loaded");
                }
                state.ring = Some(Arc::new(ring));
                state.fetched_at = Some(Instant::now());
                state.last_error = None;
                true
            }
            Err(error) => {
                tracing::warn!(source = %self.fetcher.describe(), error = %error, kept_last_good = state.ring.is_some(), "key ring refresh failed");
                state.last_error = Some(error.to_string());
                false
            }
        }
    }
}
