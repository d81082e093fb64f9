//! `originsig routes audit|attach`: every route of an HTTP API behind the originsig authorizer,
//! and proof of it.
//!
//! An HTTP API authorizes per route: a route added later without `authorizationType: CUSTOM`
//! and the originsig authorizer is open to anyone who finds the `execute-api` URL, whatever the
//! other routes do. `audit` lists every route and fails when one is not protected; `attach`
//! puts the authorizer on the routes that lack it (idempotent, `--dry-run` to see the plan).
//!
//! A route behind an authorizer with the originsig identity source is protected only if that
//! authorizer is deployed the way the protection needs (`authorizer_problems`): result caching
//! off (with caching, API Gateway answers from its cache for the TTL, keyed on the identity
//! source only, so one captured header passes on any route and method: aws-cdk-lib's
//! `HttpLambdaAuthorizer` caches 5 minutes by default — "HttpLambdaAuthorizerProps",
//! https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_apigatewayv2_authorizers.HttpLambdaAuthorizerProps.html;
//! "AuthorizerResultTtlInSeconds … If it equals 0, authorization caching is disabled",
//! "AWS::ApiGatewayV2::Authorizer",
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigatewayv2-authorizer.html),
//! payload format 2.0 and simple responses (what the authorizer is deployed to read and answer),
//! and, when `--authorizer-function` names it, the originsig function.
//! Changes made here are out of band: the API's own IaC reverts them on its next deploy unless
//! it sets the authorizer itself (docs/existing-distribution.md, "Every route protected").

use std::collections::BTreeSet;

use aws_sdk_apigatewayv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigatewayv2::types::{AuthorizationType, Authorizer, AuthorizerType, Route};
use aws_sdk_apigatewayv2::Client;
use clap::{Args, Subcommand};
use originsig_core::HEADER_NAME;

use super::exit::{codes, help};
use super::CliError;
use crate::timing::TOOL_CALLS;

#[derive(Debug, Args)]
#[command(after_help = after_help())]
pub struct RoutesArgs {
    #[command(subcommand)]
    command: RoutesCommand,
}

fn after_help() -> String {
    format!(
        "\
The originsig authorizer is named with --authorizer-id (the API-region stack's output
AuthorizerId), or found among the authorizers the routes use by its identity source
($request.header.x-originsig); attach needs --authorizer-id while no route uses it yet.
A route is protected only if that authorizer caches no results (AuthorizerResultTtlInSeconds 0),
uses payload format 2.0 with simple responses, and (checked when --authorizer-function is given)
invokes the originsig authorizer function.

Example (an API in eu-west-1):
  originsig routes audit --api-id a1b2c3d4e5 --region eu-west-1 \\
      --authorizer-function originsig-prod-authorizer

The API comes from the standard AWS environment (AWS_PROFILE or --profile, AWS_REGION or
--region, AWS_ENDPOINT_URL_APIGATEWAYV2, ...).

{}",
        help(codes::ROUTES)
    )
}

#[derive(Debug, Subcommand)]
enum RoutesCommand {
    /// List every route and whether the originsig authorizer protects it; exit 4 if one is not.
    #[command(after_help = after_help())]
    Audit(AuditArgs),
    /// Put the originsig authorizer on the routes without it (all, or those named); idempotent.
    /// Refuses an authorizer that would not protect them (caching, payload, responses).
    #[command(after_help = after_help())]
    Attach(AttachArgs),
}

/// Which API and which authorizer.
#[derive(Debug, Args)]
struct Target {
    /// The HTTP API's id (the API-region stack's output ApiId).
    #[arg(long, value_name = "ID")]
    api_id: String,
    /// The originsig authorizer's id (default: the one the routes already use, recognised by its
    /// identity source, the x-originsig header).
    #[arg(long, value_name = "ID")]
    authorizer_id: Option<String>,
    /// The originsig authorizer's Lambda function (name or ARN, e.g. the API-region stack's
    /// authorizer function): the authorizer must invoke it. Without it, which function the
    /// authorizer invokes is not checked (the report says so).
    #[arg(long, value_name = "NAME|ARN")]
    authorizer_function: Option<String>,
    /// AWS region of the API (default: from the AWS environment).
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// A route key that may stay without the originsig authorizer, e.g. 'GET /health' (repeat).
    /// Reported as "allowed", never changed.
    #[arg(long = "allow", value_name = "ROUTE KEY")]
    allowed: Vec<String>,
}

