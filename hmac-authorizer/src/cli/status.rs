//! `originsig status`: versions, labels, key ids, ages, and when the next rotation is safe.

use clap::Args;
use serde_json::json;

use super::{human, now_unix, utc, with_store, CliError, GuardArgs, KeySourceArgs, RegionArgs};
use crate::rotation::{self, stored_ring, RotationError};
use crate::store::{KeyStore, KeyVersion, ReadRing, Replica, StoreError};

#[derive(Debug, Args)]
#[command(after_help = super::exit::help(super::exit::codes::STATUS))]
pub struct StatusArgs {
    #[command(flatten)]
    source: KeySourceArgs,
    #[command(flatten)]
    region: RegionArgs,
    #[command(flatten)]
    output: super::output::OutputArgs,
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
    let (name, ring, promoted_at, guard, replicas, failed_test, kvs) = with_store!(args.source.open(&args.region).await?, store => {
        let kvs = args.kvs.open_for_reading(&args.region, &store).await?;
        let ring = stored_ring(&store).await?;
        let promoted_at = rotation::last_promotion(&store, &ring).await?;
        let guard = rotation::guard(&store, &ring, &timing, now).await;
        let replicas = replica_states(&store, &ring).await?;
        let failed_test = store.failed_test().await?;
        (store.location(), ring, promoted_at, guard, replicas, failed_test, kvs)
    });
    let (next_safe, replica_behind) = match guard {
        Ok(()) => (now, None),
        Err(RotationError::TooEarly { safe_at, .. }) => (safe_at, None),
        Err(behind @ RotationError::ReplicaBehind { .. }) => (now, Some(behind.to_string())),
        Err(other) => return Err(other.into()),
    };
    // A recorded failed test counts only for the version still pending.
    let held = failed_test.filter(|v| ring.pending.as_ref().is_some_and(|p| p.version_id == *v));
    // What authorizers would make of the labels: a conflict or a bad AWSCURRENT breaks them.
    // An invalid AWSPENDING is left out by authorizers, but no rotation can resume it: a store
    // problem too (exit 3), with `rotate --replace-pending` as the way out.
    let problem = match rotation::verifying_ring(&ring) {
        None => ring
            .current
            .as_ref()
            .and_then(|c| c.key.as_ref().err())
            .map(|e| ("AWSCURRENT", e.clone())),
        Some(Err(conflict)) => Some(("the key ring", conflict)),
        Some(Ok(_)) => ring
            .pending
            .as_ref()
            .and_then(|p| p.key.as_ref().err())
            .map(|e| ("AWSPENDING", e.clone())),
    };
    let edge_copy = super::kvs::compare(kvs.as_ref(), &ring).await?;
    let versions: Vec<&KeyVersion> = [&ring.current, &ring.pending, &ring.previous]
        .into_iter()
        .flatten()
        .chain(ring.others.iter())
        .collect();
    if args.output.is_json() {
        let doc = json!({
            "store": name,
            "versions": versions.iter().map(|v| describe(v, now)).collect::<Vec<_>>(),
            "lastPromotion": promoted_at,
            "nextSafeRotation": next_safe,
            "rotationInProgress": ring.pending.as_ref().is_some_and(|p| p.key.is_ok()),
            "heldByFailedTest": held,
            "replicas": replicas.iter().map(|(r, has)| json!({
                "region": r.region,
                "status": r.status,
                "message": r.message,
                "hasCurrentVersion": has,
            })).collect::<Vec<_>>(),
            "replicaBehind": replica_behind,
            "problem": problem.as_ref().map(|(label, e)| format!("{label}: {e}")),
            "keyValueStore": kvs.as_ref().zip(edge_copy.as_ref()).map(|(copy, c)| json!({
                "arn": copy.arn(),
                "keyId": c.held_key_id(),
                "matchesCurrent": c.agrees(),
                "state": c.describe(),
            })),
        });
        super::output::print_json(&doc);
    } else {
        print_text(&name, &versions, &ring, promoted_at, next_safe, now);
        if let Some((copy, c)) = kvs.as_ref().zip(edge_copy.as_ref()) {
            println!("key value store {}: {}", copy.arn(), c.describe());
        }
        print_replicas(&replicas);
        if let Some(behind) = &replica_behind {
            println!("the next rotation waits: {behind}");
        }
        if let Some(version) = &held {
            println!(
                "a rotation test failed for the pending version {version}: `originsig rotate` with the test URLs \
                 promotes it once they pass (or --force)"
            );
        }
        match &problem {
            Some(("AWSPENDING", e)) => println!(
                "PROBLEM: AWSPENDING: {e} — no rotation can resume it; replace it with `originsig rotate --replace-pending`"
            ),
            Some((label, e)) => println!("PROBLEM: {label}: {e} — authorizers cannot use this key ring"),
            None => {}
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
    if ring.pending.as_ref().is_some_and(|p| p.key.is_ok()) {
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

/// Each replica region's state, and whether the AWSCURRENT version is readable there with its
/// label (what an edge reading that replica signs with).
pub(super) async fn replica_states(
    store: &impl KeyStore,
    ring: &rotation::StoredRing,
) -> Result<Vec<(Replica, bool)>, StoreError> {
    let mut out = Vec::new();
    for mut replica in store.replicas().await? {
        let has = match &ring.current {
            Some(current) => store
                .replica_has(
                    &replica.region,
                    &current.version_id,
                    originsig_core::KeyRole::Current,
                )
                .await
                // A read-only operator may lack the right in a replica region: shown, not fatal.
                .unwrap_or_else(|error| {
                    replica.message = Some(format!("cannot read the replica: {error}"));
                    false
                }),
            None => false,
        };
        out.push((replica, has));
    }
    Ok(out)
}

pub(super) fn print_replicas(replicas: &[(Replica, bool)]) {
    for (replica, has) in replicas {
        println!(
            "replica {}: {}{}; AWSCURRENT {}",
            replica.region,
            replica.status,
            replica
                .message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default(),
            if *has {
                "readable there"
            } else {
                "NOT readable there yet"
            }
        );
    }
}
