//! The promotion step for the CloudFront Functions edge: copy AWSCURRENT into the
//! KeyValueStore item the function reads ([`crate::store::kvs`]).
//!
//! The secret stays the source of truth. The order keeps every request verifiable:
//!
//! 1. a new key is AWSPENDING for the rotation wait, so every authorizer knows it before it is
//!    promoted (`crate::rotation`);
//! 2. promotion moves the labels, then [`publish_current`] writes the store: edges start signing
//!    with the new key only now, and authorizers already accept it;
//! 3. edges still read the old item until the update has reached them (no documented bound:
//!    [`crate::timing::Timing::kvs_propagation_secs`]); the old key stays AWSPREVIOUS, accepted,
//!    because the rotation guard counts that bound from the recorded promotion time.
//!
//! [`publish_current`] records the promotion time again just before it changes the store, so a
//! store written late (a promotion interrupted between the labels and the store, finished by the
//! next run) arms the guard from the moment the edges' key really changed.
//!
//! Every caller runs it at one place: `originsig init` (the first key), `originsig rotate`
//! (first, to finish an interrupted promotion; then after its own promotion), the rotation
//! Lambda's `createSecret` (to finish) and `finishSecret`.

use originsig_core::{KeyError, KeyId, SigningKey};

use crate::rotation::{stored_ring, valid_current, RotationError, StoredRing};
use crate::store::kvs::{KvsKeyCopy, KvsValue, Written};
use crate::store::KeyStore;

/// What [`publish_current`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// AWSCURRENT's key id: what the store holds now.
    pub key_id: KeyId,
    pub written: Written,
}

/// Makes the store hold AWSCURRENT. Idempotent: nothing is written (and no time recorded) when
/// it does already.
pub async fn publish_current(
    copy: &KvsKeyCopy,
    store: &impl KeyStore,
    now: u64,
) -> Result<Published, RotationError> {
    let ring = stored_ring(store).await?;
    let current = valid_current(store, &ring)?;
    if agrees(&copy.read().await?, &current) {
        return Ok(Published {
            key_id: current.id().clone(),
            written: Written::Unchanged,
        });
    }
    // The edges' key changes from now on: the guard must count from here.
    store.record_promotion(now).await?;
    let written = copy.write(&current).await?;
    Ok(Published {
        key_id: current.id().clone(),
        written,
    })
}

fn agrees(held: &KvsValue, current: &SigningKey) -> bool {
    matches!(held, Some(Ok(key)) if key.id() == current.id() && key.same_secret(current))
}

/// What the store holds compared with AWSCURRENT (for `status` and `doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// The store holds AWSCURRENT.
    Agrees { key_id: KeyId },
    /// The store has no item: edges answer 503.
    Missing,
    /// The item is not a valid key: edges answer 503.
    Invalid { problem: KeyError },
    /// The store holds another key (or the same id with other bytes).
    Differs { held: KeyId, current: Option<KeyId> },
}

impl Comparison {
    pub fn agrees(&self) -> bool {
        matches!(self, Comparison::Agrees { .. })
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Comparison::Agrees { key_id } => format!("holds {key_id} (= AWSCURRENT)"),
            Comparison::Missing => "holds no key: CloudFront functions answer 503; run `originsig rotate` to write AWSCURRENT".to_owned(),
            Comparison::Invalid { problem } => format!("holds an invalid value ({problem}): CloudFront functions answer 503; run `originsig rotate` to write AWSCURRENT"),
            Comparison::Differs { held, current } => format!(
                "holds {held}, not AWSCURRENT ({}): a promotion did not reach the store; run `originsig rotate` to finish it",
                current.as_ref().map_or_else(|| "none".to_owned(), ToString::to_string)
            ),
        }
    }

    /// The held key id, for JSON output.
    pub fn held_key_id(&self) -> Option<String> {
        match self {
            Comparison::Agrees { key_id } => Some(key_id.to_string()),
            Comparison::Differs { held, .. } => Some(held.to_string()),
            Comparison::Missing | Comparison::Invalid { .. } => None,
        }
    }
}

/// Reads the store and compares it with the ring's AWSCURRENT.
pub async fn compare(copy: &KvsKeyCopy, ring: &StoredRing) -> Result<Comparison, RotationError> {
    let current = ring.current.as_ref().and_then(|c| c.key.as_ref().ok());
    Ok(match copy.read().await? {
        None => Comparison::Missing,
        Some(Err(problem)) => Comparison::Invalid { problem },
        Some(Ok(held)) => match current {
            Some(current) if held.id() == current.id() && held.same_secret(current) => Comparison::Agrees {
                key_id: held.id().clone(),
            },
            _ => Comparison::Differs {
                held: held.id().clone(),
                current: current.map(|c| c.id().clone()),
            },
        },
    })
}