#[derive(Debug, Args)]
struct AuditArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    output: super::output::OutputArgs,
}

#[derive(Debug, Args)]
struct AttachArgs {
    #[command(flatten)]
    target: Target,
    /// Only these route keys, e.g. 'GET /items' (repeat; default: every route).
    #[arg(long = "route", value_name = "ROUTE KEY")]
    routes: Vec<String>,
    /// Print what would change; change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// What one route's authorization is, against the originsig authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Protected,
    /// Named with `--allow`.
    Allowed,
    /// No authorization at all: open to anyone with the URL.
    Open,
    /// Another authorizer (JWT, IAM, another Lambda): not replaced, since that would remove the
    /// route's own caller authentication.
    OtherAuthorizer(String),
    /// The originsig identity source, on an authorizer deployed so that it does not protect
    /// (caching, another function, payload or response format): what is wrong, joined.
    Misconfigured {
        authorizer: String,
        problems: String,
    },
}

impl Verdict {
    fn text(&self) -> String {
        match self {
            Verdict::Protected => "protected".to_owned(),
            Verdict::Allowed => "allowed (--allow)".to_owned(),
            Verdict::Open => "UNPROTECTED: no authorizer".to_owned(),
            Verdict::OtherAuthorizer(what) => format!("UNPROTECTED: uses {what}"),
            Verdict::Misconfigured { authorizer, problems } => {
                format!("UNPROTECTED: authorizer {authorizer} {problems}")
            }
        }
    }

    fn is_protected(&self) -> bool {
        matches!(self, Verdict::Protected | Verdict::Allowed)
    }
}

/// The originsig authorizers found, by id, each with what is wrong with it (empty: it protects).
pub type Found = std::collections::BTreeMap<String, Vec<String>>;

/// The verdict for one route.
pub fn verdict(route: &Route, originsig: &Found, allowed: &BTreeSet<String>) -> Verdict {
    let key = route.route_key().unwrap_or_default();
    let ours = route.authorizer_id().and_then(|id| originsig.get_key_value(id));
    match (route.authorization_type(), ours) {
        (Some(AuthorizationType::Custom), Some((_, problems))) if problems.is_empty() => Verdict::Protected,
        (Some(AuthorizationType::Custom), Some((id, problems))) if !allowed.contains(key) => {
            Verdict::Misconfigured {
                authorizer: id.clone(),
                problems: problems.join("; "),
            }
        }
        _ => other_verdict(route, allowed),
    }
}

fn other_verdict(route: &Route, allowed: &BTreeSet<String>) -> Verdict {
    let key = route.route_key().unwrap_or_default();
    match route.authorization_type() {
        _ if allowed.contains(key) => Verdict::Allowed,
        None | Some(AuthorizationType::None) => Verdict::Open,
        Some(AuthorizationType::Custom) => Verdict::OtherAuthorizer(format!(
            "another Lambda authorizer ({})",
            route.authorizer_id().unwrap_or("?")
        )),
        Some(other) => Verdict::OtherAuthorizer(format!("{} authorization", other.as_str())),
    }
}

/// The Lambda function an authorizer invokes: the ARN inside its `authorizerUri`
/// (`arn:…:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations`).
pub fn function_of(authorizer: &Authorizer) -> Option<&str> {
    let uri = authorizer.authorizer_uri()?;
    let (_, after) = uri.split_once("/functions/")?;
    after.strip_suffix("/invocations")
}

