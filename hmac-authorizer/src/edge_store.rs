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

/// What a command says about the store the edge reads (`--kvs-arn`, the rotator's
/// `ORIGINSIG_KVS_ARN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// Nothing: use the store recorded on the secret.
    Nothing,
    /// The edge reads no key value store.
    NoStore,
    Arn(String),
}

/// Whether a command writes the store (and may then change the record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    /// `replace`: the operator says the edge reads another store now (`--replace-recorded-kvs`).
    Write {
        replace: bool,
    },
}

/// The store to use, and what changes in the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreToUse {
    pub arn: Option<String>,
    /// `Some(new record)` when the record changes (`Some(None)`: cleared).
    pub record: Option<Option<String>>,
    /// Why, for the operator.
    pub why: Why,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// What was said agrees with the record (or neither names a store).
    Agreed,
    /// Nothing said: the recorded store.
    Recorded(String),
    /// A first store on a write: it becomes the record.
    Records(String),
    /// A read of another store than the recorded one, as asked.
    NotTheRecorded(String),
    /// A read without the recorded store, as asked.
    SkipsTheRecorded(String),
    /// Replaced the recorded store (`None`: no store now).
    Replaced { old: String, new: Option<String> },
}

/// Why a write was refused: the record names `recorded`; the command said another store
/// (`None`: no store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub said: Option<String>,
    pub recorded: String,
}

/// The one rule for the record of the edge's store on the secret (`crate::store::KVS_ARN_TAG`).
/// A promotion that misses the store the edge reads leaves the edges on the old key, and a
/// second one denies every request they sign; so a write may fill an empty record, but never
/// writes another store than the recorded one (nor none) unless told the edge moved. Saying
/// nothing uses the record (a replacement needs a store to replace it with: the CLI asks for one).
pub fn store_to_use(said: Said, recorded: Option<&str>, access: Access) -> Result<StoreToUse, Refused> {
    let keep = |arn: Option<String>, why: Why| {
        Ok(StoreToUse {
            arn,
            record: None,
            why,
        })
    };
    let Some(recorded) = recorded else {
        return match (said, access) {
            (Said::Arn(a), Access::Write { .. }) => Ok(StoreToUse {
                arn: Some(a.clone()),
                record: Some(Some(a.clone())),
                why: Why::Records(a),
            }),
            (Said::Arn(a), Access::Read) => keep(Some(a), Why::Agreed),
            (Said::Nothing | Said::NoStore, _) => keep(None, Why::Agreed),
        };
    };
    let recorded = recorded.to_owned();
    let said = match said {
        Said::Nothing => return keep(Some(recorded.clone()), Why::Recorded(recorded)),
        Said::Arn(a) if a == recorded => return keep(Some(a), Why::Agreed),
        Said::Arn(a) => Some(a),
        Said::NoStore => None,
    };
    match access {
        Access::Read => {
            let why = match &said {
                Some(_) => Why::NotTheRecorded(recorded),
                None => Why::SkipsTheRecorded(recorded),
            };
            keep(said, why)
        }
        Access::Write { replace: true } => Ok(StoreToUse {
            arn: said.clone(),
            record: Some(said.clone()),
            why: Why::Replaced {
                old: recorded,
                new: said,
            },
        }),
        Access::Write { replace: false } => Err(Refused { said, recorded }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "arn:aws:cloudfront::123456789012:key-value-store/a";
    const B: &str = "arn:aws:cloudfront::123456789012:key-value-store/b";
    const KEEP: Access = Access::Write { replace: false };
    const REPLACE: Access = Access::Write { replace: true };

    fn arn(a: &str) -> Said {
        Said::Arn(a.to_owned())
    }

    #[test]
    fn without_a_store_said_the_record_is_used_and_never_changed() {
        for access in [Access::Read, KEEP] {
            let d = store_to_use(Said::Nothing, Some(A), access).unwrap();
            assert_eq!((d.arn.as_deref(), d.record), (Some(A), None));
            assert_eq!(store_to_use(Said::Nothing, None, access).unwrap().arn, None);
        }
        let replace_with_nothing = store_to_use(Said::Nothing, Some(A), REPLACE).unwrap();
        assert_eq!(
            (replace_with_nothing.arn.as_deref(), replace_with_nothing.record),
            (Some(A), None)
        );
    }

    #[test]
    fn the_first_store_on_a_write_is_recorded_and_a_read_records_nothing() {
        assert_eq!(
            store_to_use(arn(A), None, KEEP).unwrap().record,
            Some(Some(A.to_owned()))
        );
        assert_eq!(store_to_use(arn(A), None, Access::Read).unwrap().record, None);
        assert_eq!(store_to_use(arn(A), Some(A), KEEP).unwrap().record, None);
        assert_eq!(store_to_use(arn(A), Some(A), REPLACE).unwrap().record, None);
    }

    #[test]
    fn another_store_than_the_record_is_refused_on_a_write_unless_replaced() {
        assert_eq!(
            store_to_use(arn(B), Some(A), KEEP),
            Err(Refused {
                said: Some(B.to_owned()),
                recorded: A.to_owned()
            })
        );
        let replaced = store_to_use(arn(B), Some(A), REPLACE).unwrap();
        assert_eq!(
            (replaced.arn.as_deref(), replaced.record),
            (Some(B), Some(Some(B.to_owned())))
        );
        let read = store_to_use(arn(B), Some(A), Access::Read).unwrap();
        assert_eq!((read.arn.as_deref(), read.record), (Some(B), None));
    }

    #[test]
    fn no_store_clears_the_record_only_when_replaced() {
        assert_eq!(
            store_to_use(Said::NoStore, Some(A), KEEP),
            Err(Refused {
                said: None,
                recorded: A.to_owned()
            })
        );
        let cleared = store_to_use(Said::NoStore, Some(A), REPLACE).unwrap();
        assert_eq!((cleared.arn, cleared.record), (None, Some(None)));
        let read = store_to_use(Said::NoStore, Some(A), Access::Read).unwrap();
        assert_eq!((read.arn, read.record), (None, None));
        let nothing = store_to_use(Said::NoStore, None, KEEP).unwrap();
        assert_eq!((nothing.arn, nothing.record), (None, None));
    }
}
