//! `originsig rotate`: zero-downtime key rotation (see `crate::rotation` for the steps).

use std::time::Duration;

use clap::Args;
use originsig_core::KeyRole;
use reqwest::Url;

use super::{human, now_unix, utc, with_store, CliError, GuardArgs, KeySourceArgs, RegionArgs};
use crate::checks::{self, DirectTarget};
use crate::edge_store::Comparison;
use crate::rotation::{self, Overrides, Pending, Plan, RotationError, Staging};
use crate::store::kvs::KvsKeyCopy;
use crate::store::KeyStore;
use crate::timing::Timing;

#[derive(Debug, Args)]
#[command(after_help = super::exit::help(super::exit::codes::ROTATE))]
pub struct RotateArgs {
    #[command(flatten)]
    source: KeySourceArgs,
    #[command(flatten)]
    region: RegionArgs,
    #[command(flatten)]
    kvs: super::kvs::KvsWriteArgs,
    /// The authorizers' key cache TTL (ORIGINSIG_CACHE_TTL_SECS), seconds.
    #[arg(long, default_value_t = Timing::DEFAULT.authorizer_cache_ttl_secs, value_name = "SECS")]
    authorizer_cache_ttl: u64,
    /// How long the new key must be staged before promotion (default: authorizer cache TTL +
    /// the safety margin; shorter needs --force).
    #[arg(long, value_name = "SECS")]
    wait: Option<u64>,
    /// Stage the new key and stop; run `rotate` again once the wait is over to promote it.
    #[arg(long)]
    no_wait: bool,
    /// Print what would happen and when (stage, wait until, tests, promote, guard until), and
    /// change nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    guard: GuardArgs,
    /// Before promoting, expect a 2xx from this URL (through CloudFront).
    #[arg(long, value_name = "URL")]
    test_url: Option<String>,
    /// Before promoting, call this direct API URL (origin, origin path, a health route): an
    /// unsigned request must be refused, one signed with an unknown key must get API Gateway's
    /// deny, and one signed with the new key must pass the authorizer (any answer but that deny).
    #[arg(long, value_name = "URL")]
    direct_url: Option<String>,
    /// The CloudFront origin path included in --direct-url (e.g. /v1).
    #[arg(long, default_value = "", value_name = "PATH", requires = "direct_url")]
    origin_path: String,
    /// What the edge signs before the uri, as its bundle was built (default: the origin path).
    #[arg(long, value_name = "PREFIX", requires = "direct_url")]
    gateway_path_prefix: Option<String>,
    /// Replace an invalid or conflicting AWSPENDING with a new key (the guard still applies).
    #[arg(long)]
    replace_pending: bool,
    /// Override the promotion safety checks: the rotation guard (the previous key may still be
    /// in use, a replica behind), a recorded failed rotation test, a --wait shorter than the
    /// propagation wait. The output names each check it overrode.
    #[arg(long)]
    force: bool,
}

fn parse_url(flag: &str, text: &Option<String>) -> Result<Option<Url>, CliError> {
    text.as_ref()
        .map(|t| Url::parse(t).map_err(|e| CliError::Usage(format!("{flag} {t}: {e}"))))
        .transpose()
}

fn print_overridden(overridden: &[String]) {
    for check in overridden {
        println!("--force overrode {check}");
    }
}

