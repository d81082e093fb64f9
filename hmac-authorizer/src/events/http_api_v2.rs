//! HTTP API payload 2.0 REQUEST authorizer events (simple and IAM responses).
//!
//! Only `version`, `type`, `routeArn`, `rawPath`, `rawQueryString`, two headers and four
//! `requestContext` fields are read; everything else is skipped by the parser. The field names
//! and meanings are those of `aws_lambda_events`' `ApiGatewayV2CustomAuthorizerV2Request`
//! (the tests read the example event both ways and compare).

use std::borrow::Cow;

use originsig_core::{CanonicalPath, CanonicalQuery, Host, Method, RequestTarget};
use serde::Deserialize;
use serde_json::Value;

use super::text::{Object, SelectedHeaders, Text};
use super::{plausible_cf_request_id, RequestFacts, WrongEventType};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(borrow, default)]
    version: Option<Text<'a>>,
    #[serde(borrow, default, rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(borrow, default)]
    route_arn: Option<Text<'a>>,
    /// Percent-decoded twice by API Gateway, stage prefix included (SPEC.md §4).
    #[serde(borrow, default)]
    raw_path: Option<Text<'a>>,
    #[serde(borrow, default)]
    raw_query_string: Option<Text<'a>>,
    #[serde(borrow, default)]
    headers: Option<SelectedHeaders<'a>>,
    #[serde(borrow, default)]
    request_context: Option<Object<Context<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Context<'a> {
    #[serde(borrow, default)]
    domain_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    request_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    stage: Option<Text<'a>>,
    #[serde(borrow, default)]
    http: Option<Object<Http<'a>>>,
}

#[derive(Deserialize)]
struct Http<'a> {
    #[serde(borrow, default)]
    method: Option<Text<'a>>,
}

fn text(field: Option<Text<'_>>) -> Cow<'_, str> {
    field.map_or(Cow::Borrowed(""), |Text(text)| text)
}

/// Reads an HTTP API payload 2.0 event from its JSON text.
pub fn from_http_api_v2(event: &str) -> Result<RequestFacts<'_>, WrongEventType> {
    let parsed = match serde_json::from_str::<Object<Event<'_>>>(event) {
        Ok(Object(parsed)) => parsed,
        Err(_) => return unreadable(event),
    };
    let version = parsed.version.as_ref().map(|Text(v)| v.as_ref());
    let kind = parsed.kind.as_ref().map(|Text(k)| k.as_ref());
    if version != Some("2.0") || kind != Some("REQUEST") {
        return Err(wrong_type(version));
    }
    let (domain, request_id, stage, method) = match parsed.request_context {
        Some(Object(context)) => (
            text(context.domain_name),
            context.request_id.map(|Text(id)| id),
            context.stage.map(|Text(stage)| stage),
            text(context.http.and_then(|Object(http)| http.method)),
        ),
        None => (Cow::Borrowed(""), None, None, Cow::Borrowed("")),
    };
    let path = text(parsed.raw_path);
    let query = text(parsed.raw_query_string);
    let target = (|| {
        Ok(RequestTarget {
            method: Method::new(&method)?,
            host: Host::new(&domain)?,
            path: CanonicalPath::from_decoded(&path)?,
            query: CanonicalQuery::from_raw(&query)?,
        })
    })();
    let (signature, cf_request_id) = match parsed.headers {
        Some(headers) => (headers.signature, headers.cf_request_id),
        None => (Vec::new(), None),
    };
    Ok(RequestFacts {
        target,
        header_values: Ok(signature.into_iter().map(|Text(value)| value).collect()),
        cf_request_id: cf_request_id.and_then(|Text(id)| plausible_cf_request_id(id)),
        request_id,
        stage,
        method,
        path,
        resource_arn: text(parsed.route_arn),
    })
}

/// The lean read failed (a field of an unexpected JSON type, a repeated field, a string JSON
/// cannot hold such as a lone surrogate, not JSON at all). Rare, so this path may be slow: a v2
/// REQUEST event is denied (`event_unreadable`); anything else is the wrong kind of event.
///
/// Only the two tags are read here, everything else skipped: a `Value` would refuse the whole
/// text for one bad string elsewhere and misname a v2 event as the wrong type.
fn unreadable(event: &str) -> Result<RequestFacts<'_>, WrongEventType> {
    #[derive(Deserialize)]
    struct Tags {
        #[serde(default)]
        version: Option<Value>,
        #[serde(default, rename = "type")]
        kind: Option<Value>,
    }
    let tags = serde_json::from_str::<Tags>(event).ok();
    let version = tags
        .as_ref()
        .and_then(|t| t.version.as_ref())
        .and_then(Value::as_str);
    let kind = tags
        .as_ref()
        .and_then(|t| t.kind.as_ref())
        .and_then(Value::as_str);
    if version == Some("2.0") && kind == Some("REQUEST") {
        Ok(RequestFacts::unreadable())
    } else {
        Err(wrong_type(version))
    }
}

fn wrong_type(version: Option<&str>) -> WrongEventType {
    WrongEventType(format!(
        "expected an HTTP API payload 2.0 REQUEST authorizer event (version \"2.0\"), got version {:?}; \
         check ORIGINSIG_RESPONSE_MODE (rest for REST APIs and payload 1.0)",
        version.unwrap_or("")
    ))
}
