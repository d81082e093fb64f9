//! `--kvs-arn`: the CloudFront KeyValueStore the CloudFront Functions edge reads its key from
//! (`crate::edge_store`), and the record of it on the secret.
//!
//! Why a record: a promotion that does not reach the store leaves the edges signing with the
//! old key; two such promotions and the authorizers no longer know it, so every request is
//! denied. Forgetting `--kvs-arn` once must not be able to do that. So the first `init`,
//! `rotate` or `rollback` given `--kvs-arn` records the store on the secret (tag
//! [`crate::store::KVS_ARN_TAG`], which the rotator also writes from its configuration), and
//! every later command without the flag uses the recorded store. A flag that names another
//! store than the record is refused on the commands that write, unless `--replace-recorded-kvs`
//! says the edge really reads another store now (or `none`). The rule is
//! [`edge_store::store_to_use`], shared with the rotator. Only a Secrets Manager secret records;
//! the local chain's key file does not.

use clap::Args;

use super::{CliError, RegionArgs};
use crate::edge_store::{self, store_to_use, Access, Comparison, Published, Refused, Said, Why};
use crate::rotation::StoredRing;
use crate::store::kvs::{check_arn, KvsKeyCopy, Written, KVS_ARN_VAR};
use crate::store::{KeyStore, KVS_ARN_TAG};
use crate::timing::TOOL_CALLS;

/// The `--kvs-arn` value that says the edge reads no key value store.
pub const NO_STORE: &str = "none";

#[derive(Debug, Clone, Args)]
pub struct KvsArgs {
    /// The CloudFront KeyValueStore of a CloudFront Functions edge (the edge stack's
    /// KeyValueStoreArn output): promotions copy AWSCURRENT into it, status and doctor compare it.
    /// Default: the store recorded on the secret (tag originsig:kvs-arn), which the first
    /// init/rotate/rollback given --kvs-arn records. `none`: no store.
    // hide_env_values: clap would print `[env: ORIGINSIG_KVS_ARN=]` for an unset variable.
    #[arg(long, env = KVS_ARN_VAR, hide_env_values = true, value_name = "ARN")]
    pub kvs_arn: Option<String>,
}

/// `--kvs-arn` on the commands that write the store (init, rotate, rollback).
#[derive(Debug, Clone, Args)]
pub struct KvsWriteArgs {
    #[command(flatten)]
    pub target: KvsArgs,
    /// Record --kvs-arn on the secret in place of the store recorded there, because the edge
    /// now reads another store (or, with `--kvs-arn none`, none). Without it a --kvs-arn that
    /// differs from the record is refused.
    #[arg(long)]
    pub replace_recorded_kvs: bool,
}

impl KvsArgs {
    fn said(&self) -> Said {
        match self.kvs_arn.as_deref().map(str::trim) {
            None | Some("") => Said::Nothing,
            Some(NO_STORE) => Said::NoStore,
            Some(arn) => Said::Arn(arn.to_owned()),
        }
    }

    /// The store status and doctor compare: the flag's, else the one recorded on the secret.
    pub async fn open_for_reading(
        &self,
        region: &RegionArgs,
        store: &impl KeyStore,
    ) -> Result<Option<KvsKeyCopy>, CliError> {
        open(self.said(), region, store, Access::Read, false).await
    }
}

/// The shape of an ARN given with `--kvs-arn`: a typo is a usage error before any call.
fn check_shape(said: &Said) -> Result<(), CliError> {
    match said {
        Said::Arn(arn) => check_arn(arn).map_err(|e| CliError::Usage(format!("--kvs-arn: {e}"))),
        Said::Nothing | Said::NoStore => Ok(()),
    }
}

impl KvsWriteArgs {
    /// The ARN's shape, before anything is changed (`init` creates the secret first).
    pub fn check(&self) -> Result<(), CliError> {
        check_shape(&self.target.said())
    }

    /// The store a promotion writes; records it on the secret first when the record changes
    /// (not on a dry run, which only says so).
    pub async fn open_for_writing(
        &self,
        region: &RegionArgs,
        store: &impl KeyStore,
        dry_run: bool,
    ) -> Result<Option<KvsKeyCopy>, CliError> {
        let said = self.target.said();
        if self.replace_recorded_kvs && said == Said::Nothing {
            return Err(CliError::Usage(
                "--replace-recorded-kvs needs --kvs-arn (the store the edge reads now, or `none`)".to_owned(),
            ));
        }
        let access = Access::Write {
            replace: self.replace_recorded_kvs,
        };
        open(said, region, store, access, dry_run).await
    }
}