pub async fn run(args: RotateArgs) -> Result<(), CliError> {
    let test_url = parse_url("--test-url", &args.test_url)?;
    let direct = parse_url("--direct-url", &args.direct_url)?
        .map(|url| {
            let direct = DirectTarget {
                url,
                origin_path: args.origin_path.clone(),
                gateway_path_prefix: args.gateway_path_prefix.clone(),
            };
            direct
                .target()
                .map_err(|e| CliError::Usage(format!("--direct-url: {e}")))?;
            Ok::<_, CliError>(direct)
        })
        .transpose()?;
    let timing = Timing {
        authorizer_cache_ttl_secs: args.authorizer_cache_ttl,
        ..args.guard.timing()
    };
    let wait = args.wait.map_or(timing.propagation_wait(), Duration::from_secs);
    let overrides = Overrides {
        replace_pending: args.replace_pending,
        force: args.force,
    };
    let tests = Tests {
        test_url: test_url.as_ref(),
        direct: direct.as_ref(),
    };
    with_store!(args.source.open(&args.region).await?, store => {
        let kvs = args.kvs.open_for_writing(&args.region, &store, args.dry_run).await?;
        if args.dry_run {
            let plan = rotation::plan(&store, &timing, now_unix(), overrides).await?;
            let edge_copy = match kvs.as_ref() {
                None => None,
                Some(copy) => {
                    let ring = rotation::stored_ring(&store).await?;
                    Some((copy.arn(), crate::edge_store::compare(copy, &ring).await?))
                }
            };
            return dry_run(&plan, &timing, wait, &tests, args.force, edge_copy, now_unix());
        }
        // 0. A promotion that did not reach the key value store is finished first, and that is
        // all this run does: the edges' key changes now, so the guard counts from now.
        if let Some(published) = super::kvs::publish(kvs.as_ref(), &store, now_unix()).await? {
            if published.written != crate::store::kvs::Written::Unchanged {
                println!(
                    "finished the promotion of {}: the key value store holds it now; next rotation safe at {}",
                    published.key_id,
                    utc(timing.next_safe_rotation(now_unix()))
                );
                return Ok(());
            }
        }
        rotate(&store, &timing, wait, overrides, &tests, args.no_wait, kvs.as_ref()).await
    })
}

/// The optional rotation tests.
struct Tests<'a> {
    test_url: Option<&'a Url>,
    direct: Option<&'a DirectTarget>,
}

impl Tests<'_> {
    fn any(&self) -> bool {
        self.test_url.is_some() || self.direct.is_some()
    }

    fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(url) = self.test_url {
            out.push(format!("GET {url} through CloudFront must answer 2xx"));
        }
        if let Some(direct) = self.direct {
            out.push(format!(
                "GET {} directly: unsigned refused, an unknown key denied by API Gateway, the new key accepted by the authorizer",
                direct.url
            ));
        }
        out
    }

    async fn run(&self, key: &originsig_core::SigningKey) -> Result<(), checks::CheckError> {
        if let Some(url) = self.test_url {
            checks::check_through_cloudfront(url, checks::CHECK_TIMEOUT).await?;
            eprintln!("ok: {url} answers 2xx through CloudFront");
        }
        if let Some(direct) = self.direct {
            checks::check_direct(direct, key, now_unix(), "--direct-url", checks::CHECK_TIMEOUT).await?;
            eprintln!(
                "ok: {} refuses unsigned requests and the authorizer accepts the new key",
                direct.url
            );
        }
        Ok(())
    }
}

