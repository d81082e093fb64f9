//! `originsig routes audit|attach`: every route of an HTTP API behind the originsig authorizer,
//! and proof of it.
//!
//! An HTTP API authorizes per route: a route added later without `authorizationType: CUSTOM`
//! and the originsig authorizer is open to anyone who finds the `execute-api` URL, whatever the
//! other routes do. `audit` lists every route and fails when one is not protected; `attach`
//! puts the authorizer on the routes that lack it (idempotent, `--dry-run` to see the plan).
//! Changes made here are out of band: the API's own IaC reverts them on its next deploy unless
//! it sets the authorizer itself (docs/existing-distribution.md, "Every route protected").

use std::collections::BTreeSet;

use aws_sdk_apigatewayv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigatewayv2::types::{AuthorizationType, Authorizer, AuthorizerType, Route};
use aws_sdk_apigatewayv2::Client;
use clap::{Args, Subcommand};
use originsig_core::HEADER_NAME;

use super::CliError;
use crate::timing::TOOL_CALLS;

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct RoutesArgs {
    #[command(subcommand)]
    command: RoutesCommand,
}

const AFTER_HELP: &str = "\
The originsig authorizer is named with --authorizer-id (the API-region stack's output
AuthorizerId), or found among the authorizers the routes use by its identity source
($request.header.x-originsig); attach needs --authorizer-id while no route uses it yet.

Exit codes:
  0  every route is protected (attach: after the changes)
  2  usage error (bad arguments, no or several originsig authorizers, unknown --route)
  3  AWS error (permissions, throttling, no answer, unknown API)
  4  a route is not protected (audit), or stays unprotected (attach: it uses another
     authorizer, which is never replaced, or was not named with --route)

The API comes from the standard AWS environment (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL_APIGATEWAYV2, ...).";

#[derive(Debug, Subcommand)]
enum RoutesCommand {
    /// List every route and whether the originsig authorizer protects it; exit 4 if one is not.
    #[command(after_help = AFTER_HELP)]
    Audit(AuditArgs),
    /// Put the originsig authorizer on the routes without it (all, or those named); idempotent.
    #[command(after_help = AFTER_HELP)]
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
}

impl Verdict {
    fn text(&self) -> String {
        match self {
            Verdict::Protected => "protected".to_owned(),
            Verdict::Allowed => "allowed (--allow)".to_owned(),
            Verdict::Open => "UNPROTECTED: no authorizer".to_owned(),
            Verdict::OtherAuthorizer(what) => format!("UNPROTECTED: uses {what}"),
        }
    }

    fn is_protected(&self) -> bool {
        matches!(self, Verdict::Protected | Verdict::Allowed)
    }
}

/// The verdict for one route.
pub fn verdict(route: &Route, originsig: &BTreeSet<String>, allowed: &BTreeSet<String>) -> Verdict {
    let key = route.route_key().unwrap_or_default();
    match route.authorization_type() {
        Some(AuthorizationType::Custom) if route.authorizer_id().is_some_and(|id| originsig.contains(id)) => {
            Verdict::Protected
        }
        _ if allowed.contains(key) => Verdict::Allowed,
        None | Some(AuthorizationType::None) => Verdict::Open,
        Some(AuthorizationType::Custom) => Verdict::OtherAuthorizer(format!(
            "another Lambda authorizer ({})",
            route.authorizer_id().unwrap_or("?")
        )),
        Some(other) => Verdict::OtherAuthorizer(format!("{} authorization", other.as_str())),
    }
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
) -> Result<BTreeSet<String>, CliError> {
    if let Some(id) = &target.authorizer_id {
        return match authorizer(client, &target.api_id, id).await? {
            Some(found) if is_originsig(&found) => Ok([id.clone()].into()),
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
    let mut originsig = BTreeSet::new();
    for id in used {
        if authorizer(client, &target.api_id, id)
            .await?
            .is_some_and(|a| is_originsig(&a))
        {
            originsig.insert(id.to_owned());
        }
    }
    Ok(originsig)
}

/// The one authorizer `attach` puts on routes.
fn the_one(target: &Target, originsig: &BTreeSet<String>) -> Result<String, CliError> {
    let mut ids = originsig.iter();
    match (ids.next(), ids.next()) {
        (Some(one), None) => Ok(one.clone()),
        (None, _) => Err(CliError::Usage(format!(
            "no route of API {} uses an originsig authorizer yet: name it with --authorizer-id (the API-region stack's output AuthorizerId)",
            target.api_id
        ))),
        (Some(_), Some(_)) => Err(CliError::Usage(format!(
            "routes of API {} use several originsig authorizers ({}): choose one with --authorizer-id",
            target.api_id,
            originsig.iter().cloned().collect::<Vec<_>>().join(", ")
        ))),
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

async fn client(target: &Target) -> Client {
    Client::new(
        &crate::aws::config_loader(target.region.clone(), TOOL_CALLS)
            .load()
            .await,
    )
}

async fn audit(args: AuditArgs) -> Result<(), CliError> {
    let target = &args.target;
    let client = client(target).await;
    let allowed: BTreeSet<String> = target.allowed.iter().cloned().collect();
    let routes = all_routes(&client, &target.api_id).await?;
    let originsig = originsig_authorizers(&client, target, &routes).await?;
    let verdicts: Vec<(&Route, Verdict)> = routes
        .iter()
        .map(|r| (r, verdict(r, &originsig, &allowed)))
        .collect();
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
    let open = verdicts.iter().filter(|(_, v)| !v.is_protected()).count();
    if open == 0 {
        println!(
            "ok: all {} routes of API {} are protected (originsig authorizer {})",
            routes.len(),
            target.api_id,
            originsig.iter().cloned().collect::<Vec<_>>().join(", ")
        );
        Ok(())
    } else {
        Err(CliError::CheckFailed(format!(
            "{open} of {} routes of API {} are not protected; `originsig routes attach --api-id {}` attaches the authorizer (then make the API's own IaC set it, or its next deploy undoes this)",
            routes.len(),
            target.api_id,
            target.api_id
        )))
    }
}

async fn attach(args: AttachArgs) -> Result<(), CliError> {
    let target = &args.target;
    let client = client(target).await;
    let allowed: BTreeSet<String> = target.allowed.iter().cloned().collect();
    let routes = all_routes(&client, &target.api_id).await?;
    let originsig = originsig_authorizers(&client, target, &routes).await?;
    let authorizer = the_one(target, &originsig)?;
    let named: BTreeSet<&str> = args.routes.iter().map(String::as_str).collect();
    let known: BTreeSet<&str> = routes.iter().filter_map(Route::route_key).collect();
    if let Some(unknown) = named.iter().find(|n| !known.contains(*n)) {
        return Err(CliError::Usage(format!(
            "--route {unknown:?}: API {} has no such route (route keys look like 'GET /items' or '$default')",
            target.api_id
        )));
    }
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
        let originsig: BTreeSet<String> = ["auth1".to_owned()].into();
        let v = |r: Route| verdict(&r, &originsig, &allowed);
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
