//! The rotation state machine, shared by `originsig rotate` and the rotation Lambda so both
//! behave the same (SPEC.md §7):
//!
//! 1. **pending** — put a new key as AWSPENDING (idempotent per token); a PENDING left by an
//!    interrupted run is resumed, never duplicated;
//! 2. **wait** — until every authorizer has read it ([`Timing::propagation_wait`]);
//! 3. **test** — optional URL checks (`crate::checks`);
//! 4. **promote** — record the promotion time, then PENDING → AWSCURRENT (the old current →
//!    AWSPREVIOUS). Recording first means an interrupted promotion leaves the guard armed.
//!
//! Starting a rotation is refused by [`guard`] while the PREVIOUS key it would drop may still be
//! in use ([`Timing::previous_key_in_use`] after the last promotion).

use std::time::Duration;

use originsig_core::{KeyId, KeyRing, KeyRole, SigningKey, MIN_KEY_LEN};
use thiserror::Error;

use crate::store::{KeyStore, KeyVersion, StoreError};
use crate::timing::Timing;

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
         a rotation now would drop that key and deny their requests. Try again in {}",
        crate::human_time::utc(*promoted_at), crate::human_time::utc(*safe_at), crate::human_time::human(*wait_secs)
    )]
    TooEarly {
        promoted_at: u64,
        safe_at: u64,
        wait_secs: u64,
        previous: String,
    },
    #[error("AWSPENDING holds an invalid value (version {version}: {problem}); replace it with a new key (`originsig rotate --force`)")]
    InvalidPending { version: String, problem: String },
    #[error("{store}: {problem}; authorizers refuse this key ring — fix the versions (`originsig status`) before rotating")]
    ConflictingRing { store: String, problem: String },
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

/// The verifying ring the labels make, or why authorizers would refuse it (two labels with one
/// key id and different bytes). Malformed optional versions are left out, as authorizers do.
pub fn verifying_ring(ring: &StoredRing) -> Option<Result<KeyRing, originsig_core::KeyError>> {
    let valid = |v: &Option<KeyVersion>| v.as_ref().and_then(|v| v.key.clone().ok());
    let current = valid(&ring.current)?;
    Some(KeyRing::new(current, valid(&ring.pending), valid(&ring.previous)))
}

/// When the last promotion happened, as far as the store can tell: the later of the recorded
/// tag and AWSCURRENT's creation (the tag may be missing — labels moved by hand — and a version
/// is never promoted before it exists).
pub async fn last_promotion(store: &impl KeyStore, ring: &StoredRing) -> Result<Option<u64>, RotationError> {
    let recorded = store.last_promotion().await?;
    let created = ring.current.as_ref().and_then(|c| c.created);
    Ok(recorded.max(created))
}

/// The guard, for every caller: refuses to start a rotation that would drop an AWSPREVIOUS key
/// that may still sign or be fresh.
pub async fn guard(
    store: &impl KeyStore,
    ring: &StoredRing,
    timing: &Timing,
    now: u64,
) -> Result<(), RotationError> {
    let Some(previous) = &ring.previous else {
        return Ok(()); // nothing to drop
    };
    let Some(promoted_at) = last_promotion(store, ring).await? else {
        return Ok(());
    };
    let safe_at = timing.next_safe_rotation(promoted_at);
    if now >= safe_at {
        return Ok(());
    }
    Err(RotationError::TooEarly {
        promoted_at,
        safe_at,
        wait_secs: safe_at - now,
        previous: match &previous.key {
            Ok(key) => key.id().to_string(),
            Err(_) => format!("version {} (invalid)", previous.version_id),
        },
    })
}

/// Step 1 for `originsig rotate`: resume the PENDING key if there is one, else (guard
/// permitting) make one. `force` replaces an invalid or conflicting PENDING and skips the guard.
pub async fn start(
    store: &impl KeyStore,
    timing: &Timing,
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
            (Ok(key), false) if !key.same_secret(&current) => {
                return Err(RotationError::ConflictingRing {
                    store: store.location(),
                    problem: format!(
                        "AWSPENDING (version {}) reuses the current key id {} with different bytes",
                        pending.version_id,
                        key.id()
                    ),
                })
            }
            (Err(problem), false) => {
                return Err(RotationError::InvalidPending {
                    version: pending.version_id.clone(),
                    problem: problem.to_string(),
                })
            }
            // A copy of the current key, or --force: replaced below (Secrets Manager moves the
            // label to the new version).
            _ => {}
        }
    }
    if !force {
        guard(store, &ring, timing, now).await?;
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

/// Step 1 for the rotation Lambda: Secrets Manager chose the token. Idempotent: a PENDING with
/// this token is kept; a PENDING with another token is an abandoned rotation and is replaced.
pub async fn ensure_pending(
    store: &impl KeyStore,
    token: &str,
    timing: &Timing,
    now: u64,
) -> Result<Pending, RotationError> {
    let ring = stored_ring(store).await?;
    valid_current(store, &ring)?;
    // Staged already (a retried step), or already promoted: that version's key.
    if let Some(pending) = existing_pending(store, token).await? {
        return Ok(pending);
    }
    guard(store, &ring, timing, now).await?;
    let key = new_key(now)?;
    store.put_pending(token, &key).await?;
    Ok(Pending {
        token: token.to_owned(),
        key,
        created: Some(now),
        resumed: false,
    })
}

/// The PENDING version `token` if it exists, without creating anything: the rotation Lambda's
/// `testSecret` may be called alone (Secrets Manager checks a rotation configuration that way).
pub async fn existing_pending(store: &impl KeyStore, token: &str) -> Result<Option<Pending>, RotationError> {
    let Some(version) = store
        .versions()
        .await?
        .into_iter()
        .find(|v| v.version_id == token)
    else {
        return Ok(None);
    };
    let key = version.key.map_err(|e| RotationError::InvalidPending {
        version: token.to_owned(),
        problem: e.to_string(),
    })?;
    Ok(Some(Pending {
        token: token.to_owned(),
        key,
        created: version.created,
        resumed: true,
    }))
}

/// How much of `wait` is left for a PENDING key created at `created` (unknown: all of it).
pub fn remaining_wait(wait: Duration, created: Option<u64>, now: u64) -> Duration {
    let waited = created.map_or(Duration::ZERO, |c| Duration::from_secs(now.saturating_sub(c)));
    wait.saturating_sub(waited)
}

/// The outcome of a promotion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promoted {
    pub new_key_id: KeyId,
    pub previous_key_id: Option<KeyId>,
    pub promoted_at: u64,
}

/// Step 4: records the time, then PENDING(token) → AWSCURRENT. Idempotent. Recording first
/// means a promotion interrupted between the two leaves a record at least as late as the label
/// move, so the guard never sees an older promotion than the real one.
pub async fn promote(store: &impl KeyStore, token: &str, now: u64) -> Result<Promoted, RotationError> {
    let ring = stored_ring(store).await?;
    let already = ring.current.as_ref().is_some_and(|c| c.version_id == token);
    let pending_here = ring.pending.as_ref().is_some_and(|p| p.version_id == token);
    if !already && !pending_here {
        return Err(RotationError::PendingGone(token.to_owned()));
    }
    if !already {
        store.record_promotion(now).await?;
        store.promote(token).await?;
    }
    let ring = stored_ring(store).await?;
    let new_key_id = valid_current(store, &ring)?.id().clone();
    let previous_key_id = ring.previous.and_then(|v| v.key.ok()).map(|k| k.id().clone());
    Ok(Promoted {
        new_key_id,
        previous_key_id,
        promoted_at: store.last_promotion().await?.unwrap_or(now),
    })
}
