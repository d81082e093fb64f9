//! `originsig doctor`: which path prefix does this deployment's API Gateway show before the uri?
//!
//! The edge signs `prefix + uri` as the API will decode it (SPEC.md §4). For an `execute-api`
//! origin the prefix is the stage in the CloudFront origin path, but behind a custom domain with
//! an API mapping what API Gateway shows is not confirmed by AWS documentation. The doctor asks
//! the deployment itself: it sends the same direct request once per candidate prefix, each
//! signed with the AWSCURRENT key for that candidate, and reports which one the authorizer
//! allows. Only the signature differs between the requests.
//!
//! "Allows" is decided only on evidence ([`checks::classify`]): a request signed with a key no
//! label holds must first get API Gateway's deny; a candidate whose answer is that same deny was
//! denied, one answered before the authorizer (429, 413, 414, 400, 502–504) proves nothing, and
//! any other answer (the backend's, whatever its status) passed the authorizer.

use std::time::Duration;

use clap::Args;
use originsig_core::{sign, RequestTarget, UnixSeconds, HEADER_NAME};

use super::{now_unix, usable_ring, with_store, ApiKindArg, CliError, KeySourceArgs, RegionArgs, UrlParts};
use crate::checks::{self, Answer, Verdict};
use crate::rotation::stored_ring;
use crate::store::ReadRing;

#[derive(Debug, Args)]
#[command(after_help = format!("\
Example, for a distribution whose origin is the custom domain api.example.com with origin path /v1
(and the secret in us-east-1):
  originsig doctor --secret-id originsig/prod --region us-east-1 \\
      --direct-url https://api.example.com/v1/health --origin-path /v1 --stage prod

{}", super::exit::help(super::exit::codes::DOCTOR)))]
pub struct DoctorArgs {
    #[command(flatten)]
    source: KeySourceArgs,
    #[command(flatten)]
    region: RegionArgs,
    /// A URL of the API that reaches a GET route, as CloudFront reaches it: the origin's domain,
    /// the origin path, then a path (e.g. https://api.example.com/v1/health).
    #[arg(long, value_name = "URL")]
    direct_url: String,
    /// The CloudFront origin path of the distribution's origin (e.g. /v1 or /prod; default none).
    #[arg(long, default_value = "", value_name = "PATH")]
    origin_path: String,
    /// The API's stage name, to try it as the prefix too (e.g. prod).
    #[arg(long, value_name = "NAME")]
    stage: Option<String>,
    /// The kind of API: HTTP APIs decode the path twice, REST APIs keep its encoding.
    #[arg(long, value_enum, default_value_t = ApiKindArg::HttpApi)]
    api_kind: ApiKindArg,
    /// Connect to this address instead of resolving the URL's host, as curl's --resolve
    /// (HOST:ADDRESS; the port stays the URL's).
    #[arg(long, value_name = "HOST:ADDRESS")]
    resolve: Option<String>,
    /// The samconfig environment (infra/samconfig.toml), to name its section in the action.
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    #[command(flatten)]
    output: super::output::OutputArgs,
    /// Also check that this CloudFront KeyValueStore (CloudFront Functions edge) holds AWSCURRENT.
    #[command(flatten)]
    kvs: super::kvs::KvsArgs,
}

/// What the API answered for one candidate prefix, judged against the unknown key's answer
/// ([`checks::classify`], the rotation tests' classifier).
#[derive(Debug)]
struct Probe {
    prefix: String,
    status: u16,
    verdict: Verdict,
}

fn candidates(origin_path: &str, stage: Option<&str>) -> Vec<String> {
    let mut all = vec![origin_path.to_owned(), String::new()];
    if let Some(stage) = stage {
        all.push(format!("/{stage}"));
        all.push(format!("{origin_path}/{stage}"));
    }
    let mut unique = Vec::new();
    for candidate in all {
        if !unique.contains(&candidate) {
            unique.push(candidate);
        }
    }
    unique
}

fn client(resolve: Option<&str>) -> Result<reqwest::Client, CliError> {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(15));
    if let Some(spec) = resolve {
        let (host, address) = spec
            .split_once(':')
            .ok_or_else(|| CliError::Usage(format!("--resolve {spec}: expected HOST:ADDRESS")))?;
        let ip: std::net::IpAddr = address
            .parse()
            .map_err(|e| CliError::Usage(format!("--resolve {spec}: {e}")))?;
        // reqwest keeps the URL's port and uses only the address.
        builder = builder.resolve(host, std::net::SocketAddr::new(ip, 0));
    }
    builder
        .build()
        .map_err(|e| CliError::Usage(format!("HTTP client: {e}")))
}

