//! `originsig doctor`: which path prefix does this deployment's API Gateway show before the uri?
//!
//! The edge signs `prefix + uri` as the API will decode it (SPEC.md §4). For an `execute-api`
//! origin the prefix is the stage in the CloudFront origin path, but behind a custom domain with
//! an API mapping what API Gateway shows is not confirmed by AWS documentation. The doctor asks
//! the deployment itself: it sends the same direct request once per candidate prefix, each
//! signed with the AWSCURRENT key for that candidate, and reports which one the authorizer
//! allows. Only the signature differs between the requests.

use std::time::Duration;

use clap::Args;
use originsig_core::{sign, RequestTarget, UnixSeconds, HEADER_NAME};

use super::{now_unix, usable_ring, with_store, ApiKindArg, CliError, KeySourceArgs, RegionArgs, UrlParts};
use crate::rotation::stored_ring;
use crate::store::ReadRing;

#[derive(Debug, Args)]
#[command(after_help = "\
Example, for a distribution whose origin is the custom domain api.example.com with origin path /v1:
  originsig doctor --secret-id originsig/prod --direct-url https://api.example.com/v1/health \\
      --origin-path /v1 --stage prod

Exit codes:
  0  the edge's default (the origin path) is what API Gateway shows
  2  usage error (bad arguments, or the API could not be reached)
  3  key store error (AWS, permissions, no answer, missing, malformed or conflicting keys)
  4  another prefix is (the report names the --gateway-path-prefix to build the edge bundle
     with), or none is, or the --kvs-arn store does not hold AWSCURRENT")]
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
    /// Also check that this CloudFront KeyValueStore (CloudFront Functions edge) holds AWSCURRENT.
    #[command(flatten)]
    kvs: super::kvs::KvsArgs,
}

/// What the API answered for one candidate prefix.
#[derive(Debug)]
struct Probe {
    prefix: String,
    status: u16,
}

impl Probe {
    fn allowed(&self) -> bool {
        !matches!(self.status, 401 | 403 | 404) && self.status < 500
    }
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
    let kvs = args.kvs.open(&args.region).await?;
    let (ring, edge_copy) = with_store!(args.source.open(&args.region).await, store => {
        let stored = stored_ring(&store).await?;
        (usable_ring(store.location(), &stored)?, super::kvs::compare(kvs.as_ref(), &stored).await?)
    });
    if let Some((copy, comparison)) = kvs.as_ref().zip(edge_copy.as_ref()) {
        println!("key value store {}: {}", copy.arn(), comparison.describe());
    }
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
            request
                .send()
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| CliError::Usage(format!("GET {url}: {}", crate::aws::with_causes(&e))))
        }
    };

    let unsigned = send(None).await?;
    println!(
        "unsigned request: {unsigned} {}",
        if matches!(unsigned, 401 | 403) {
            "(refused: good)"
        } else {
            "(NOT refused: is the authorizer attached to this route?)"
        }
    );
    let mut probes = Vec::new();
    for prefix in candidates(&args.origin_path, args.stage.as_deref()) {
        let target = RequestTarget::from_edge(
            "GET",
            &parts.host,
            &prefix,
            uri,
            parts.query,
            args.api_kind.into(),
        )
        .map_err(|e| {
            CliError::Usage(format!(
                "{} cannot be signed with prefix {prefix:?}: {e}",
                args.direct_url
            ))
        })?;
        let header = sign(&target, key, UnixSeconds::new(now_unix())).render();
        probes.push(Probe {
            status: send(Some(header)).await?,
            prefix,
        });
    }
    println!("\n{:<24} {:<7} verdict", "prefix signed", "status");
    for probe in &probes {
        let shown = if probe.prefix.is_empty() {
            "'' (none)".to_owned()
        } else {
            probe.prefix.clone()
        };
        let verdict = match probe.status {
            _ if probe.allowed() => "allowed: API Gateway shows this prefix",
            403 => "denied",
            404 => "no route: pick a URL that reaches a GET route",
            401 => "no signature reached the authorizer",
            _ => "error",
        };
        println!("{shown:<24} {:<7} {verdict}", probe.status);
    }
    let allowed: Vec<&Probe> = probes.iter().filter(|p| p.allowed()).collect();
    match allowed.first() {
        Some(probe) if probe.prefix == args.origin_path => {
            println!("\nok: the edge's default (the origin path {:?}) is what API Gateway shows; build the edge bundle without --gateway-path-prefix", args.origin_path);
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
                "\naction: API Gateway shows {:?} before the uri, not the origin path {:?}: build the edge bundle with --gateway-path-prefix '{}'",
                probe.prefix, args.origin_path, probe.prefix
            );
            Err(CliError::CheckFailed(
                "the edge's default path prefix would be denied".into(),
            ))
        }
        None => {
            println!("\nnone of the prefixes was allowed: check the key (`originsig status`), the --origin-path, the route, and the authorizer's deny logs");
            Err(CliError::CheckFailed("no candidate prefix was allowed".into()))
        }
    }
}
