//! `originsig rollback`: AWSCURRENT back to the AWSPREVIOUS key, without the AWS CLI.
//!
//! Both keys keep verifying (the current key becomes AWSPREVIOUS), so nothing waits before the
//! label moves; the time is recorded like a promotion, so the next rotation waits until no edge
//! signs with the key this demotes (`crate::rotation::rollback`).

use clap::Args;
use originsig_core::KeyRole;

use super::{human, now_unix, utc, with_store, CliError, GuardArgs, KeySourceArgs, RegionArgs};
use crate::rotation::{self, RollbackPlan};
use crate::timing::Timing;

#[derive(Debug, Args)]
#[command(after_help = format!("{}\n\nSee docs/operations.md, \"Roll back\".", super::exit::help(super::exit::codes::ROLLBACK)))]
pub struct RollbackArgs {
    #[command(flatten)]
    source: KeySourceArgs,
    #[command(flatten)]
    region: RegionArgs,
    #[command(flatten)]
    guard: GuardArgs,
    #[command(flatten)]
    kvs: super::kvs::KvsWriteArgs,
    /// Print what would happen and when, and change nothing.
    #[arg(long)]
    dry_run: bool,
}

fn describe(plan: &RollbackPlan) -> String {
    format!(
        "AWSCURRENT from {} (version {}) back to {} (version {}); {} becomes AWSPREVIOUS and still verifies",
        plan.from, plan.from_version, plan.to, plan.to_version, plan.from
    )
}

pub async fn run(args: RollbackArgs) -> Result<(), CliError> {
    let timing: Timing = args.guard.timing();
    with_store!(args.source.open(&args.region).await?, store => {
        let kvs = args.kvs.open_for_writing(&args.region, &store, args.dry_run).await?;
        let plan = rotation::plan_rollback(&store).await?;
        let now = now_unix();
        if args.dry_run {
            println!("dry run: nothing is changed");
            println!("move:     {}", describe(&plan));
            if let Some(pending) = &plan.pending {
                println!("note:     a rotation is in progress (AWSPENDING {pending}); it stays staged");
            }
            println!("record:   the time {} as the last promotion", utc(now));
            println!(
                "guard:    the next rotation may start at {} (in {})",
                utc(timing.next_safe_rotation(now)),
                human(timing.previous_key_in_use().as_secs())
            );
            return Ok(());
        }
        if let Some(pending) = &plan.pending {
            eprintln!("note: a rotation is in progress (AWSPENDING {pending}); it stays staged");
        }
        let done = rotation::rollback(&store, &plan, now).await?;
        // A CloudFront Functions edge reads the key value store's copy of AWSCURRENT.
        super::kvs::publish(kvs.as_ref(), &store, now_unix()).await?;
        println!("rolled back: AWSCURRENT is now {}", done.new_key_id);
        if let Some(previous) = &done.previous_key_id {
            println!("AWSPREVIOUS is {previous} (still verifies, for edges that have not read the change yet)");
        }
        // Edges in replica regions read their replica: say when they have the change.
        rotation::await_replicas(&store, &plan.to_version, KeyRole::Current, "the rollback", rotation::REPLICA_WAIT).await?;
        println!("next rotation safe at {}", utc(timing.next_safe_rotation(done.promoted_at)));
    });
    Ok(())
}