fn refusal(refused: Refused) -> String {
    let tag = KVS_ARN_TAG;
    let recorded = refused.recorded;
    match refused.said {
        Some(said) => format!(
            "--kvs-arn {said}: the secret records key value store {recorded} (tag {tag}) as the one the edge reads; \
             writing another store would leave those edges on the old key, and a second promotion would deny \
             every request they sign. If the edge now reads {said}, add --replace-recorded-kvs; otherwise leave \
             out --kvs-arn"
        ),
        None => format!(
            "--kvs-arn {NO_STORE}: the secret records key value store {recorded} (tag {tag}); a promotion that \
             skips it leaves the edges reading it on the old key. If no edge reads it any more, add \
             --replace-recorded-kvs"
        ),
    }
}

fn note(why: &Why) -> Option<String> {
    let tag = KVS_ARN_TAG;
    match why {
        Why::Agreed => None,
        Why::Recorded(r) => Some(format!("key value store {r}: recorded on the secret (tag {tag})")),
        Why::Records(a) => Some(format!(
            "the secret now records key value store {a} (tag {tag}): later commands without --kvs-arn use it too"
        )),
        Why::NotTheRecorded(r) => Some(format!(
            "note: the secret records key value store {r} (tag {tag}), not this one"
        )),
        Why::SkipsTheRecorded(r) => Some(format!(
            "note: not comparing key value store {r}, which the secret records (tag {tag})"
        )),
        Why::Replaced { old, new: Some(new) } => Some(format!(
            "the secret now records key value store {new} in place of {old} (tag {tag}): {old} gets no more keys"
        )),
        Why::Replaced { old, new: None } => Some(format!(
            "the secret no longer records key value store {old} (tag {tag}): promotions stop writing it"
        )),
    }
}

async fn open(
    said: Said,
    region: &RegionArgs,
    store: &impl KeyStore,
    access: Access,
    dry_run: bool,
) -> Result<Option<KvsKeyCopy>, CliError> {
    let from_flag = said != Said::Nothing;
    check_shape(&said)?;
    let recorded = store.recorded_kvs().await?;
    let choice = store_to_use(said, recorded.as_deref(), access).map_err(|r| CliError::Usage(refusal(r)))?;
    let copy = match &choice.arn {
        None => None,
        Some(arn) => Some(KvsKeyCopy::open(arn, region.region.clone(), TOOL_CALLS).await.map_err(|e| {
            CliError::Usage(if from_flag {
                format!("--kvs-arn: {e}")
            } else {
                format!("the secret's tag {KVS_ARN_TAG}: {e}; give the store with --kvs-arn ARN --replace-recorded-kvs")
            })
        })?),
    };
    if let Some(record) = &choice.record {
        // Recorded only once the store answers: a wrong ARN must not become the default (a dry
        // run reads it too, so it fails where the real run would).
        if let Some(copy) = &copy {
            copy.read().await?;
        }
        if dry_run {
            eprintln!(
                "dry run: would record key value store {} on the secret (tag {KVS_ARN_TAG})",
                record.as_deref().unwrap_or(NO_STORE)
            );
            return Ok(copy);
        }
        store.record_kvs(record.as_deref()).await?;
    }
    if let Some(note) = note(&choice.why) {
        eprintln!("{note}");
    }
    Ok(copy)
}

/// Writes AWSCURRENT into the store if it does not hold it; says what it did (stderr). `None`
/// without a store.
pub async fn publish(
    copy: Option<&KvsKeyCopy>,
    store: &impl KeyStore,
    now: u64,
) -> Result<Option<Published>, CliError> {
    let Some(copy) = copy else { return Ok(None) };
    let published = edge_store::publish_current(copy, store, now).await?;
    match published.written {
        Written::Unchanged => eprintln!(
            "key value store {}: holds {} already",
            copy.arn(),
            published.key_id
        ),
        Written::Updated { .. } => eprintln!(
            "key value store {}: now holds {} (edges read it once the update reaches them)",
            copy.arn(),
            published.key_id
        ),
    }
    Ok(Some(published))
}

/// The store compared with the ring, when there is one.
pub async fn compare(copy: Option<&KvsKeyCopy>, ring: &StoredRing) -> Result<Option<Comparison>, CliError> {
    match copy {
        None => Ok(None),
        Some(copy) => Ok(Some(edge_store::compare(copy, ring).await?)),
    }
}
