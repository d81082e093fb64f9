//! The rotation state machine, shared by `originsig rotate` and the scheduled rotator so both
//! behave the same (SPEC.md §7):
//!
//! 1. **pending** — put a new key as AWSPENDING (idempotent per token); a PENDING left by an
//!    interrupted run is resumed, never duplicated;
//! 2. **wait** — until every authorizer can know it (its cache TTL plus a margin);
//! 3. **test** — optional URL checks (`crate::checks`);
//! 4. **promote** — PENDING → AWSCURRENT, the old current → AWSPREVIOUS; the time is recorded.
//!
//! Starting a rotation is refused while the PREVIOUS key it would drop may still be in use:
//! edges cache the key they sign with for up to `edge_cache_ttl` after a promotion, and what
//! they signed stays valid for the freshness window.

use std::time::Duration;

use originsig_core::{KeyId, KeyRole, SigningKey, MIN_KEY_LEN};
use thiserror::Error;

use crate::store::{KeyStore, KeyVersion, StoreError};

/// Extra time on top of every computed bound.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(30);

/// The timing the rotation must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationTiming {
    /// How long a PENDING key must exist before promotion: the authorizers' cache TTL + margin.
    pub propagation_wait: Duration,
    /// How long an edge may keep signing with the key it cached.
    pub edge_cache_ttl: Duration,
    /// The verifiers' freshness window (max age of a signature).
    pub freshness_window: Duration,
}

impl Default for RotationTiming {
    fn default() -> Self {
        RotationTiming {
            propagation_wait: Duration::from_secs(300) + SAFETY_MARGIN,
            edge_cache_ttl: Duration::from_secs(300),
            freshness_window: Duration::from_secs(60),
        }
    }
}

impl RotationTiming {
    /// Earliest time a rotation may start after a promotion at `promoted_at`.
    pub fn next_safe_rotation(&self, promoted_at: u64) -> u64 {
        promoted_at + (self.edge_cache_ttl + self.freshness_window + SAFETY_MARGIN).as_secs()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RotationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0} has no AWSCURRENT key; create one with `originsig init`")]
    NoCurrent(String),
    #[error("{store}: the AWSCURRENT value is invalid ({problem}); put a valid key back (see SPEC.md §7) before rotating")]
    InvalidCurrent { store: String, problem: String },
    #[error(
        "too early: the last promotion was at {}, and edges may sign with the previous key ({previous}) until {}; \
         a rotation now would drop that key and deny their requests. Try again in {}, or pass --force if no edge \
         can still hold it",
        crate::human_time::utc(*promoted_at), crate::human_time::utc(*safe_at), crate::human_time::human(*wait_secs)
    )]
    TooEarly {
        promoted_at: u64,
        safe_at: u64,
        wait_secs: u64,
        previous: String,
    },
    #[error(
        "AWSPENDING holds an invalid value (version {version}: {problem}); rerun with --force to replace it with a new key"
    )]
    InvalidPending { version: String, problem: String },
    #[error("the pending key with token {0} is not there (did someone else finish or cancel this rotation?); run status")]
    PendingGone(String),
    #[error("a rotation test failed: {0}; the new key was NOT promoted (it stays AWSPENDING; fix and rerun to resume)")]
    CheckFailed(String),
    /// The operating system's random generator failed.
    #[error("the operating system's random generator failed: {0}")]
    Random(String),
    /// The clock is outside what a key id can name (after year 9999).
    #[error("the clock reads {0} (Unix seconds), outside the years a key id can name; fix the system clock")]
    ClockOutOfRange(u64),
}

/// The key ring as stored, by role.
#[derive(Debug, Clone, Default)]
pub struct StoredRing {
    pub current: Option<KeyVersion>,
    pub pending: Option<KeyVersion>,
    pub previous: Option<KeyVersion>,
    /// Versions with labels other than the three (a human's doing), for status.
    pub others: Vec<KeyVersion>,
}

