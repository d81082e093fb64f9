//! `originsig sign`: sign a request with the AWSCURRENT key, for trusted clients that do not go
//! through CloudFront, and for debugging.

use clap::Args;
use originsig_core::{sign, CanonicalRequest, UnixSeconds, HEADER_NAME};

use super::{now_unix, usable_ring, with_store, CliError, KeySourceArgs, RegionArgs, RequestArgs};
use crate::rotation::stored_ring;
use crate::store::ReadRing;

#[derive(Debug, Args)]
#[command(after_help = format!(
    "Example (the secret in eu-west-1):\n  \
     originsig sign --secret-id originsig/prod --region eu-west-1 \\\n      \
     --url 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/items?page=2' --curl\n\n{}",
    super::exit::help(super::exit::codes::SIGN)
))]
pub struct SignArgs {
    #[command(flatten)]
    source: KeySourceArgs,
    #[command(flatten)]
    region: RegionArgs,
    #[command(flatten)]
    request: RequestArgs,
    /// Signing time, Unix seconds (default: now).
    #[arg(long, value_name = "UNIX")]
    at: Option<u64>,
    /// Print a ready curl command instead of the header value.
    #[arg(long)]
    curl: bool,
    /// Also print the canonical string that was signed (to stderr).
    #[arg(long)]
    show_canonical: bool,
}

pub async fn run(args: SignArgs) -> Result<(), CliError> {
    let target = args.request.target()?;
    let ring = with_store!(args.source.open(&args.region).await?, store => usable_ring(store.location(), &stored_ring(&store).await?)?);
    let key = ring.signing_key();
    let at = UnixSeconds::new(args.at.unwrap_or_else(now_unix));
    let header = sign(&target, key, at);
    if args.show_canonical {
        let canonical = CanonicalRequest {
            version: header.version,
            timestamp: at,
            key_id: key.id(),
            target: &target,
        };
        eprintln!("canonical string:\n{}\n", canonical.render());
    }
    if args.curl {
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let method = if args.request.method == "GET" {
            String::new()
        } else {
            format!("-X {} ", args.request.method)
        };
        println!(
            "curl --path-as-is {method}-H {} {}",
            quote(&format!("{HEADER_NAME}: {header}")),
            quote(&args.request.url)
        );
    } else {
        println!("{header}");
    }
    Ok(())
}