pub async fn run(args: DoctorArgs) -> Result<(), CliError> {
    let parts = UrlParts::split(&args.direct_url)
        .map_err(|e| CliError::Usage(format!("--direct-url {}: {e}", args.direct_url)))?;
    let uri = parts
        .path
        .strip_prefix(args.origin_path.as_str())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "--direct-url path {} does not start with --origin-path {}",
                parts.path, args.origin_path
            ))
        })?;
    let uri = if uri.is_empty() { "/" } else { uri };
    let (ring, replicas, edge_copy, kvs) = with_store!(args.source.open(&args.region).await?, store => {
        let kvs = args.kvs.open_for_reading(&args.region, &store).await?;
        let stored = stored_ring(&store).await?;
        let replicas = super::status::replica_states(&store, &stored).await?;
        let edge_copy = super::kvs::compare(kvs.as_ref(), &stored).await?;
        (usable_ring(store.location(), &stored)?, replicas, edge_copy, kvs)
    });
    let text = !args.output.is_json();
    // Edges in a replica region sign with what their replica holds.
    if text {
        super::status::print_replicas(&replicas);
        if let Some((copy, comparison)) = kvs.as_ref().zip(edge_copy.as_ref()) {
            println!("key value store {}: {}", copy.arn(), comparison.describe());
        }
    }
    let replica_behind = replicas.iter().find(|(r, has)| !r.in_sync() || !has);
    let edge_copy_problem = edge_copy.filter(|c| !c.agrees());
    let key = ring.signing_key();
    let client = client(args.resolve.as_deref())?;
    let send = |header: Option<String>| {
        let mut request = client.get(&args.direct_url);
        if let Some(header) = header {
            request = request.header(HEADER_NAME, header);
        }
        let url = args.direct_url.clone();
        async move {
            let response = request.send().await.map_err(|e| {
                CliError::Unreachable(format!("GET {url}: no answer ({})", crate::aws::with_causes(&e)))
            })?;
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            Ok::<_, CliError>(Answer { status, body })
        }
    };
    let sign_for = |prefix: &str, key: &originsig_core::SigningKey| {
        let target =
            RequestTarget::from_edge("GET", &parts.host, prefix, uri, parts.query, args.api_kind.into())
                .map_err(|e| {
                    CliError::Usage(format!(
                        "{} cannot be signed with prefix {prefix:?}: {e}",
                        args.direct_url
                    ))
                })?;
        Ok::<_, CliError>(sign(&target, key, UnixSeconds::new(now_unix())).render())
    };

    let unsigned = send(None).await?;
    // The reference for "denied": a key no label holds, signed for the origin path.
    let control = send(Some(sign_for(&args.origin_path, &checks::control_key())?)).await?;
    if text {
        println!(
            "unsigned request: {} {}",
            unsigned.status,
            if matches!(unsigned.status, 401 | 403) {
                "(refused: good)"
            } else {
                "(NOT refused: is the authorizer attached to this route?)"
            }
        );
        println!(
            "signed with an unknown key: {} (must be API Gateway's deny, 403)",
            control.status
        );
    }
    if let Err(problem) = checks::check_control(&args.direct_url, &control, "--direct-url") {
        if text {
            println!("\nno evidence: {problem}");
        }
        return Err(CliError::CheckFailed(problem));
    }
    let mut probes = Vec::new();
    for prefix in candidates(&args.origin_path, args.stage.as_deref()) {
        let answer = send(Some(sign_for(&prefix, key)?)).await?;
        probes.push(Probe {
            verdict: checks::classify(&answer, &control),
            status: answer.status,
            prefix,
        });
    }
    if text {
        println!("\n{:<24} {:<7} verdict", "prefix signed", "status");
    }
    for probe in probes.iter().filter(|_| text) {
        let shown = if probe.prefix.is_empty() {
            "'' (none)".to_owned()
        } else {
            probe.prefix.clone()
        };
        let verdict = match &probe.verdict {
            Verdict::Accepted => "accepted by the authorizer: API Gateway shows this prefix".to_owned(),
            Verdict::Denied => "denied (the same answer as the unknown key)".to_owned(),
            Verdict::AuthorizerError => "authorizer error (500): no evidence".to_owned(),
            Verdict::Inconclusive(reason) => format!("no evidence: {reason}"),
        };
        println!("{shown:<24} {:<7} {verdict}", probe.status);
    }
    let accepted: Vec<&Probe> = probes.iter().filter(|p| p.verdict == Verdict::Accepted).collect();
    let env = args.env.as_deref().unwrap_or("<env>");
    if !text {
        return json_report(
            &args,
            unsigned.status,
            &probes,
            accepted.first().copied(),
            replica_behind.map(|(r, _)| r.region.as_str()),
        );
    }
    if let (Some(_), Some((replica, _))) = (accepted.first(), replica_behind) {
        println!("\naction: the replica in {} is {} without the current key: edges there sign with an old key; check the replica, its KMS key and the replication alarm", replica.region, replica.status);
        return Err(CliError::CheckFailed(format!(
            "the replica in {} is behind",
            replica.region
        )));
    }
    match accepted.first() {
        Some(probe) if probe.prefix == args.origin_path => {
            println!("\nok: the edge's default (the origin path {:?}) is what API Gateway shows; keep GatewayPathPrefix = \"(origin path)\" in [{env}-edge.deploy.parameters.parameter_overrides] (no --gateway-path-prefix)", args.origin_path);
            match edge_copy_problem {
                None => Ok(()),
                Some(problem) => Err(CliError::CheckFailed(format!(
                    "the key value store {}",
                    problem.describe()
                ))),
            }
        }
        Some(probe) => {
            println!(
                "\naction: API Gateway shows {:?} before the uri, not the origin path {:?}: set GatewayPathPrefix = \"{}\" in \
                 [{env}-edge.deploy.parameters.parameter_overrides] of infra/samconfig.toml (the edge bundle's \
                 --gateway-path-prefix '{}'), then redeploy: infra/build.sh {env} && infra/deploy.sh {env}",
                probe.prefix, args.origin_path, probe.prefix, probe.prefix
            );
            Err(CliError::CheckFailed(
                "the edge's default path prefix would be denied".into(),
            ))
        }
        None if probes.iter().any(|p| p.verdict != Verdict::Denied) => {
            println!("\nno evidence: some answers came from API Gateway before (or instead of) the authorizer; run the doctor again later");
            Err(CliError::CheckFailed(
                "no candidate prefix was shown to be accepted".into(),
            ))
        }
        None => {
            println!("\nnone of the prefixes was accepted: check the key (`originsig status`), the --origin-path, and the authorizer's deny logs");
            Err(CliError::CheckFailed("no candidate prefix was allowed".into()))
        }
    }
}

