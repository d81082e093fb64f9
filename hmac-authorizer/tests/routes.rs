//! `originsig routes audit|attach` (the real binary) against moto's API Gateway v2 (routes and
//! authorizers): audit fails on an unprotected route and passes after attach; attach is
//! idempotent, keeps other authorizers, changes only named routes; the authorizer is found once;
//! an authorizer with the originsig identity source that caches results (as aws-cdk-lib's
//! `HttpLambdaAuthorizer` does by default), invokes another function, or answers in another
//! format protects nothing, and attach refuses it.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Output;

use aws_sdk_apigatewayv2::types::{AuthorizationType, AuthorizerType, ProtocolType};
use aws_sdk_apigatewayv2::Client;
use originsig_hmac_authorizer::aws::config_loader;
use originsig_hmac_authorizer::timing::TOOL_CALLS;
use originsig_tests::moto::MotoServer;

mod common;
use common::{originsig, text};

/// `originsig routes VERB --api-id API EXTRA…`
fn routes(moto: &MotoServer, verb: &str, api: &str, extra: &[&str]) -> Output {
    let mut args = vec!["routes", verb, "--api-id", api];
    args.extend_from_slice(extra);
    originsig(moto, &args)
}

async fn client(moto: &MotoServer) -> Client {
    let config = config_loader(Some("us-east-1".into()), TOOL_CALLS)
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_apigatewayv2::config::Credentials::for_tests())
        .load()
        .await;
    Client::new(&config)
}

const LAMBDA: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:authorizer/invocations";

struct Api {
    id: String,
    originsig: String,
}

/// An HTTP API with the originsig authorizer (as infra/api-region.yaml creates it) and routes.
async fn api(client: &Client, routes: &[(&str, Option<AuthorizationType>, Option<&str>)]) -> Api {
    let id = client
        .create_api()
        .name("shop")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap()
        .api_id
        .unwrap();
    let originsig = client
        .create_authorizer()
        .api_id(&id)
        .name("originsig")
        .authorizer_type(AuthorizerType::Request)
        .authorizer_uri(LAMBDA)
        .authorizer_payload_format_version("2.0")
        .enable_simple_responses(true)
        .authorizer_result_ttl_in_seconds(0)
        .identity_source("$request.header.x-originsig")
        .send()
        .await
        .unwrap()
        .authorizer_id
        .unwrap();
    let jwt = client
        .create_authorizer()
        .api_id(&id)
        .name("users")
        .authorizer_type(AuthorizerType::Jwt)
        .identity_source("$request.header.Authorization")
        .send()
        .await
        .unwrap()
        .authorizer_id
        .unwrap();
    for (key, kind, authorizer) in routes {
        let authorizer = match *authorizer {
            Some("originsig") => Some(originsig.clone()),
            Some("jwt") => Some(jwt.clone()),
            _ => None,
        };
        client
            .create_route()
            .api_id(&id)
            .route_key(*key)
            .set_authorization_type(kind.clone())
            .set_authorizer_id(authorizer)
            .send()
            .await
            .unwrap();
    }
    Api { id, originsig }
}