/// Every labelled version of the store, by role (for status, signing and rotation).
pub async fn stored_ring(store: &impl KeyStore) -> Result<StoredRing, RotationError> {
    let mut ring = StoredRing::default();
    for version in store.versions().await? {
        if version.has(KeyRole::Current) {
            ring.current = Some(version.clone());
        }
        // A PENDING label on the current version is a leftover, not a rotation in progress.
        if version.has(KeyRole::Pending) && !version.has(KeyRole::Current) {
            ring.pending = Some(version.clone());
        }
        if version.has(KeyRole::Previous) {
            ring.previous = Some(version.clone());
        }
        if !KeyRole::ALL.iter().any(|role| version.has(*role)) {
            ring.others.push(version);
        }
    }
    Ok(ring)
}

/// A fresh key: 32 bytes from the OS CSPRNG, id `k<UTC time>-<6 hex>`.
pub fn new_key(now: u64) -> Result<SigningKey, RotationError> {
    let mut bytes = zeroize::Zeroizing::new(vec![0u8; MIN_KEY_LEN]);
    getrandom::fill(&mut bytes).map_err(|e| RotationError::Random(e.to_string()))?;
    let mut suffix = [0u8; 3];
    getrandom::fill(&mut suffix).map_err(|e| RotationError::Random(e.to_string()))?;
    let stamp = i64::try_from(now)
        .ok()
        .and_then(|now| time::OffsetDateTime::from_unix_timestamp(now).ok())
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .ok()
        })
        .ok_or(RotationError::ClockOutOfRange(now))?;
    let id = format!("k{stamp}-{:02x}{:02x}{:02x}", suffix[0], suffix[1], suffix[2]);
    #[expect(clippy::expect_used, reason = "invariant stated in the message")]
    let id =
        KeyId::new(&id).expect("'k', 16 characters of [0-9TZ], '-' and 6 hex digits make a valid key id");
    #[expect(clippy::expect_used, reason = "invariant stated in the message")]
    let key =
        SigningKey::new(id, std::mem::take(&mut *bytes)).expect("MIN_KEY_LEN bytes are a valid key length");
    Ok(key)
}

/// A Secrets Manager client request token: 32 random bytes as 64 hex characters.
pub fn new_token() -> Result<String, RotationError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| RotationError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The PENDING key of a rotation in progress.
#[derive(Debug, Clone)]
pub struct Pending {
    pub token: String,
    pub key: SigningKey,
    /// When it was stored (Unix seconds), if known.
    pub created: Option<u64>,
    /// True when an interrupted rotation was picked up rather than a new key made.
    pub resumed: bool,
}

fn valid_current(store: &impl KeyStore, ring: &StoredRing) -> Result<SigningKey, RotationError> {
    let current = ring
        .current
        .as_ref()
        .ok_or_else(|| RotationError::NoCurrent(store.location()))?;
    current.key.clone().map_err(|e| RotationError::InvalidCurrent {
        store: store.location(),
        problem: e.to_string(),
    })
}

/// Step 1 for `originsig rotate`: resume the PENDING key if there is one, else (guard
/// permitting) make one.
pub async fn start(
    store: &impl KeyStore,
    timing: &RotationTiming,
    now: u64,
    force: bool,
) -> Result<Pending, RotationError> {
    let ring = stored_ring(store).await?;
    let current = valid_current(store, &ring)?;
    if let Some(pending) = &ring.pending {
        match (&pending.key, force) {
            (Ok(key), _) if key.id() != current.id() => {
                return Ok(Pending {
                    token: pending.version_id.clone(),
                    key: key.clone(),
                    created: pending.created,
                    resumed: true,
                })
            }
            (Err(problem), false) => {
                return Err(RotationError::InvalidPending {
                    version: pending.version_id.clone(),
                    problem: problem.to_string(),
                })
            }
            _ => {} // --force: replaced below (Secrets Manager moves the label to the new version)
        }
    }
    if let Some(previous) = &ring.previous {
        let promoted_at = match store.last_promotion().await? {
            Some(at) => Some(at),
            // Not recorded (rotated by hand): the current version's creation is the best bound.
            None => ring.current.as_ref().and_then(|c| c.created),
        };
        if let Some(promoted_at) = promoted_at {
            let safe_at = timing.next_safe_rotation(promoted_at);
            if now < safe_at && !force {
                let previous = previous
                    .key
                    .as_ref()
                    .map(|k| k.id().to_string())
                    .unwrap_or_else(|_| "invalid".into());
                return Err(RotationError::TooEarly {
                    promoted_at,
                    safe_at,
                    wait_secs: safe_at - now,
                    previous,
                });
            }
        }
    }
    let token = new_token()?;
    let key = new_key(now)?;
    store.put_pending(&token, &key).await?;
    Ok(Pending {
        token,
        key,
        created: Some(now),
        resumed: false,
    })
}