/// Whether `function` (an ARN, possibly qualified) is the one `expected` names (a name, a
/// partial or full ARN, with or without a qualifier).
fn same_function(function: &str, expected: &str) -> bool {
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    let name_of = |f: &str| -> String {
        let parts: Vec<&str> = f.split(':').collect();
        match parts.iter().position(|p| *p == "function") {
            Some(at) => parts.get(at + 1).copied().unwrap_or_default().to_owned(),
            None => f.to_owned(),
        }
    };
    if expected.starts_with("arn:") {
        function == expected
            || function
                .strip_prefix(expected)
                .is_some_and(|rest| rest.starts_with(':'))
    } else {
        name_of(function) == name_of(expected)
    }
}

/// What is wrong with an originsig authorizer as deployed (empty: it protects the routes that use
/// it), and what could not be checked.
pub fn authorizer_problems(
    authorizer: &Authorizer,
    expected_function: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut unchecked = Vec::new();
    match authorizer.authorizer_result_ttl_in_seconds() {
        Some(0) => {}
        Some(ttl) => problems.push(format!(
            "caches results for {ttl}s (AuthorizerResultTtlInSeconds): one captured header then passes on any route \
             and method for {ttl}s; set it to 0 (CDK: resultsCacheTtl: Duration.seconds(0))"
        )),
        None => problems.push(
            "does not report AuthorizerResultTtlInSeconds, so result caching cannot be shown to be off; set it to 0".to_owned(),
        ),
    }
    match authorizer.authorizer_payload_format_version() {
        Some("2.0") => {}
        other => problems.push(format!(
            "uses payload format {} (AuthorizerPayloadFormatVersion), not 2.0, which the originsig authorizer reads",
            other.unwrap_or("(none)")
        )),
    }
    if authorizer.enable_simple_responses() != Some(true) {
        problems.push(
            "does not use simple responses (EnableSimpleResponses: true; CDK: responseTypes: [HttpLambdaResponseType.SIMPLE]), \
             which the originsig authorizer answers with"
                .to_owned(),
        );
    }
    match (expected_function, function_of(authorizer)) {
        (Some(expected), Some(function)) if same_function(function, expected) => {}
        (Some(expected), found) => problems.push(format!(
            "invokes {}, not the originsig authorizer function {expected} (--authorizer-function)",
            found.unwrap_or("no Lambda function")
        )),
        (None, _) => unchecked
            .push("which function it invokes (pass --authorizer-function NAME|ARN to check)".to_owned()),
    }
    (problems, unchecked)
}

/// Whether an authorizer is an originsig one: a REQUEST authorizer whose identity source is the
/// signature header (what the templates and the CDK construct create).
pub fn is_originsig(authorizer: &Authorizer) -> bool {
    let wanted = format!("$request.header.{HEADER_NAME}");
    authorizer.authorizer_type() == Some(&AuthorizerType::Request)
        && authorizer
            .identity_source()
            .iter()
            .any(|source| source.eq_ignore_ascii_case(&wanted))
}

fn aws_error<E, R>(action: &str, api_id: &str, error: SdkError<E, R>) -> CliError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let problem = match &error {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().unwrap_or("error");
            let message = inner.message().unwrap_or_default();
            match code {
                "AccessDeniedException" => format!(
                    "access denied ({message}); the caller needs apigateway:GET (audit) and apigateway:PATCH (attach) on this API"
                ),
                "NotFoundException" => format!("not found ({message}); check --api-id and the region"),
                _ => format!("{code}: {message}"),
            }
        }
        other => format!(
            "no answer ({}); check the network path, the region and AWS_ENDPOINT_URL_APIGATEWAYV2",
            crate::aws::with_causes(other)
        ),
    };
    CliError::Aws(format!("{action} on API {api_id}: {problem}"))
}

async fn all_routes(client: &Client, api_id: &str) -> Result<Vec<Route>, CliError> {
    let mut routes = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .get_routes()
            .api_id(api_id)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| aws_error("GetRoutes", api_id, e))?;
        routes.extend(page.items().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    routes.sort_by(|a, b| a.route_key().cmp(&b.route_key()));
    Ok(routes)
}

