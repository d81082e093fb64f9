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
//! in use ([`Timing::previous_key_in_use`] after the last promotion), or while a replica region
//! does not show the last promotion yet (an edge reading that replica still signs with the key
//! that would be dropped).
//!
//! Two different overrides ([`Overrides`]): `replace_pending` replaces an invalid or conflicting
//! AWSPENDING and skips nothing else; `force` overrides the promotion safety checks (the guard, a
//! recorded failed test, a wait shorter than the propagation wait), and every check it overrode
//! is named in [`Plan::overridden`] so the caller prints it.
//!
//! A failed rotation test is recorded with the pending version ([`KeyStore::record_failed_test`]):
//! promoting that version then needs the test to pass again, or `force`.
//!
//! [`rollback`] moves AWSCURRENT back to the AWSPREVIOUS version: no key leaves the labels, and
//! the time is recorded like a promotion, so the next rotation waits for the key it demoted.

use std::time::Duration;

use originsig_core::{KeyId, KeyRing, KeyRole, SigningKey, MIN_KEY_LEN};
use thiserror::Error;

use crate::checks::CheckError;
use crate::store::{KeyStore, KeyVersion, ReadRing, StoreError};
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
    #[error("AWSPENDING holds an invalid value (version {version}: {problem}); replace it with a new key (`originsig rotate --replace-pending`)")]
    InvalidPending { version: String, problem: String },
    #[error("{store}: {problem}; authorizers refuse this key ring — replace the pending key (`originsig rotate --replace-pending`) or fix the versions (`originsig status`)")]
    ConflictingRing { store: String, problem: String },
    #[error(
        "a rotation test failed for the pending key {key_id} (version {version}; recorded in the secret's tag {tag}): \
         promotion needs the test to pass — run `originsig rotate` again with the same --test-url/--direct-url — \
         or --force to promote without it"
    )]
    HeldByFailedTest {
        key_id: String,
        version: String,
        tag: &'static str,
    },
    #[error(
        "a wait of {wait}s is shorter than the propagation wait of {needed}s (authorizer cache TTL + margin, \
         `originsig timing`): authorizers that have not read the new key would deny requests signed with it; \
         wait longer, or pass --force"
    )]
    WaitTooShort { wait: u64, needed: u64 },
    #[error(
        "the replica in {region} does not hold {what} yet (replication status {status}{}); edges reading that \
         replica would sign with a key that is about to leave the labels. Check the replica (`originsig status`), \
         its KMS key and the alarm; try again once it is InSync",
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    ReplicaBehind {
        region: String,
        what: String,
        status: String,
        message: Option<String>,
    },
    #[error("{store} has no AWSPREVIOUS key to roll back to")]
    NothingToRollBackTo { store: String },
    #[error("{store}: the AWSPREVIOUS value is invalid ({problem}); cannot roll back to it")]
    InvalidPrevious { store: String, problem: String },
    #[error("the pending key with token {0} is not there (did someone else finish or cancel this rotation?); run status")]
    PendingGone(String),
    #[error("a rotation test failed: {0}; the new key was NOT promoted (it stays AWSPENDING; fix and rerun to resume)")]
    CheckFailed(String),
    #[error("a rotation test got no answer: {0}; the new key was NOT promoted (it stays AWSPENDING; check the URL and the network path, then rerun to resume)")]
    CheckNoAnswer(String),
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

/// AWSCURRENT's key, or why there is none usable.
pub(crate) fn valid_current(store: &impl ReadRing, ring: &StoredRing) -> Result<SigningKey, RotationError> {
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
    // An edge reading a replica that has not seen the last promotion still signs with the key
    // this rotation would drop.
    if let Some(current) = &ring.current {
        replicas_hold(store, &current.version_id, KeyRole::Current, "the last promotion").await?;
    }
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

/// What a caller lets a rotation do beyond the safe path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Replace an invalid or conflicting AWSPENDING with a new key (`--replace-pending`).
    pub replace_pending: bool,
    /// Override the promotion safety checks (`--force`): the guard, a recorded failed test, a
    /// wait shorter than the propagation wait.
    pub force: bool,
}

impl Overrides {
    pub const NONE: Overrides = Overrides {
        replace_pending: false,
        force: false,
    };
}

/// What step 1 does.
#[derive(Debug, Clone)]
pub enum Staging {
    /// Resume the PENDING key of an interrupted rotation.
    Resume(Pending),
    /// Stage a new key (`replaces`: the version of an invalid, conflicting or copied PENDING
    /// it replaces, and why).
    New { replaces: Option<(String, String)> },
}

/// What a rotation would do, found without writing anything (`rotate --dry-run` prints it;
/// [`start`] carries it out).
#[derive(Debug, Clone)]
pub struct Plan {
    pub staging: Staging,
    /// The current key, demoted to AWSPREVIOUS by the promotion.
    pub current: KeyId,
    /// The AWSPREVIOUS key the promotion drops, if any.
    pub drops: Option<String>,
    /// The version of the PENDING key whose rotation test failed (promotion is held).
    pub failed_test: Option<String>,
    /// Each safety check `force` overrode, in words.
    pub overridden: Vec<String>,
}

