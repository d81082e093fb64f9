//! `originsig status`: versions, labels, key ids, ages, and when the next rotation is safe.

use clap::Args;
use serde_json::json;

use super::{human, now_unix, utc, with_store, CliError, KeySourceArgs, RegionArgs};
use crate::rotation::{stored_ring, RotationTiming, SAFETY_MARGIN};
use crate::store::{KeyStore, KeyVersion, ReadRing};

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    source: KeySourceArgs,
    #[command(flatten)]
    region: RegionArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Edge key cache TTL (seconds), for the next-safe-rotation time.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    edge_cache_ttl: u64,
    /// Freshness window of the authorizers (seconds).
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    max_age: u64,
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
    let timing = RotationTiming {
        propagation_wait: SAFETY_MARGIN,
        edge_cache_ttl: std::time::Duration::from_secs(args.edge_cache_ttl),
        freshness_window: std::time::Duration::from_secs(args.max_age),
    };
    let now = now_unix();
    let (name, ring, promoted_at) = with_store!(args.source.open(&args.region).await, store => {
        (store.location(), stored_ring(&store).await?, store.last_promotion().await?)
    });
    let next_safe = match (&ring.previous, promoted_at) {
        (Some(_), Some(at)) => timing.next_safe_rotation(at).max(now),
        _ => now,
    };
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
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return Ok(());
    }
    println!("{name}");
    for version in &versions {
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
    Ok(())
}