/// One authorizer of the API, `None` when it does not exist.
async fn authorizer(client: &Client, api_id: &str, id: &str) -> Result<Option<Authorizer>, CliError> {
    match client
        .get_authorizer()
        .api_id(api_id)
        .authorizer_id(id)
        .send()
        .await
    {
        Ok(found) => Ok(Some(
            Authorizer::builder()
                .set_authorizer_id(found.authorizer_id)
                .set_name(found.name)
                .set_authorizer_type(found.authorizer_type)
                .set_identity_source(found.identity_source)
                .set_authorizer_uri(found.authorizer_uri)
                .set_authorizer_result_ttl_in_seconds(found.authorizer_result_ttl_in_seconds)
                .set_authorizer_payload_format_version(found.authorizer_payload_format_version)
                .set_enable_simple_responses(found.enable_simple_responses)
                .build(),
        )),
        Err(SdkError::ServiceError(service)) if service.err().is_not_found_exception() => Ok(None),
        Err(error) => Err(aws_error("GetAuthorizer", api_id, error)),
    }
}

/// The originsig authorizers: the one named with `--authorizer-id` (checked), or every originsig
/// authorizer the routes use (read one by one with GetAuthorizer: only what the routes name
/// matters, and it needs no permission beyond reading the API).
async fn originsig_authorizers(
    client: &Client,
    target: &Target,
    routes: &[Route],
) -> Result<Vec<Authorizer>, CliError> {
    if let Some(id) = &target.authorizer_id {
        return match authorizer(client, &target.api_id, id).await? {
            Some(found) if is_originsig(&found) => Ok(vec![found]),
            Some(found) => Err(CliError::Usage(format!(
                "authorizer {id} ({}) on API {} is not an originsig authorizer (REQUEST, identity source $request.header.{HEADER_NAME})",
                found.name().unwrap_or("unnamed"),
                target.api_id
            ))),
            None => Err(CliError::Usage(format!("API {} has no authorizer {id}", target.api_id))),
        };
    }
    let used: BTreeSet<&str> = routes
        .iter()
        .filter(|r| r.authorization_type() == Some(&AuthorizationType::Custom))
        .filter_map(Route::authorizer_id)
        .collect();
    let mut originsig = Vec::new();
    for id in used {
        if let Some(found) = authorizer(client, &target.api_id, id).await?.filter(is_originsig) {
            originsig.push(found);
        }
    }
    Ok(originsig)
}

/// Each originsig authorizer's id with its problems.
fn found(target: &Target, authorizers: &[Authorizer]) -> Found {
    authorizers
        .iter()
        .map(|a| {
            let (problems, _) = authorizer_problems(a, target.authorizer_function.as_deref());
            (a.authorizer_id().unwrap_or_default().to_owned(), problems)
        })
        .collect()
}

/// The one authorizer `attach` puts on routes, if it would protect them.
fn the_one<'a>(target: &Target, originsig: &'a [Authorizer]) -> Result<&'a Authorizer, CliError> {
    let one = match originsig {
        [one] => one,
        [] => {
            return Err(CliError::Usage(format!(
                "no route of API {} uses an originsig authorizer yet: name it with --authorizer-id (the API-region stack's output AuthorizerId)",
                target.api_id
            )))
        }
        several => {
            return Err(CliError::Usage(format!(
                "routes of API {} use several originsig authorizers ({}): choose one with --authorizer-id",
                target.api_id,
                several.iter().filter_map(Authorizer::authorizer_id).collect::<Vec<_>>().join(", ")
            )))
        }
    };
    let (problems, _) = authorizer_problems(one, target.authorizer_function.as_deref());
    if problems.is_empty() {
        Ok(one)
    } else {
        Err(CliError::CheckFailed(format!(
            "refusing to attach authorizer {} to routes of API {}: it would not protect them: it {}. Fix it where it \
             is defined (its template or CDK code), deploy, and run attach again",
            one.authorizer_id().unwrap_or("?"),
            target.api_id,
            problems.join("; it ")
        )))
    }
}

