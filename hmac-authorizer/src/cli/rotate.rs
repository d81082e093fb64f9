//! `originsig rotate`: zero-downtime key rotation (see `crate::rotation` for the steps).

use std::time::Duration;

use clap::Args;
use reqwest::Url;

use super::{human, now_unix, utc, with_store, CliError, GuardArgs, KeySourceArgs, RegionArgs};
use crate::checks;
use crate::rotation::{self, RotationError};
use crate::timing::Timing;

#[derive(Debug, Args)]
#[command(after_help = super::EXIT_CODES)]
pub struct RotateArgs {
    #[command(flatten)]
    source: KeySourceArgs,
    #[command(flatten)]
    region: RegionArgs,
    #[command(flatten)]
    kvs: super::kvs::KvsArgs,
    /// The authorizers' key cache TTL (ORIGINSIG_CACHE_TTL_SECS), seconds.
    #[arg(long, default_value_t = Timing::DEFAULT.authorizer_cache_ttl_secs, value_name = "SECS")]
    authorizer_cache_ttl: u64,
    /// How long the new key must be staged before promotion (default: authorizer cache TTL +
    /// the safety margin).
    #[arg(long, value_name = "SECS")]
    wait: Option<u64>,
    /// Stage the new key and stop; run `rotate` again once the wait is over to promote it.
    #[arg(long)]
    no_wait: bool,
    #[command(flatten)]
    guard: GuardArgs,
    /// Before promoting, expect a 2xx from this URL (through CloudFront).
    #[arg(long, value_name = "URL")]
    test_url: Option<String>,
    /// Before promoting, expect this direct API URL to refuse an unsigned request and accept
    /// one signed with the new key.
    #[arg(long, value_name = "URL")]
    direct_url: Option<String>,
    /// Rotate even though the previous key may still be in use, or replace an invalid pending key.
    #[arg(long)]
    force: bool,
}

fn parse_url(flag: &str, text: &Option<String>) -> Result<Option<Url>, CliError> {
    text.as_ref()
        .map(|t| Url::parse(t).map_err(|e| CliError::Usage(format!("{flag} {t}: {e}"))))
        .transpose()
}

pub async fn run(args: RotateArgs) -> Result<(), CliError> {
    let test_url = parse_url("--test-url", &args.test_url)?;
    let direct_url = parse_url("--direct-url", &args.direct_url)?;
    let timing = Timing {
        authorizer_cache_ttl_secs: args.authorizer_cache_ttl,
        ..args.guard.timing()
    };
    let wait = args.wait.map_or(timing.propagation_wait(), Duration::from_secs);
    let kvs = args.kvs.open(&args.region).await?;
    with_store!(args.source.open(&args.region).await, store => {
        // 0. A promotion that did not reach the key value store is finished first, and that is
        // all this run does: the edges' key changes now, so the guard counts from now.
        if let Some(published) = super::kvs::publish(kvs.as_ref(), &store, now_unix()).await? {
            if published.written != crate::store::kvs::Written::Unchanged {
                println!("finished the promotion of {}: the key value store holds it now; next rotation safe at {}",
                    published.key_id, utc(timing.next_safe_rotation(now_unix())));
                return Ok(());
            }
        }
        // 1. Stage (or resume).
        let pending = rotation::start(&store, &timing, now_unix(), args.force).await?;
        if pending.resumed {
            eprintln!("resuming the rotation to key {} (token {})", pending.key.id(), pending.token);
        } else {
            eprintln!("staged new key {} as AWSPENDING (token {})", pending.key.id(), pending.token);
        }
        // 2. Wait until every authorizer can know it.
        let left = rotation::remaining_wait(wait, pending.created, now_unix());
        if args.no_wait {
            if left > Duration::ZERO {
                println!(
                    "staged {}; promote it by running `originsig rotate` again after {} (in {})",
                    pending.key.id(),
                    utc(now_unix() + left.as_secs()),
                    human(left.as_secs())
                );
                return Ok(());
            }
        } else {
            wait_with_progress(pending.key.id().as_str(), left).await;
        }
        // 3. Test.
        if let Some(url) = &test_url {
            checks::check_through_cloudfront(url).await.map_err(|e| CliError::from(RotationError::CheckFailed(e)))?;
            eprintln!("ok: {url} answers 2xx through CloudFront");
        }
        if let Some(url) = &direct_url {
            checks::check_direct(url, &pending.key, now_unix()).await.map_err(|e| CliError::from(RotationError::CheckFailed(e)))?;
            eprintln!("ok: {url} refuses unsigned requests and accepts the new key");
        }
        // 4. Promote.
        let promoted = rotation::promote(&store, &pending.token, now_unix()).await?;
        super::kvs::publish(kvs.as_ref(), &store, now_unix()).await?;
        println!("rotated: AWSCURRENT is now {}", promoted.new_key_id);
        if let Some(previous) = &promoted.previous_key_id {
            println!("AWSPREVIOUS is {previous} (still verifies, for edges that have not read the new key yet)");
        }
        println!("next rotation safe at {}", utc(timing.next_safe_rotation(promoted.promoted_at)));
    });
    Ok(())
}

/// Sleeps `left`, printing the time left every 15 seconds (stderr).
async fn wait_with_progress(key_id: &str, left: Duration) {
    let deadline = tokio::time::Instant::now() + left;
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        if remaining.is_zero() {
            break;
        }
        eprintln!(
            "waiting for authorizers to learn {key_id}: {} left",
            human(remaining.as_secs().max(1))
        );
        tokio::time::sleep(remaining.min(Duration::from_secs(15))).await;
    }
}