async fn rotate(
    store: &impl KeyStore,
    timing: &Timing,
    wait: Duration,
    overrides: Overrides,
    tests: &Tests<'_>,
    no_wait: bool,
    kvs: Option<&KvsKeyCopy>,
) -> Result<(), CliError> {
    // 1. Stage (or resume): what the store allows first, then the wait, before any write.
    let plan = rotation::plan(store, timing, now_unix(), overrides).await?;
    if !no_wait && wait < timing.propagation_wait() && !overrides.force {
        return Err(RotationError::WaitTooShort {
            wait: wait.as_secs(),
            needed: timing.propagation_wait().as_secs(),
        }
        .into());
    }
    let (pending, plan) = rotation::stage(store, plan, now_unix()).await?;
    print_overridden(&plan.overridden);
    if pending.resumed {
        eprintln!(
            "resuming the rotation to key {} (token {})",
            pending.key.id(),
            pending.token
        );
    } else {
        eprintln!(
            "staged new key {} as AWSPENDING (token {})",
            pending.key.id(),
            pending.token
        );
    }
    // 2. Wait until every authorizer can know it.
    let left = rotation::remaining_wait(wait, pending.created, now_unix());
    if no_wait {
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
    // Every replica region must hold the new key before edges there can be told to use it.
    rotation::await_replicas(
        store,
        &pending.token,
        KeyRole::Pending,
        "the new key",
        rotation::REPLICA_WAIT,
    )
    .await?;
    // 3. Test; a failure is recorded with the pending key and holds its promotion.
    if tests.any() {
        if let Err(problem) = tests.run(&pending.key).await {
            return Err(rotation::test_failed(store, &pending, problem).await.into());
        }
    }
    let mut overridden = Vec::new();
    rotation::promotion_checks(
        store,
        &pending,
        timing,
        wait,
        tests.any(),
        overrides.force,
        &mut overridden,
    )
    .await?;
    print_overridden(&overridden);
    // 4. Promote.
    promote(store, &pending, timing, kvs).await
}

async fn promote(
    store: &impl KeyStore,
    pending: &Pending,
    timing: &Timing,
    kvs: Option<&KvsKeyCopy>,
) -> Result<(), CliError> {
    let promoted = rotation::promote(store, &pending.token, now_unix()).await?;
    // A CloudFront Functions edge reads the key value store's copy of AWSCURRENT.
    super::kvs::publish(kvs, store, now_unix()).await?;
    println!("rotated: AWSCURRENT is now {}", promoted.new_key_id);
    if let Some(previous) = &promoted.previous_key_id {
        println!("AWSPREVIOUS is {previous} (still verifies, for edges that have not read the new key yet)");
    }
    println!(
        "next rotation safe at {}",
        utc(timing.next_safe_rotation(promoted.promoted_at))
    );
    Ok(())
}

/// `--dry-run`: the plan with its times, nothing written.
fn dry_run(
    plan: &Plan,
    timing: &Timing,
    wait: Duration,
    tests: &Tests<'_>,
    force: bool,
    edge_copy: Option<(&str, Comparison)>,
    now: u64,
) -> Result<(), CliError> {
    println!("dry run: nothing is changed");
    if let Some((arn, comparison)) = &edge_copy {
        if !comparison.agrees() {
            // What step 0 of `run` does: finish the promotion the store missed, and stop.
            println!(
                "store:    key value store {arn} {}: this run would only copy AWSCURRENT there and stop (no new key)",
                comparison.describe()
            );
            return Ok(());
        }
    }
    let staged_at = match &plan.staging {
        Staging::Resume(pending) => {
            println!(
                "stage:    resume the rotation in progress to key {} (version {})",
                pending.key.id(),
                pending.token
            );
            pending.created.unwrap_or(now)
        }
        Staging::New { replaces } => {
            match replaces {
                Some((version, why)) => {
                    println!("stage:    a new key as AWSPENDING, replacing version {version} ({why})")
                }
                None => println!("stage:    a new key as AWSPENDING, now ({})", utc(now)),
            }
            now
        }
    };
    let promote_at = staged_at.saturating_add(wait.as_secs()).max(now);
    println!(
        "wait:     until {} ({} after staging; the propagation wait is {})",
        utc(promote_at),
        human(wait.as_secs()),
        human(timing.propagation_wait().as_secs())
    );
    println!("replicas: every replica region must hold the new key (checked then)");
    let described = tests.describe();
    if described.is_empty() {
        println!("tests:    none (--test-url, --direct-url)");
    }
    for test in described {
        println!("tests:    {test}");
    }
    let mut overridden = plan.overridden.clone();
    let mut refusals = Vec::new();
    if wait < timing.propagation_wait() {
        let refused = RotationError::WaitTooShort {
            wait: wait.as_secs(),
            needed: timing.propagation_wait().as_secs(),
        };
        if force {
            overridden.push(format!("the propagation wait: {refused}"));
        } else {
            refusals.push(refused.to_string());
        }
    }
    if let (Some(version), Staging::Resume(pending)) = (&plan.failed_test, &plan.staging) {
        if !tests.any() {
            let refused = RotationError::HeldByFailedTest {
                key_id: pending.key.id().to_string(),
                version: version.clone(),
                tag: crate::store::FAILED_TEST_TAG,
            };
            if force {
                overridden.push(format!("the recorded failed test: {refused}"));
            } else {
                refusals.push(refused.to_string());
            }
        }
    }
    print_overridden(&overridden);
    for refusal in &refusals {
        println!("refused:  {refusal}");
    }
    println!(
        "promote:  at {}: the new key becomes AWSCURRENT, {} becomes AWSPREVIOUS{}",
        utc(promote_at),
        plan.current,
        plan.drops
            .as_ref()
            .map(|d| format!(", {d} leaves the labels"))
            .unwrap_or_default()
    );
    if let Some((arn, _)) = &edge_copy {
        println!(
            "store:    then AWSCURRENT is copied into key value store {arn} (edges read it once the update reaches them)"
        );
    }
    println!(
        "guard:    the next rotation may start at {} (promotion + {})",
        utc(timing.next_safe_rotation(promote_at)),
        human(timing.previous_key_in_use().as_secs())
    );
    if refusals.is_empty() {
        Ok(())
    } else {
        // Exit 4, like the refusal itself would be.
        Err(CliError::CheckFailed(
            "dry run: the rotation would be refused (see above)".into(),
        ))
    }
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