fn print_table(rows: &[(String, String, String)]) {
    let width = |column: fn(&(String, String, String)) -> &String, title: &str| {
        rows.iter()
            .map(|r| column(r).chars().count())
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let (route_w, id_w) = (width(|r| &r.0, "ROUTE"), width(|r| &r.1, "ROUTE ID"));
    println!("{:route_w$}  {:id_w$}  STATUS", "ROUTE", "ROUTE ID");
    for (route, id, status) in rows {
        println!("{route:route_w$}  {id:id_w$}  {status}");
    }
}

pub async fn run(args: RoutesArgs) -> Result<(), CliError> {
    match args.command {
        RoutesCommand::Audit(args) => audit(args).await,
        RoutesCommand::Attach(args) => attach(args).await,
    }
}

async fn client(target: &Target) -> Result<Client, CliError> {
    let identity = super::identity(target.region.as_deref(), None)?;
    Ok(Client::new(
        &crate::aws::operator_config(&identity, TOOL_CALLS).await?,
    ))
}

/// One authorizer as `--output json` shows it.
fn authorizer_json(target: &Target, authorizer: &Authorizer) -> serde_json::Value {
    let (problems, unchecked) = authorizer_problems(authorizer, target.authorizer_function.as_deref());
    serde_json::json!({
        "authorizerId": authorizer.authorizer_id(),
        "name": authorizer.name(),
        "functionArn": function_of(authorizer),
        "resultTtlSeconds": authorizer.authorizer_result_ttl_in_seconds(),
        "payloadFormatVersion": authorizer.authorizer_payload_format_version(),
        "simpleResponses": authorizer.enable_simple_responses(),
        "problems": problems,
        "unchecked": unchecked,
    })
}

async fn audit(args: AuditArgs) -> Result<(), CliError> {
    let target = &args.target;
    let client = client(target).await?;
    let allowed: BTreeSet<String> = target.allowed.iter().cloned().collect();
    let routes = all_routes(&client, &target.api_id).await?;
    let authorizers = originsig_authorizers(&client, target, &routes).await?;
    let originsig = found(target, &authorizers);
    let verdicts: Vec<(&Route, Verdict)> = routes
        .iter()
        .map(|r| (r, verdict(r, &originsig, &allowed)))
        .collect();
    let open = verdicts.iter().filter(|(_, v)| !v.is_protected()).count();
    if args.output.is_json() {
        super::output::print_json(&serde_json::json!({
            "apiId": target.api_id,
            "authorizers": authorizers.iter().map(|a| authorizer_json(target, a)).collect::<Vec<_>>(),
            "routes": verdicts.iter().map(|(r, v)| serde_json::json!({
                "routeKey": r.route_key(),
                "routeId": r.route_id(),
                "protected": v.is_protected(),
                "status": v.text(),
                "authorizerId": r.authorizer_id(),
            })).collect::<Vec<_>>(),
            "unprotected": open,
        }));
    } else {
        print_table(
            &verdicts
                .iter()
                .map(|(r, v)| {
                    (
                        r.route_key().unwrap_or("?").to_owned(),
                        r.route_id().unwrap_or("?").to_owned(),
                        v.text(),
                    )
                })
                .collect::<Vec<_>>(),
        );
        for authorizer in &authorizers {
            let (_, unchecked) = authorizer_problems(authorizer, target.authorizer_function.as_deref());
            for what in unchecked {
                println!(
                    "not checked for authorizer {}: {what}",
                    authorizer.authorizer_id().unwrap_or("?")
                );
            }
        }
    }
    if open == 0 {
        if !args.output.is_json() {
            println!(
                "ok: all {} routes of API {} are protected (originsig authorizer {})",
                routes.len(),
                target.api_id,
                originsig.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        Ok(())
    } else {
        Err(CliError::CheckFailed(format!(
            "{open} of {} routes of API {} are not protected; `originsig routes attach --api-id {}` attaches the authorizer to routes without one, and an authorizer reported with a problem must be fixed where it is defined (then make the API's own IaC set it, or its next deploy undoes this)",
            routes.len(),
            target.api_id,
            target.api_id
        )))
    }
}

async fn attach(args: AttachArgs) -> Result<(), CliError> {
    let target = &args.target;
    let client = client(target).await?;
    let allowed: BTreeSet<String> = target.allowed.iter().cloned().collect();
    let routes = all_routes(&client, &target.api_id).await?;
    let authorizers = originsig_authorizers(&client, target, &routes).await?;
    let originsig = found(target, &authorizers);
    let named: BTreeSet<&str> = args.routes.iter().map(String::as_str).collect();
    let known: BTreeSet<&str> = routes.iter().filter_map(Route::route_key).collect();
    if let Some(unknown) = named.iter().find(|n| !known.contains(*n)) {
        return Err(CliError::Usage(format!(
            "--route {unknown:?}: API {} has no such route (route keys look like 'GET /items' or '$default')",
            target.api_id
        )));
    }
    let authorizer = the_one(target, &authorizers)?
        .authorizer_id()
        .unwrap_or_default()
        .to_owned();
    let mut rows = Vec::new();
    let mut still_open = 0;
    for route in &routes {
        let key = route.route_key().unwrap_or("?");
        let id = route.route_id().unwrap_or("?");
        let in_scope = named.is_empty() || named.contains(key);
        let status = match verdict(route, &originsig, &allowed) {
            Verdict::Open if in_scope && args.dry_run => "would attach".to_owned(),
            Verdict::Open if in_scope => {
                client
                    .update_route()
                    .api_id(&target.api_id)
                    .route_id(id)
                    .authorization_type(AuthorizationType::Custom)
                    .authorizer_id(&authorizer)
                    .send()
                    .await
                    .map_err(|e| aws_error("UpdateRoute", &target.api_id, e))?;
                "attached".to_owned()
            }
            other => {
                if !other.is_protected() {
                    still_open += 1;
                }
                match other {
                    Verdict::Open => "UNPROTECTED: not named with --route".to_owned(),
                    Verdict::OtherAuthorizer(what) => {
                        format!(
                            "UNPROTECTED: uses {what}; not replaced (that would drop its own authentication)"
                        )
                    }
                    Verdict::Protected => "protected (unchanged)".to_owned(),
                    Verdict::Allowed => "allowed (--allow, unchanged)".to_owned(),
                    misconfigured @ Verdict::Misconfigured { .. } => misconfigured.text(),
                }
            }
        };
        rows.push((key.to_owned(), id.to_owned(), status));
    }
    print_table(&rows);
    if args.dry_run {
        println!("dry run: nothing changed");
    } else {
        println!(
            "note: stages without automatic deployment serve the change only after a new deployment of API {}",
            target.api_id
        );
    }
    if still_open == 0 {
        Ok(())
    } else {
        Err(CliError::CheckFailed(format!(
            "{still_open} routes of API {} stay unprotected (see the table)",
            target.api_id
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(key: &str, kind: Option<AuthorizationType>, authorizer: Option<&str>) -> Route {
        Route::builder()
            .route_key(key)
            .route_id("r1")
            .set_authorization_type(kind)
            .set_authorizer_id(authorizer.map(str::to_owned))
            .build()
    }

    #[test]
    fn only_the_originsig_authorizer_protects_a_route() {
        let allowed: BTreeSet<String> = ["GET /health".to_owned()].into();
        let originsig: Found = [
            ("auth1".to_owned(), vec![]),
            ("caching".to_owned(), vec!["caches results for 300s".to_owned()]),
        ]
        .into();
        let v = |r: Route| verdict(&r, &originsig, &allowed);
        assert!(matches!(
            v(route("GET /a", Some(AuthorizationType::Custom), Some("caching"))),
            Verdict::Misconfigured { .. }
        ));
        assert_eq!(
            v(route("GET /a", Some(AuthorizationType::Custom), Some("auth1"))),
            Verdict::Protected
        );
        assert_eq!(v(route("GET /a", None, None)), Verdict::Open);
        assert_eq!(
            v(route("GET /a", Some(AuthorizationType::None), None)),
            Verdict::Open
        );
        assert!(matches!(
            v(route("GET /a", Some(AuthorizationType::Custom), Some("other"))),
            Verdict::OtherAuthorizer(_)
        ));
        assert!(matches!(
            v(route("GET /a", Some(AuthorizationType::Jwt), Some("jwt1"))),
            Verdict::OtherAuthorizer(_)
        ));
        assert!(matches!(
            v(route("$default", Some(AuthorizationType::AwsIam), None)),
            Verdict::OtherAuthorizer(_)
        ));
        assert_eq!(v(route("GET /health", None, None)), Verdict::Allowed);
    }

    const FUNCTION: &str = "arn:aws:lambda:eu-west-1:123456789012:function:originsig-authorizer";

    fn deployed(ttl: i32, payload: &str, simple: bool, function: &str) -> Authorizer {
        Authorizer::builder()
            .name("x")
            .authorizer_type(AuthorizerType::Request)
            .identity_source("$request.header.x-originsig")
            .authorizer_uri(format!(
                "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{function}/invocations"
            ))
            .authorizer_result_ttl_in_seconds(ttl)
            .authorizer_payload_format_version(payload)
            .enable_simple_responses(simple)
            .build()
    }

    #[test]
    fn an_authorizer_protects_only_as_deployed_by_originsig() {
        let problems = |a: &Authorizer, f: Option<&str>| authorizer_problems(a, f).0;
        let good = deployed(0, "2.0", true, FUNCTION);
        assert!(problems(&good, Some(FUNCTION)).is_empty());
        assert!(problems(&good, Some("originsig-authorizer")).is_empty());
        assert!(
            problems(&good, Some(&format!("{FUNCTION}:live"))).len() == 1,
            "another qualifier is another function"
        );
        assert!(problems(
            &deployed(0, "2.0", true, &format!("{FUNCTION}:live")),
            Some(FUNCTION)
        )
        .is_empty());
        let (none, unchecked) = authorizer_problems(&good, None);
        assert!(none.is_empty() && unchecked.len() == 1);
        assert!(problems(&good, Some("someone-else"))[0].contains("not the originsig authorizer function"));
        // aws-cdk-lib's HttpLambdaAuthorizer defaults: 5 min cache, IAM responses, payload 2.0.
        let cdk_default = deployed(300, "2.0", false, FUNCTION);
        let found = problems(&cdk_default, Some(FUNCTION));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("caches results for 300s"));
        assert!(found[1].contains("simple responses"));
        assert!(problems(&deployed(0, "1.0", true, FUNCTION), None)[0].contains("payload format 1.0"));
        let unknown_ttl = Authorizer::builder()
            .name("x")
            .authorizer_type(AuthorizerType::Request)
            .authorizer_payload_format_version("2.0")
            .enable_simple_responses(true)
            .build();
        assert!(problems(&unknown_ttl, None)[0].contains("cannot be shown to be off"));
    }

    #[test]
    fn an_originsig_authorizer_is_known_by_its_identity_source() {
        let authorizer = |kind, source: &str| {
            Authorizer::builder()
                .name("x")
                .authorizer_type(kind)
                .identity_source(source)
                .build()
        };
        assert!(is_originsig(&authorizer(
            AuthorizerType::Request,
            "$request.header.x-originsig"
        )));
        assert!(is_originsig(&authorizer(
            AuthorizerType::Request,
            "$request.header.X-Originsig"
        )));
        assert!(!is_originsig(&authorizer(
            AuthorizerType::Request,
            "$request.header.Authorization"
        )));
        assert!(!is_originsig(&authorizer(
            AuthorizerType::Jwt,
            "$request.header.x-originsig"
        )));
    }
}