/// Step 1 for the rotator: Secrets Manager chose the token. Idempotent: a PENDING with this
/// token is kept; a PENDING with another token is an abandoned rotation and is replaced.
pub async fn ensure_pending(
    store: &impl KeyStore,
    token: &str,
    timing: &RotationTiming,
    now: u64,
) -> Result<Pending, RotationError> {
    let ring = stored_ring(store).await?;
    let current = valid_current(store, &ring)?;
    if let Some(version) = store
        .versions()
        .await?
        .into_iter()
        .find(|v| v.version_id == token)
    {
        if version.has(KeyRole::Current) {
            // This rotation already finished.
            return Ok(Pending {
                token: token.to_owned(),
                key: current,
                created: version.created,
                resumed: true,
            });
        }
        let key = version.key.map_err(|e| RotationError::InvalidPending {
            version: token.to_owned(),
            problem: e.to_string(),
        })?;
        return Ok(Pending {
            token: token.to_owned(),
            key,
            created: version.created,
            resumed: true,
        });
    }
    if ring.previous.is_some() {
        if let Some(promoted_at) = store.last_promotion().await? {
            let safe_at = timing.next_safe_rotation(promoted_at);
            if now < safe_at {
                return Err(RotationError::TooEarly {
                    promoted_at,
                    safe_at,
                    wait_secs: safe_at - now,
                    previous: ring
                        .previous
                        .and_then(|p| p.key.ok())
                        .map(|k| k.id().to_string())
                        .unwrap_or_default(),
                });
            }
        }
    }
    let key = new_key(now)?;
    store.put_pending(token, &key).await?;
    Ok(Pending {
        token: token.to_owned(),
        key,
        created: Some(now),
        resumed: false,
    })
}

/// How much of the propagation wait is left for a PENDING key created at `created`.
pub fn remaining_wait(timing: &RotationTiming, created: Option<u64>, now: u64) -> Duration {
    let waited = created.map_or(Duration::ZERO, |c| Duration::from_secs(now.saturating_sub(c)));
    timing.propagation_wait.saturating_sub(waited)
}

/// The outcome of a promotion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promoted {
    pub new_key_id: String,
    pub previous_key_id: Option<String>,
    pub promoted_at: u64,
}

/// Step 4: PENDING(token) → AWSCURRENT; records the time. Idempotent.
pub async fn promote(store: &impl KeyStore, token: &str, now: u64) -> Result<Promoted, RotationError> {
    let ring = stored_ring(store).await?;
    let already = ring.current.as_ref().is_some_and(|c| c.version_id == token);
    let pending_here = ring.pending.as_ref().is_some_and(|p| p.version_id == token);
    if !already && !pending_here {
        return Err(RotationError::PendingGone(token.to_owned()));
    }
    if !already {
        store.promote(token).await?;
        store.record_promotion(now).await?;
    }
    let ring = stored_ring(store).await?;
    let id = |v: &Option<KeyVersion>| {
        v.as_ref()
            .and_then(|v| v.key.as_ref().ok())
            .map(|k| k.id().to_string())
    };
    Ok(Promoted {
        new_key_id: id(&ring.current).unwrap_or_default(),
        previous_key_id: id(&ring.previous),
        promoted_at: store.last_promotion().await?.unwrap_or(now),
    })
}