#[tokio::test]
async fn audit_fails_on_an_unprotected_route_and_passes_after_attach() {
    let moto = MotoServer::start().unwrap();
    let client = client(&moto).await;
    let api = api(
        &client,
        &[
            ("GET /items", Some(AuthorizationType::Custom), Some("originsig")),
            ("POST /items", None, None),
            ("$default", Some(AuthorizationType::None), None),
        ],
    )
    .await;

    let audit = routes(&moto, "audit", &api.id, &[]);
    assert_eq!(audit.status.code(), Some(4), "{}", text(&audit));
    let report = text(&audit);
    assert!(
        report.contains("POST /items") && report.contains("UNPROTECTED: no authorizer"),
        "{report}"
    );
    assert!(report.contains("2 of 3 routes"), "{report}");

    let dry = routes(&moto, "attach", &api.id, &["--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    assert!(text(&dry).contains("would attach") && text(&dry).contains("dry run: nothing changed"));
    let still = routes(&moto, "audit", &api.id, &[]);
    assert_eq!(still.status.code(), Some(4), "a dry run changed nothing");

    let attach = routes(&moto, "attach", &api.id, &[]);
    assert_eq!(attach.status.code(), Some(0), "{}", text(&attach));
    assert_eq!(text(&attach).matches("attached").count(), 2, "{}", text(&attach));

    let audit = routes(&moto, "audit", &api.id, &["--authorizer-id", &api.originsig]);
    assert_eq!(audit.status.code(), Some(0), "{}", text(&audit));
    assert!(text(&audit).contains("ok: all 3 routes"));

    // Idempotent: nothing left to change.
    let again = routes(&moto, "attach", &api.id, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(!text(&again).contains("attached"), "{}", text(&again));
    assert_eq!(text(&again).matches("protected (unchanged)").count(), 3);
}

#[tokio::test]
async fn attach_changes_only_the_named_routes_and_never_replaces_another_authorizer() {
    let moto = MotoServer::start().unwrap();
    let client = client(&moto).await;
    let api = api(
        &client,
        &[
            ("GET /me", Some(AuthorizationType::Jwt), Some("jwt")),
            ("GET /health", None, None),
            ("GET /items", None, None),
            ("DELETE /items", None, None),
        ],
    )
    .await;

    // No route uses the originsig authorizer yet: attach must be told which one.
    let unnamed = routes(&moto, "attach", &api.id, &[]);
    assert_eq!(unnamed.status.code(), Some(2), "{}", text(&unnamed));
    assert!(text(&unnamed).contains("--authorizer-id"), "{}", text(&unnamed));
    let attach = routes(
        &moto,
        "attach",
        &api.id,
        &["--authorizer-id", &api.originsig, "--route", "GET /items"],
    );
    let report = text(&attach);
    assert_eq!(attach.status.code(), Some(4), "{report}");
    assert_eq!(report.matches("attached").count(), 1, "{report}");
    assert!(report.contains("not named with --route"), "{report}");
    assert!(report.contains("not replaced"), "{report}");

    let listed = client.get_routes().api_id(&api.id).send().await.unwrap();
    let me = listed
        .items()
        .iter()
        .find(|r| r.route_key() == Some("GET /me"))
        .unwrap();
    assert_eq!(
        me.authorization_type(),
        Some(&AuthorizationType::Jwt),
        "the JWT route keeps its authorizer"
    );

    let unknown = routes(&moto, "attach", &api.id, &["--route", "GET /nope"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));

    // --allow: a route meant to be public is reported, not changed, and does not fail the audit.
    let attach = routes(
        &moto,
        "attach",
        &api.id,
        &["--allow", "GET /health", "--allow", "GET /me"],
    );
    // (The originsig authorizer is found now: GET /items uses it.)
    assert_eq!(attach.status.code(), Some(0), "{}", text(&attach));
    let audit = routes(
        &moto,
        "audit",
        &api.id,
        &["--allow", "GET /health", "--allow", "GET /me"],
    );
    assert_eq!(audit.status.code(), Some(0), "{}", text(&audit));
    assert_eq!(text(&audit).matches("allowed (--allow)").count(), 2);
}

#[tokio::test]
async fn the_authorizer_must_be_found_exactly_once() {
    let moto = MotoServer::start().unwrap();
    let client = client(&moto).await;
    let bare = client
        .create_api()
        .name("bare")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap()
        .api_id
        .unwrap();
    let none = routes(&moto, "attach", &bare, &[]);
    assert_eq!(none.status.code(), Some(2), "{}", text(&none));
    assert!(text(&none).contains("no route of API"), "{}", text(&none));

    let api = api(
        &client,
        &[
            ("GET /items", None, None),
            ("GET /me", Some(AuthorizationType::Jwt), Some("jwt")),
        ],
    )
    .await;
    let wrong = routes(&moto, "audit", &api.id, &["--authorizer-id", "nope123"]);
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    // An authorizer that is not an originsig one (the JWT authorizer) is refused by name.
    let jwt = client
        .get_routes()
        .api_id(&api.id)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find_map(|r| (r.route_key() == Some("GET /me")).then(|| r.authorizer_id().unwrap().to_owned()))
        .unwrap();
    let not_ours = routes(&moto, "attach", &api.id, &["--authorizer-id", &jwt]);
    assert_eq!(not_ours.status.code(), Some(2), "{}", text(&not_ours));
    assert!(
        text(&not_ours).contains("is not an originsig authorizer"),
        "{}",
        text(&not_ours)
    );

    let missing = originsig(&moto, &["routes", "audit", "--api-id", "zzzzzzzzzz"]);
    assert_eq!(missing.status.code(), Some(3), "{}", text(&missing));
}

/// The originsig authorizer's function in [`LAMBDA`].
const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:authorizer";

/// An authorizer with the originsig identity source, made the way aws-cdk-lib's
/// `HttpLambdaAuthorizer` makes it when only `identitySource` is set: results cached 5 minutes,
/// IAM (not simple) responses, payload 2.0 ("HttpLambdaAuthorizerProps" defaults,
/// https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_apigatewayv2_authorizers.HttpLambdaAuthorizerProps.html).
async fn cdk_default_authorizer(client: &Client, api: &str) -> String {
    client
        .create_authorizer()
        .api_id(api)
        .name("cdk-default")
        .authorizer_type(AuthorizerType::Request)
        .authorizer_uri(LAMBDA)
        .authorizer_payload_format_version("2.0")
        .authorizer_result_ttl_in_seconds(300)
        .identity_source("$request.header.x-originsig")
        .send()
        .await
        .unwrap()
        .authorizer_id
        .unwrap()
}

#[tokio::test]
async fn an_authorizer_that_caches_results_protects_nothing_and_attach_refuses_it() {
    let moto = MotoServer::start().unwrap();
    let client = client(&moto).await;
    let api = api(
        &client,
        &[("GET /items", None, None), ("POST /items", None, None)],
    )
    .await;
    let caching = cdk_default_authorizer(&client, &api.id).await;
    for route in client.get_routes().api_id(&api.id).send().await.unwrap().items() {
        client
            .update_route()
            .api_id(&api.id)
            .route_id(route.route_id().unwrap())
            .authorization_type(AuthorizationType::Custom)
            .authorizer_id(&caching)
            .send()
            .await
            .unwrap();
    }

    let audit = routes(&moto, "audit", &api.id, &[]);
    let report = text(&audit);
    assert_eq!(audit.status.code(), Some(4), "{report}");
    assert!(report.contains("caches results for 300s"), "{report}");
    assert!(report.contains("simple responses"), "{report}");
    assert!(!report.contains("ok: all"), "{report}");
    assert!(
        report.contains("not checked"),
        "the function was not checked: {report}"
    );

    let json = routes(
        &moto,
        "audit",
        &api.id,
        &["--output", "json", "--authorizer-function", FUNCTION],
    );
    assert_eq!(json.status.code(), Some(4), "{}", text(&json));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["unprotected"], 2);
    assert_eq!(doc["routes"][0]["protected"], false);
    let authorizer = &doc["authorizers"][0];
    assert_eq!(authorizer["authorizerId"], caching.as_str());
    assert_eq!(authorizer["resultTtlSeconds"], 300);
    assert_eq!(authorizer["functionArn"], FUNCTION);
    assert_eq!(
        authorizer["problems"].as_array().unwrap().len(),
        2,
        "{authorizer}"
    );
    assert_eq!(authorizer["unchecked"].as_array().unwrap().len(), 0);
    for field in originsig_hmac_authorizer::cli::JSON_FIELDS
        .iter()
        .filter(|(c, _, _)| *c == "routes audit")
    {
        assert!(doc.get(field.1).is_some(), "no {} in {doc}", field.1);
    }

    // attach refuses to attach it (it would protect nothing), and says how to fix it.
    let attach = routes(&moto, "attach", &api.id, &["--authorizer-id", &caching]);
    assert_eq!(attach.status.code(), Some(4), "{}", text(&attach));
    assert!(
        text(&attach).contains("refusing") && text(&attach).contains("Duration.seconds(0)"),
        "{}",
        text(&attach)
    );

    // The originsig authorizer as deployed by the templates protects, and is checked by function.
    let good = routes(
        &moto,
        "attach",
        &api.id,
        &[
            "--authorizer-id",
            &api.originsig,
            "--authorizer-function",
            "authorizer",
            "--dry-run",
        ],
    );
    // Its routes use the caching one, which attach never replaces: they stay unprotected.
    assert_eq!(good.status.code(), Some(4), "{}", text(&good));
    let wrong = routes(
        &moto,
        "audit",
        &api.id,
        &[
            "--authorizer-id",
            &api.originsig,
            "--authorizer-function",
            "someone-else",
        ],
    );
    assert_eq!(wrong.status.code(), Some(4), "{}", text(&wrong));
}

#[tokio::test]
async fn the_originsig_authorizer_as_the_templates_deploy_it_passes_with_its_function_checked() {
    let moto = MotoServer::start().unwrap();
    let client = client(&moto).await;
    let api = api(
        &client,
        &[("GET /items", Some(AuthorizationType::Custom), Some("originsig"))],
    )
    .await;
    let ok = routes(&moto, "audit", &api.id, &["--authorizer-function", FUNCTION]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(!text(&ok).contains("not checked"), "{}", text(&ok));
    let other = routes(
        &moto,
        "audit",
        &api.id,
        &["--authorizer-function", "someone-else"],
    );
    assert_eq!(other.status.code(), Some(4), "{}", text(&other));
    assert!(
        text(&other).contains("not the originsig authorizer function"),
        "{}",
        text(&other)
    );
}
