//! When the authorizer reads its key store: one policy for every store.
//!
//! - loaded at init; served from memory;
//! - past the TTL, refreshed in the background while requests keep being served;
//! - an unknown key id triggers at most one refresh per `unknown_key_interval` (JWKS-style), so a
//!   rotation is seen at once but random key ids cannot cause a call storm;
//! - a failed refresh keeps the last good ring, and the next attempt waits `retry_interval` —
//!   also for callers that were waiting on the failed one (they take its outcome);
//! - past `max_stale` without a successful refresh the cache has no ring: fail closed;
//! - one read at a time.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use originsig_core::KeyRing;
use thiserror::Error;
use tokio::time::Instant;

use crate::config::CachePolicy;
use crate::store::ReadRing;

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
    /// When the last read ended, successfully or not.
    last_completed: Option<Instant>,
    last_unknown_key_refresh: Option<Instant>,
    last_error: Option<String>,
    refreshing: bool,
}

/// The caching policy around a store. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct KeyCache<S> {
    store: S,
    policy: CachePolicy,
    state: Mutex<State>,
    /// Serialises reads: one at a time, later callers take its outcome.
    read_gate: tokio::sync::Mutex<()>,
}

impl<S: ReadRing> KeyCache<S> {
    /// Creates the cache and tries a first load (a failure is logged; requests will retry).
    pub async fn init(store: S, policy: CachePolicy) -> Arc<Self> {
        let cache = Arc::new(KeyCache {
            store,
            policy,
            state: Mutex::default(),
            read_gate: tokio::sync::Mutex::new(()),
        });
        cache.refresh().await;
        cache
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The store behind the cache.
    pub fn store(&self) -> &S {
        &self.store
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
                    .is_some_and(|at| Instant::now().saturating_duration_since(at) <= self.policy.max_stale);
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
    /// the new ring, or `None` when no refresh was allowed or it did not succeed.
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

    /// Reads the store once, or takes the outcome of the read that ran while this caller waited
    /// for its turn; true when a ring was loaded.
    pub async fn refresh(&self) -> bool {
        let started = Instant::now();
        let _gate = self.read_gate.lock().await;
        {
            let mut state = self.state();
            // A read ended while we waited: its outcome is as new as ours would be, success or
            // failure (a failure is not retried before `retry_interval`).
            if state.last_completed.is_some_and(|at| at >= started) {
                return state.fetched_at.is_some_and(|at| at >= started);
            }
            state.refreshing = true;
            state.last_attempt = Some(Instant::now());
        }
        let result = self.store.read_ring().await;
        let mut state = self.state();
        state.refreshing = false;
        state.last_completed = Some(Instant::now());
        match result {
            Ok(ring) => {
                let ids = |ring: &KeyRing| {
                    ring.entries()
                        .map(|(r, k)| format!("{}={}", r.as_str(), k.id()))
                        .collect::<Vec<_>>()
                };
                let new_ids = ids(&ring);
                if state.ring.as_deref().map(ids) != Some(new_ids.clone()) {
                    tracing::info!(store = %self.store.location(), keys = %new_ids.join(","), "key ring loaded");
                }
                state.ring = Some(Arc::new(ring));
                state.fetched_at = Some(Instant::now());
                state.last_error = None;
                true
            }
            Err(error) => {
                tracing::warn!(store = %self.store.location(), error = %error, kept_last_good = state.ring.is_some(), "key ring refresh failed");
                state.last_error = Some(error.to_string());
                false
            }
        }
    }
}
