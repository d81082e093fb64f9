//! `originsig verify`: would this request be allowed, and if not, exactly why. The tool to reach
//! for when the authorizer's 403s climb.

use clap::Args;
use originsig_core::{
    verify_header_values, CanonicalRequest, Freshness, KeyRing, SignatureHeader, UnixSeconds,
    UnsupportedVersion, VerifyError,
};
use serde_json::json;

use super::{
    human, now_unix, usable_ring, utc, with_store, CliError, KeySourceArgs, RegionArgs, RequestArgs,
};
use crate::rotation::stored_ring;
use crate::store::ReadRing;
use crate::timing::Timing;

#[derive(Debug, Args)]
#[command(after_help = format!(
    "Example (the secret in eu-west-1; the header from the authorizer's deny log or a capture):\n  \
     originsig verify --secret-id originsig/prod --region eu-west-1 \\\n      \
     --url 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/items' --header 'v2;t=…;k=…;s=…'\n\n{}",
    super::exit::help(super::exit::codes::VERIFY)
))]
pub struct VerifyArgs {
    #[command(flatten)]
    source: KeySourceArgs,
    #[command(flatten)]
    region: RegionArgs,
    #[command(flatten)]
    request: RequestArgs,
    /// The x-originsig header value.
    #[arg(long)]
    header: String,
    /// Verify as of this time, Unix seconds (default: now).
    #[arg(long, value_name = "UNIX")]
    at: Option<u64>,
    /// Freshness window: oldest accepted signature, seconds.
    #[arg(long, default_value_t = Timing::DEFAULT.max_age_secs, value_name = "SECS")]
    max_age: u64,
    /// Allowed clock skew into the future, seconds.
    #[arg(long, default_value_t = Timing::DEFAULT.max_future_secs, value_name = "SECS")]
    max_future: u64,
    #[command(flatten)]
    output: super::output::OutputArgs,
}

fn hint(error: &VerifyError, ring: &KeyRing) -> String {
    match error {
        VerifyError::Missing => "the request carries no signature: it did not come through the edge signer".into(),
        VerifyError::Malformed(m) => format!("{m}; a header not made by the edge signer, or damaged on the way"),
        VerifyError::UnsupportedVersion(UnsupportedVersion::Unknown) => {
            "a newer signer than this verifier: upgrade originsig".into()
        }
        VerifyError::UnsupportedVersion(_) => "a v1 signer (older than protocol v2): rebuild and deploy the edge \
             bundle; this check applies the authorizer's default accept-v1 policy (unambiguous)"
            .into(),
        VerifyError::UnknownKey => format!(
            "the key id is in none of AWSCURRENT/AWSPENDING/AWSPREVIOUS (known: {}): an edge signing with a key \
             that was rotated out (too-frequent rotations?) or with another deployment's key",
            ring.entries().map(|(r, k)| format!("{}={}", r.staging_label(), k.id())).collect::<Vec<_>>().join(", ")
        ),
        VerifyError::Expired { age_secs, window_secs } => format!(
            "a genuine signature {} past the {window_secs}s window: a replayed request, a request stuck in transit, \
             or the signer's clock behind",
            human(age_secs - window_secs)
        ),
        VerifyError::FromTheFuture { ahead_secs, bound_secs } => format!(
            "a genuine signature dated {} ahead (allowed: {bound_secs}s): the signer's clock is ahead",
            human(*ahead_secs)
        ),
        VerifyError::BadSignature => "the request differs from what was signed (method, host, path, query — compare \
             the canonical string below with the signer's: `originsig sign --show-canonical`), or another key with the \
             same id signed it"
            .into(),
        _ => String::new(),
    }
}

pub async fn run(args: VerifyArgs) -> Result<(), CliError> {
    let target = args.request.target()?;
    let ring = with_store!(args.source.open(&args.region).await?, store => usable_ring(store.location(), &stored_ring(&store).await?)?);
    let now = UnixSeconds::new(args.at.unwrap_or_else(now_unix));
    let freshness = Freshness {
        max_age_secs: args.max_age,
        max_future_secs: args.max_future,
    };
    let result = verify_header_values([args.header.as_str()], &target, &ring, &freshness, now);
    let parsed = SignatureHeader::parse(&args.header).ok();
    let canonical = parsed.as_ref().map(|header| {
        CanonicalRequest {
            version: header.version,
            timestamp: header.timestamp,
            key_id: &header.key_id,
            target: &target,
        }
        .render()
    });
    if args.output.is_json() {
        let (verified, error) = match &result {
            Ok(verified) => (Some(verified), None),
            Err(error) => (None, Some(error)),
        };
        super::output::print_json(&json!({
            "decision": if verified.is_some() { "allow" } else { "deny" },
            "keyId": parsed.as_ref().map(|h| h.key_id.to_string()),
            "role": verified.map(|v| v.role.staging_label()),
            "signedAt": parsed.as_ref().map(|h| h.timestamp.as_secs()),
            "skewSeconds": verified.map(|v| v.skew_secs),
            "reason": error.map(VerifyError::reason),
            "error": error.map(ToString::to_string),
            "hint": error.map(|e| hint(e, &ring)),
            "canonical": canonical,
        }));
        return result.map(|_| ()).map_err(|_| CliError::Denied);
    }
    match result {
        Ok(verified) => {
            println!(
                "allowed: key {} ({}), signed at {} ({}s {})",
                verified.key_id,
                verified.role.staging_label(),
                utc(verified.signed_at.as_secs()),
                verified.skew_secs.unsigned_abs(),
                if verified.skew_secs >= 0 { "ago" } else { "ahead" }
            );
            Ok(())
        }
        Err(error) => {
            println!("denied: {} — {error}", error.reason());
            println!("why: {}", hint(&error, &ring));
            if let Some(canonical) = canonical {
                println!("canonical string this verifier computed (\\n-separated):\n{canonical}");
            }
            Err(CliError::Denied)
        }
    }
}
