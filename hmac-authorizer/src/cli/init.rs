//! `originsig init`: create the secret (or key file) with a first key.

use clap::Args;

use super::{now_unix, with_store, CliError, KeySourceArgs, RegionArgs};
use crate::rotation::new_key;
use crate::store::{KeyStore, ReadRing};

#[derive(Debug, Args)]
#[command(after_help = format!(
    "Example (the secret in eu-west-1; the deployed stacks create their own secret, so this is for a\n\
     secret you manage yourself or for the local chain's key file):\n  \
     originsig init --secret-id originsig/prod --region eu-west-1\n  \
     originsig init --key-file keys.json\n\n{}",
    super::exit::help(super::exit::codes::INIT)
))]
pub struct InitArgs {
    #[command(flatten)]
    source: KeySourceArgs,
    #[command(flatten)]
    region: RegionArgs,
    #[command(flatten)]
    kvs: super::kvs::KvsWriteArgs,
    /// Description stored with the secret.
    #[arg(
        long,
        default_value = "originsig HMAC keys (SPEC.md §7); rotate with `originsig rotate`"
    )]
    description: String,
}

pub async fn run(args: InitArgs) -> Result<(), CliError> {
    let key = new_key(now_unix())?;
    args.kvs.check()?;
    with_store!(args.source.open(&args.region).await?, store => {
        store.create(&key, &args.description).await?;
        println!("created {} with key {} as AWSCURRENT", store.location(), key.id());
        let kvs = args.kvs.open_for_writing(&args.region, &store, false).await?;
        super::kvs::publish(kvs.as_ref(), &store, now_unix()).await?;
    });
    println!(
        "next: build the edge bundle and deploy (README), then rotate regularly with `originsig rotate`"
    );
    Ok(())
}