/// Step 1, read-only: what a rotation would do now, or why it is refused.
pub async fn plan(
    store: &impl KeyStore,
    timing: &Timing,
    now: u64,
    overrides: Overrides,
) -> Result<Plan, RotationError> {
    let ring = stored_ring(store).await?;
    let current = valid_current(store, &ring)?;
    let mut replaces = None;
    if let Some(pending) = &ring.pending {
        match &pending.key {
            Ok(key) if key.id() != current.id() => {
                let failed_test = store.failed_test().await?.filter(|v| *v == pending.version_id);
                return Ok(Plan {
                    staging: Staging::Resume(Pending {
                        token: pending.version_id.clone(),
                        key: key.clone(),
                        created: pending.created,
                        resumed: true,
                    }),
                    current: current.id().clone(),
                    drops: dropped(&ring),
                    failed_test,
                    overridden: Vec::new(),
                });
            }
            Ok(key) if !key.same_secret(&current) && !overrides.replace_pending => {
                return Err(RotationError::ConflictingRing {
                    store: store.location(),
                    problem: format!(
                        "AWSPENDING (version {}) reuses the current key id {} with different bytes",
                        pending.version_id,
                        key.id()
                    ),
                })
            }
            Err(problem) if !overrides.replace_pending => {
                return Err(RotationError::InvalidPending {
                    version: pending.version_id.clone(),
                    problem: problem.to_string(),
                })
            }
            // A copy of the current key (replaced without asking), or --replace-pending.
            Ok(key) => {
                let why = if key.same_secret(&current) {
                    "a copy of the current key"
                } else {
                    "the current key id with different bytes"
                };
                replaces = Some((pending.version_id.clone(), why.to_owned()));
            }
            Err(problem) => replaces = Some((pending.version_id.clone(), problem.to_string())),
        }
    }
    let mut overridden = Vec::new();
    match guard(store, &ring, timing, now).await {
        Ok(()) => {}
        Err(refused @ (RotationError::TooEarly { .. } | RotationError::ReplicaBehind { .. }))
            if overrides.force =>
        {
            overridden.push(format!("the rotation guard: {refused}"));
        }
        Err(other) => return Err(other),
    }
    Ok(Plan {
        staging: Staging::New { replaces },
        current: current.id().clone(),
        drops: dropped(&ring),
        failed_test: None,
        overridden,
    })
}

fn dropped(ring: &StoredRing) -> Option<String> {
    ring.previous.as_ref().map(|previous| match &previous.key {
        Ok(key) => key.id().to_string(),
        Err(_) => format!("version {} (invalid)", previous.version_id),
    })
}

/// Step 1 for `originsig rotate`: resume the PENDING key if there is one, else (guard
/// permitting, or overridden) make one. The plan says what was overridden.
pub async fn start(
    store: &impl KeyStore,
    timing: &Timing,
    now: u64,
    overrides: Overrides,
) -> Result<(Pending, Plan), RotationError> {
    let plan = plan(store, timing, now, overrides).await?;
    stage(store, plan, now).await
}

/// Carries out step 1 of a [`plan`]: the PENDING key to resume, or a new one stored now.
pub async fn stage(store: &impl KeyStore, plan: Plan, now: u64) -> Result<(Pending, Plan), RotationError> {
    if let Staging::Resume(pending) = &plan.staging {
        return Ok((pending.clone(), plan));
    }
    let token = new_token()?;
    let key = new_key(now)?;
    // Secrets Manager moves the AWSPENDING label to the new version.
    store.put_pending(&token, &key).await?;
    let pending = Pending {
        token,
        key,
        created: Some(now),
        resumed: false,
    };
    Ok((pending, plan))
}

/// Before a promotion: a wait shorter than the propagation wait, and a recorded failed test of
/// this version, are refused unless `force` (then named in `overridden`). `tests_passed`: the
/// caller ran the rotation tests for this version just now and they passed.
pub async fn promotion_checks(
    store: &impl KeyStore,
    pending: &Pending,
    timing: &Timing,
    wait: Duration,
    tests_passed: bool,
    force: bool,
    overridden: &mut Vec<String>,
) -> Result<(), RotationError> {
    let needed = timing.propagation_wait();
    if wait < needed {
        let refused = RotationError::WaitTooShort {
            wait: wait.as_secs(),
            needed: needed.as_secs(),
        };
        if !force {
            return Err(refused);
        }
        overridden.push(format!("the propagation wait: {refused}"));
    }
    let failed = store.failed_test().await?;
    if failed.as_deref() == Some(pending.token.as_str()) {
        if tests_passed {
            store.record_failed_test(None).await?;
        } else {
            let refused = RotationError::HeldByFailedTest {
                key_id: pending.key.id().to_string(),
                version: pending.token.clone(),
                tag: crate::store::FAILED_TEST_TAG,
            };
            if !force {
                return Err(refused);
            }
            overridden.push(format!("the recorded failed test: {refused}"));
        }
    }
    Ok(())
}