/// `--output json`: the same findings and exit code as the text report (fields in
/// docs/reference/cli.md).
fn json_report(
    args: &DoctorArgs,
    unsigned: u16,
    probes: &[Probe],
    allowed: Option<&Probe>,
    replica_behind: Option<&str>,
) -> Result<(), CliError> {
    let verdict = match allowed {
        Some(_) if replica_behind.is_some() => "replica_behind",
        Some(probe) if probe.prefix == args.origin_path => "ok",
        Some(_) => "change",
        None => "none",
    };
    super::output::print_json(&serde_json::json!({
        "unsignedStatus": unsigned,
        "unsignedRefused": matches!(unsigned, 401 | 403),
        "probes": probes.iter().map(|p| serde_json::json!({
            "prefix": p.prefix, "status": p.status, "allowed": p.verdict == Verdict::Accepted,
        })).collect::<Vec<_>>(),
        "originPath": args.origin_path,
        "verdict": verdict,
        "gatewayPathPrefix": allowed.map(|p| p.prefix.clone()),
        "replicaBehind": replica_behind,
    }));
    match verdict {
        "ok" => Ok(()),
        "change" => Err(CliError::CheckFailed(
            "the edge's default path prefix would be denied".into(),
        )),
        "replica_behind" => Err(CliError::CheckFailed(format!(
            "the replica in {} is behind",
            replica_behind.unwrap_or_default()
        ))),
        _ => Err(CliError::CheckFailed("no candidate prefix was allowed".into())),
    }
}
