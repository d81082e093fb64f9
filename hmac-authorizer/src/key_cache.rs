//! When the authorizer reads its key store: one policy for every store.
//!
//! - loaded at init; served from memory;
//! - from half the TTL, read again in the background while requests keep being served (a busy
//!   cache never makes a request wait);
//! - past the TTL, read again **before** answering (an idle cache never answers from an expired
//!   ring while a newer one can be read: SPEC.md §7's acceptance bound);
//! - an unknown key id triggers at most one refresh per `unknown_key_interval` (JWKS-style), so a
//!   rotation is seen at once but random key ids cannot cause a call storm;
//! - a failed refresh keeps the last good ring, and the next attempt waits `retry_interval` —
//!   also for callers that were waiting on the failed one (they take its outcome);
//! - while the store cannot be read, the last good ring answers up to `max_stale`, then the
//!   cache has no ring: fail closed;
//! - one read at a time;
//! - a read still in flight after half the TTL is not trusted: Lambda froze the container while
//!   it ran (a call is bounded to a few seconds, far less), so its outcome — usually a timeout
//!   firing at the thaw — says nothing about the store now. A caller that meets such a read
//!   does its own read instead of taking that outcome, and its failure does not hold the
//!   retry interval.

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
    /// When the last read ended: the retry interval counts from there, so a read that hung
    /// until its timeout is not followed at once by another.
    last_attempt: Option<Instant>,
    /// How many reads have ended, and whether the last one succeeded: a caller that waited
    /// for its turn while a read ended takes that read's outcome.
    completed_reads: u64,
    last_read_ok: bool,
    last_unknown_key_refresh: Option<Instant>,
    last_error: Option<String>,
    refreshing: bool,
    /// When the read in flight (or the last one) started.
    read_started: Option<Instant>,
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

    /// How long a read may have been in flight and still be trusted: half the TTL (when the next
    /// background read would start anyway), and never less than twice a read's own bound (a hung
    /// read ends at its timeout plus scheduling), so that a slow or hung read is not mistaken for
    /// one that spanned a freeze of the container.
    fn in_flight_bound(&self) -> std::time::Duration {
        (self.policy.ttl / 2).max(self.policy.read_bound.saturating_mul(2))
    }

    /// The ring to verify with, or `KeysUnavailable`.
    pub async fn ring(self: &Arc<Self>) -> Result<Arc<KeyRing>, KeysUnavailable> {
        let now = Instant::now();
        let (age, refreshing, may_retry) = {
            let state = self.state();
            // A read that started before a freeze is not "under way" any more.
            let refreshing = state.refreshing
                && state
                    .read_started
                    .is_some_and(|at| now.saturating_duration_since(at) <= self.in_flight_bound());
            let age = state.fetched_at.map(|at| now.saturating_duration_since(at));
            let may_retry = state
                .last_attempt
                .is_none_or(|at| now.saturating_duration_since(at) >= self.policy.retry_interval);
            (age, refreshing, may_retry)
        };
        let frozen_read = self.state().refreshing && !refreshing;
        let expired = age.is_none_or(|age| age >= self.policy.ttl);
        if expired {
            // Expired or never loaded: read before answering (or take the outcome of the read
            // under way); after a failed read, not again before the retry interval — unless the
            // read in flight spans a freeze, whose outcome is not taken.
            if may_retry || refreshing || frozen_read {
                self.refresh().await;
            }
        } else if age.is_some_and(|age| age >= self.policy.ttl / 2) && may_retry && !refreshing {
            let cache = Arc::clone(self);
            tokio::spawn(async move { cache.refresh().await });
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
        let called_at = Instant::now();
        let reads_before = self.state().completed_reads;
        let _gate = self.read_gate.lock().await;
        {
            let mut state = self.state();
            // A read ended while we waited: its outcome is as new as ours would be, success or
            // failure (a failure is not retried before `retry_interval`) — unless it started
            // before a freeze, which we do not take (see the module comment).
            let ended_read_is_recent = state
                .read_started
                .is_some_and(|at| called_at.saturating_duration_since(at) <= self.in_flight_bound());
            if state.completed_reads != reads_before && ended_read_is_recent {
                return state.last_read_ok;
            }
            state.refreshing = true;
            state.read_started = Some(Instant::now());
        }
        let result = self.store.read_ring().await;
        let mut state = self.state();
        state.refreshing = false;
        let ended = Instant::now();
        let spanned_a_freeze = state
            .read_started
            .is_some_and(|at| ended.saturating_duration_since(at) > self.in_flight_bound());
        if spanned_a_freeze && result.is_err() {
            tracing::info!(store = %self.store.location(), "a key ring read started before the container was frozen ended after the thaw; its failure is not held against the next read");
        } else {
            state.last_attempt = Some(ended);
        }
        state.completed_reads = state.completed_reads.wrapping_add(1);
        state.last_read_ok = result.is_ok();
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

#[cfg(test)]
mod tests {
    //! The policy on a paused clock with a scripted store: deterministic, no real sleeps.

    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use originsig_core::{KeyId, SigningKey};

    use super::*;
    use crate::store::StoreError;

    /// Answers each read with the next scripted outcome (the last one repeats), after `delay`.
    struct Scripted {
        outcomes: Mutex<VecDeque<Result<&'static str, ()>>>,
        reads: Arc<AtomicUsize>,
        delay: Duration,
    }

    impl ReadRing for Scripted {
        fn location(&self) -> String {
            "scripted".to_owned()
        }

        async fn read_ring(&self) -> Result<KeyRing, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            let outcome = {
                let mut outcomes = self.outcomes.lock().unwrap();
                if outcomes.len() > 1 {
                    outcomes.pop_front().unwrap()
                } else {
                    outcomes[0]
                }
            };
            match outcome {
                Ok(id) => Ok(KeyRing::single(
                    SigningKey::new(KeyId::new(id).unwrap(), vec![1; 32]).unwrap(),
                )),
                Err(()) => Err(StoreError::Unreachable {
                    action: "GetSecretValue",
                    what: "scripted".into(),
                    cause: "down".into(),
                }),
            }
        }
    }

    const POLICY: CachePolicy = CachePolicy {
        ttl: Duration::from_secs(300),
        max_stale: Duration::from_secs(3600),
        unknown_key_interval: Duration::from_secs(30),
        retry_interval: Duration::from_secs(5),
        read_bound: Duration::from_secs(2),
    };

    async fn cache(
        outcomes: &[Result<&'static str, ()>],
        delay: Duration,
    ) -> (Arc<KeyCache<Scripted>>, Arc<AtomicUsize>) {
        let reads = Arc::new(AtomicUsize::new(0));
        let store = Scripted {
            outcomes: Mutex::new(outcomes.iter().copied().collect()),
            reads: Arc::clone(&reads),
            delay,
        };
        (KeyCache::init(store, POLICY).await, reads)
    }

    fn current_id(ring: &KeyRing) -> String {
        ring.signing_key().id().to_string()
    }

    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn served_from_memory_then_read_in_the_background_from_half_the_ttl() {
        let (cache, reads) = cache(&[Ok("a"), Ok("b")], Duration::ZERO).await;
        assert_eq!(reads.load(Ordering::SeqCst), 1, "read once at init");
        tokio::time::advance(Duration::from_secs(149)).await;
        assert_eq!(current_id(&cache.ring().await.unwrap()), "a");
        assert_eq!(reads.load(Ordering::SeqCst), 1, "no read before half the TTL");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(
            current_id(&cache.ring().await.unwrap()),
            "a",
            "the ring answers at once"
        );
        settle().await;
        assert_eq!(reads.load(Ordering::SeqCst), 2, "one background read");
        assert_eq!(current_id(&cache.ring().await.unwrap()), "b");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_cache_past_the_ttl_reads_before_it_answers() {
        let (cache, reads) = cache(&[Ok("a"), Ok("b")], Duration::from_millis(200)).await;
        tokio::time::advance(Duration::from_secs(301)).await;
        assert_eq!(
            current_id(&cache.ring().await.unwrap()),
            "b",
            "never the expired ring"
        );
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_ttl_a_store_outage_serves_the_last_ring_until_max_stale() {
        let (cache, reads) = cache(&[Ok("a"), Err(())], Duration::ZERO).await;
        tokio::time::advance(Duration::from_secs(301)).await;
        assert_eq!(
            current_id(&cache.ring().await.unwrap()),
            "a",
            "outage: the last good ring"
        );
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert_eq!(current_id(&cache.ring().await.unwrap()), "a");
        assert_eq!(reads.load(Ordering::SeqCst), 2, "no retry before the interval");
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_key_reads_at_most_once_per_interval() {
        let (cache, reads) = cache(&[Ok("a"), Ok("b")], Duration::ZERO).await;
        assert_eq!(current_id(&cache.ring_after_unknown_key().await.unwrap()), "b");
        assert!(cache.ring_after_unknown_key().await.is_none());
        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(cache.ring_after_unknown_key().await.is_none());
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(cache.ring_after_unknown_key().await.is_some());
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    /// The second read blocks until released, then fails (a timeout firing at the thaw); the
    /// others succeed with the scripted ids.
    struct FrozenRead {
        reads: AtomicUsize,
        release: tokio::sync::Notify,
    }

    impl ReadRing for FrozenRead {
        fn location(&self) -> String {
            "frozen".to_owned()
        }

        async fn read_ring(&self) -> Result<KeyRing, StoreError> {
            let n = self.reads.fetch_add(1, Ordering::SeqCst);
            if n == 1 {
                self.release.notified().await;
                return Err(StoreError::Unreachable {
                    action: "GetSecretValue",
                    what: "frozen".into(),
                    cause: "timed out".into(),
                });
            }
            let id = if n == 0 { "a" } else { "b" };
            Ok(KeyRing::single(
                SigningKey::new(KeyId::new(id).unwrap(), vec![1; 32]).unwrap(),
            ))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_started_before_a_freeze_is_not_adopted_after_a_long_idle() {
        let cache = KeyCache::init(
            FrozenRead {
                reads: AtomicUsize::new(0),
                release: tokio::sync::Notify::new(),
            },
            POLICY,
        )
        .await;
        // From half the TTL a background read starts... and the container is frozen with it in
        // flight, for longer than max_stale.
        tokio::time::advance(Duration::from_secs(151)).await;
        assert_eq!(current_id(&cache.ring().await.unwrap()), "a");
        settle().await;
        assert_eq!(
            cache.store().reads.load(Ordering::SeqCst),
            2,
            "the background read is in flight"
        );
        tokio::time::advance(POLICY.max_stale + Duration::from_secs(60)).await;
        // The first request after the thaw: the old read ends (failing) while it waits.
        let first = tokio::spawn({
            let cache = Arc::clone(&cache);
            async move { cache.ring().await }
        });
        settle().await;
        cache.store().release.notify_one();
        let ring = first
            .await
            .unwrap()
            .expect("a fresh read, not the frozen read's failure");
        assert_eq!(current_id(&ring), "b");
        assert_eq!(cache.store().reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_read_is_retried_only_after_the_retry_interval() {
        let (cache, reads) = cache(&[Err(()), Err(()), Ok("a")], Duration::ZERO).await;
        assert!(cache.ring().await.is_err());
        assert_eq!(reads.load(Ordering::SeqCst), 1, "no read right after a failure");
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(cache.ring().await.is_err());
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(current_id(&cache.ring().await.unwrap()), "a");
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_good_ring_serves_until_max_stale_then_nothing() {
        let (cache, _) = cache(&[Ok("a"), Err(())], Duration::ZERO).await;
        tokio::time::advance(Duration::from_secs(3599)).await;
        assert_eq!(current_id(&cache.ring().await.unwrap()), "a");
        settle().await;
        tokio::time::advance(Duration::from_secs(2)).await;
        let error = cache.ring().await.unwrap_err();
        assert!(error.last_error.contains("down"), "{error}");
    }

    #[tokio::test(start_paused = true)]
    async fn one_read_at_a_time_and_waiters_take_its_outcome() {
        let (cache, reads) = cache(&[Err(())], Duration::from_secs(1)).await;
        tokio::time::advance(Duration::from_secs(10)).await;
        let waiters: Vec<_> = (0..8)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.refresh().await })
            })
            .collect();
        for waiter in waiters {
            assert!(!waiter.await.unwrap());
        }
        assert_eq!(
            reads.load(Ordering::SeqCst),
            2,
            "init, then one read for eight callers"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_cache_is_shared_and_cheap() {
        let (cache, reads) = cache(&[Ok("a")], Duration::from_millis(50)).await;
        let callers: Vec<_> = (0..32)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.ring().await.is_ok() })
            })
            .collect();
        for caller in callers {
            assert!(caller.await.unwrap());
        }
        assert_eq!(
            reads.load(Ordering::SeqCst),
            1,
            "32 callers inside the TTL read nothing"
        );
    }
}