/// A rotation test of `pending` failed: record it (the promotion is then held) and say so.
pub async fn test_failed(store: &impl KeyStore, pending: &Pending, problem: CheckError) -> RotationError {
    let problem = match store.record_failed_test(Some(&pending.token)).await {
        Ok(()) => problem,
        Err(store_error) => {
            let with = |p: String| format!("{p} (and recording the failure failed: {store_error})");
            match problem {
                CheckError::NoAnswer(p) => CheckError::NoAnswer(with(p)),
                CheckError::Failed(p) => CheckError::Failed(with(p)),
            }
        }
    };
    match problem {
        CheckError::NoAnswer(p) => RotationError::CheckNoAnswer(p),
        CheckError::Failed(p) => RotationError::CheckFailed(p),
    }
}

/// Every replica region holds `version` with `role`'s label (and reports `InSync`), or the
/// first one that does not.
pub async fn replicas_hold(
    store: &impl KeyStore,
    version: &str,
    role: KeyRole,
    what: &str,
) -> Result<(), RotationError> {
    for replica in store.replicas().await? {
        let behind = |status: String| RotationError::ReplicaBehind {
            region: replica.region.clone(),
            what: what.to_owned(),
            status,
            message: replica.message.clone(),
        };
        if !replica.in_sync() {
            return Err(behind(replica.status.clone()));
        }
        if !store.replica_has(&replica.region, version, role).await? {
            return Err(behind(format!(
                "{}, but version {version} is not readable there as {}",
                replica.status,
                role.staging_label()
            )));
        }
    }
    Ok(())
}

/// [`replicas_hold`], polled every few seconds for at most `within` (replication usually takes
/// seconds; a stuck or failed replica fails the step with its region and status).
pub async fn await_replicas(
    store: &impl KeyStore,
    version: &str,
    role: KeyRole,
    what: &str,
    within: Duration,
) -> Result<(), RotationError> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match replicas_hold(store, version, role, what).await {
            Err(behind @ RotationError::ReplicaBehind { .. }) => {
                // A Failed replica does not recover by waiting.
                let failed =
                    matches!(&behind, RotationError::ReplicaBehind { status, .. } if status == "Failed");
                if failed || tokio::time::Instant::now() >= deadline {
                    return Err(behind);
                }
                tokio::time::sleep(REPLICA_POLL).await;
            }
            other => return other,
        }
    }
}

/// How often [`await_replicas`] asks again.
pub const REPLICA_POLL: Duration = Duration::from_secs(5);

/// How long `originsig rotate` and `rollback` wait for replicas before giving up.
pub const REPLICA_WAIT: Duration = Duration::from_secs(120);

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

/// What a rollback does: AWSCURRENT back to `to`, the current key becomes AWSPREVIOUS.
#[derive(Debug, Clone)]
pub struct RollbackPlan {
    pub from: KeyId,
    pub from_version: String,
    pub to: KeyId,
    pub to_version: String,
    /// A rotation in progress (its PENDING key stays staged).
    pub pending: Option<String>,
}

/// A rollback, read-only: refused without a valid AWSPREVIOUS key. No key leaves the labels, so
/// no guard applies; the time is recorded so the next rotation waits for the demoted key.
pub async fn plan_rollback(store: &impl KeyStore) -> Result<RollbackPlan, RotationError> {
    let ring = stored_ring(store).await?;
    let current = valid_current(store, &ring)?;
    let previous = ring
        .previous
        .as_ref()
        .ok_or_else(|| RotationError::NothingToRollBackTo {
            store: store.location(),
        })?;
    let to = previous.key.clone().map_err(|e| RotationError::InvalidPrevious {
        store: store.location(),
        problem: e.to_string(),
    })?;
    let from_version = ring
        .current
        .as_ref()
        .map(|c| c.version_id.clone())
        .unwrap_or_default();
    Ok(RollbackPlan {
        from: current.id().clone(),
        from_version,
        to: to.id().clone(),
        to_version: previous.version_id.clone(),
        pending: ring.pending.as_ref().map(|p| {
            p.key
                .as_ref()
                .map_or_else(|_| p.version_id.clone(), |k| k.id().to_string())
        }),
    })
}

/// Rolls back: records the time (first, as a promotion does), then moves AWSCURRENT.
pub async fn rollback(
    store: &impl KeyStore,
    plan: &RollbackPlan,
    now: u64,
) -> Result<Promoted, RotationError> {
    store.record_promotion(now).await?;
    store.roll_back(&plan.to_version).await?;
    let ring = stored_ring(store).await?;
    let new_key_id = valid_current(store, &ring)?.id().clone();
    let previous_key_id = ring.previous.and_then(|v| v.key.ok()).map(|k| k.id().clone());
    Ok(Promoted {
        new_key_id,
        previous_key_id,
        promoted_at: store.last_promotion().await?.unwrap_or(now),
    })
}
