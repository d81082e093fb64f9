//! `originsig status`: versions, labels, key ids, ages, and when the next rotation is safe.

use clap::Args;
use serde_json::json;

use super::{human, now_unix, utc, with_store, CliError, GuardArgs, KeySourceArgs, RegionArgs};
use crate::rotation::{self, stored_ring, RotationError};
use crate::store::{KeyVersion, ReadRing, StoreError};

#[derive(Debug, Args)]
#[command(after_help = super::EXIT_CODES)]
pub struct StatusArgs {
    #[command(flatten)]
    source: KeySourceArgs,
    #[command(flatten)]
    region: RegionArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    guard: GuardArgs,
    #[command(flatten)]
    kvs: super::kvs::KvsArgs,
}

fn describe(version: &KeyVersion, now: u64) -> serde_json::Value {
    json!({
        "versionId": version.version_id,
        "labels": version.labels,
        "keyId": version.key.as_ref().ok().map(|k| k.id().to_string()),
        "problem": version.key.as_ref().err().map(ToString::to_string),
        "createdAt": version.created,
        "ageSeconds": version.created.map(|c| now.saturating_sub(c)),
    })
}

pub async fn run(args: StatusArgs) -> Result<(), CliError> {
    let timing = args.guard.timing();
    let now = now_unix();
    let kvs = args.kvs.open(&args.region).await?;
    let (name, ring, promoted_at, guard) = with_store!(args.source.open(&args.region).await, store => {
        let ring = stored_ring(&store).await?;
        let promoted_at = rotation::last_promotion(&store, &ring).await?;
        let guard = rotation::guard(&store, &ring, &timing, now).await;
        (store.location(), ring, promoted_at, guard)
    });
    let next_safe = match guard {
        Ok(()) => now,
        Err(RotationError::TooEarly { safe_at, .. }) => safe_at,
        Err(other) => return Err(other.into()),
    };
    // What authorizers would make of the labels: a conflict or a bad AWSCURRENT breaks them.
    let problem = match rotation::verifying_ring(&ring) {
        None => ring
            .current
            .as_ref()
            .and_then(|c| c.key.as_ref().err())
            .map(|e| ("AWSCURRENT", e.clone())),
        Some(Err(conflict)) => Some(("the key ring", conflict)),
        Some(Ok(_)) => None,
    };
    let edge_copy = super::kvs::compare(kvs.as_ref(), &ring).await?;
    let versions: Vec<&KeyVersion> = [&ring.current, &ring.pending, &ring.previous]
        .into_iter()
        .flatten()
        .chain(ring.others.iter())
        .collect();
    if args.json {
        let doc = json!({
            "store": name,
            "versions": versions.iter().map(|v| describe(v, now)).collect::<Vec<_>>(),
            "lastPromotion": promoted_at,
            "nextSafeRotation": next_safe,
            "rotationInProgress": ring.pending.is_some(),
            "problem": problem.as_ref().map(|(label, e)| format!("{label}: {e}")),
            "keyValueStore": kvs.as_ref().zip(edge_copy.as_ref()).map(|(copy, c)| json!({
                "arn": copy.arn(),
                "keyId": c.held_key_id(),
                "matchesCurrent": c.agrees(),
                "state": c.describe(),
            })),
        });
        #[expect(clippy::expect_used, reason = "invariant stated in the message")]
        let text = serde_json::to_string_pretty(&doc).expect("a JSON value serialises");
        println!("{text}");
    } else {
        print_text(&name, &versions, &ring, promoted_at, next_safe, now);
        if let Some((copy, c)) = kvs.as_ref().zip(edge_copy.as_ref()) {
            println!("key value store {}: {}", copy.arn(), c.describe());
        }
        if let Some((label, e)) = &problem {
            println!("PROBLEM: {label}: {e} — authorizers cannot use this key ring");
        }
    }
    match problem {
        Some((label, problem)) => Err(CliError::Store(StoreError::Invalid {
            what: name,
            label,
            problem,
        })),
        None => Ok(()),
    }
}

fn print_text(
    name: &str,
    versions: &[&KeyVersion],
    ring: &rotation::StoredRing,
    promoted_at: Option<u64>,
    next_safe: u64,
    now: u64,
) {
    println!("{name}");
    for version in versions {
        let key = match &version.key {
            Ok(key) => key.id().to_string(),
            Err(problem) => format!("INVALID ({problem})"),
        };
        let age = version
            .created
            .map(|c| format!(", created {} ago", human(now.saturating_sub(c))))
            .unwrap_or_default();
        println!(
            "  {:<28} {key}  (version {}{age})",
            version.labels.join(","),
            version.version_id
        );
    }
    if ring.current.is_none() {
        println!("  no AWSCURRENT key: run `originsig init`");
    }
    match promoted_at {
        Some(at) => println!(
            "last promotion: {} ({} ago)",
            utc(at),
            human(now.saturating_sub(at))
        ),
        None => println!("last promotion: not recorded"),
    }
    if ring.pending.is_some() {
        println!("a rotation is in progress: `originsig rotate` resumes it");
    } else if next_safe > now {
        println!(
            "next rotation safe at {} (in {})",
            utc(next_safe),
            human(next_safe - now)
        );
    } else {
        println!("a rotation may start now");
    }
}
