//! `originsig timing`: the timing model's defaults and what is derived from them.

use clap::Args;

use super::{human, CliError};
use crate::timing::Timing;

#[derive(Debug, Args)]
#[command(after_help = super::exit::help(super::exit::codes::TIMING))]
pub struct TimingArgs {
    // `--output json` (or `--json`) prints `infra/timing.json` (what `edge-signer/bundle.py` and
    // the template test read) with the derived waits.
    #[command(flatten)]
    output: super::output::OutputArgs,
}

pub fn run(args: &TimingArgs) -> Result<(), CliError> {
    let t = Timing::DEFAULT;
    if args.output.is_json() {
        print!("{}", t.to_json());
        return Ok(());
    }
    println!(
        "freshness window: {}s back, {}s ahead",
        t.max_age_secs, t.max_future_secs
    );
    println!(
        "edge: key read again after {}s (in the background from {}s); signs with its last key up to {}s \
         while Secrets Manager cannot be read; retries every {}s; calls time out after {}s",
        t.edge_cache_ttl_secs,
        t.edge_cache_ttl_secs / 2,
        t.edge_max_stale_secs,
        t.edge_refresh_retry_secs,
        t.edge_call_timeout_secs
    );
    println!(
        "authorizer: ring read again after {}s; verifies with its last ring up to {}s while Secrets Manager \
         cannot be read; unknown key ids read at most every {}s; retries every {}s; calls time out after {}s",
        t.authorizer_cache_ttl_secs,
        t.authorizer_max_stale_secs,
        t.authorizer_unknown_key_refresh_secs,
        t.authorizer_refresh_retry_secs,
        t.authorizer_call_timeout_secs
    );
    println!(
        "CloudFront Functions edge: a KeyValueStore update is assumed to reach every edge location within {}s \
         (UNCONFIRMED: AWS documents no bound; a reported measurement of 21-26 s could not be found again)",
        t.kvs_propagation_secs
    );
    println!(
        "rotation: a new key waits {} as AWSPENDING (authorizer TTL + {}s margin); the next rotation may start {} \
         after a promotion (the longer of edge max stale and KeyValueStore propagation, + window + margin)",
        human(t.propagation_wait().as_secs()),
        t.safety_margin_secs,
        human(t.previous_key_in_use().as_secs())
    );
    Ok(())
}
