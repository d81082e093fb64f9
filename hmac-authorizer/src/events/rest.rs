//! REST API REQUEST authorizer events (and HTTP API payload 1.0), read through
//! `aws_lambda_events`' typed request. Not the hot path: HTTP APIs are what originsig is for.

use std::borrow::Cow;

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use aws_lambda_events::http::HeaderMap;
use originsig_core::{CanonicalPath, CanonicalQuery, Host, Malformed, Method, RequestTarget, HEADER_NAME};
use serde_json::Value;

use super::{plausible_cf_request_id, RequestFacts, WrongEventType};

/// REST API REQUEST authorizer, or HTTP API payload 1.0.
pub fn from_rest_request(event: &str) -> Result<RequestFacts<'static>, WrongEventType> {
    let event: Value = serde_json::from_str(event).unwrap_or(Value::Null);
    let version = event.get("version").and_then(Value::as_str);
    let is_request = event.get("type").and_then(Value::as_str) == Some("REQUEST");
    if !is_request || !matches!(version, None | Some("1.0")) || event.get("methodArn").is_none() {
        return Err(WrongEventType(format!(
            "expected a REST API REQUEST authorizer event (type \"REQUEST\" with a methodArn), got version {version:?}; \
             check ORIGINSIG_RESPONSE_MODE (simple or iam for HTTP API payload 2.0)"
        )));
    }
    // Read from the JSON, not the typed QueryMap: its iterator indexes into each value list and
    // would panic on an empty one (`{"a": []}`), which the event's sender controls.
    let query_pairs = rest_query_pairs(&event);
    let domain = event
        .pointer("/requestContext/domainName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let event: ApiGatewayCustomAuthorizerRequestTypeRequest = match serde_json::from_value(event) {
        Ok(event) => event,
        Err(_) => return Ok(RequestFacts::unreadable()),
    };
    let context = &event.request_context;
    let method = event
        .http_method
        .as_ref()
        .or(context.http_method.as_ref())
        .map(|m| m.as_str().to_owned());
    let method = method.unwrap_or_default();
    // REST APIs keep the path percent-encoded; requestContext.path includes the stage.
    let path = context
        .path
        .clone()
        .or_else(|| event.path.clone())
        .unwrap_or_default();
    let domain = domain
        .or_else(|| header(&event.headers, "host"))
        .unwrap_or_default();
    let target = (|| {
        let pairs = query_pairs?;
        let pairs = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        Ok(RequestTarget {
            method: Method::new(&method)?,
            host: Host::new(&domain)?,
            path: CanonicalPath::from_rest_path(&path)?,
            query: CanonicalQuery::from_decoded_pairs(pairs)?,
        })
    })();
    let headers = if event.multi_value_headers.is_empty() {
        &event.headers
    } else {
        &event.multi_value_headers
    };
    Ok(RequestFacts {
        target,
        header_values: signature_values(headers),
        cf_request_id: header(&event.headers, "x-amz-cf-id")
            .and_then(|id| plausible_cf_request_id(Cow::Owned(id))),
        request_id: context.request_id.clone().map(Cow::Owned),
        stage: None,
        method: Cow::Owned(method),
        path: Cow::Owned(path),
        resource_arn: Cow::Owned(event.method_arn.clone().unwrap_or_default()),
    })
}

/// Decoded query pairs of a REST REQUEST event: `multiValueQueryStringParameters`, else
/// `queryStringParameters`. A value of another JSON type (not a list of strings, not a string)
/// makes the event unreadable: nothing was percent-encoded wrongly, the event is not the
/// documented shape.
fn rest_query_pairs(event: &Value) -> Result<Vec<(String, String)>, Malformed> {
    let as_object = |name: &str| {
        event
            .get(name)
            .and_then(Value::as_object)
            .filter(|o| !o.is_empty())
    };
    let mut pairs = Vec::new();
    if let Some(multi) = as_object("multiValueQueryStringParameters") {
        for (key, values) in multi {
            let values = values.as_array().ok_or(Malformed::EventUnreadable)?;
            for value in values {
                pairs.push((
                    key.clone(),
                    value.as_str().ok_or(Malformed::EventUnreadable)?.to_owned(),
                ));
            }
        }
    } else if let Some(single) = as_object("queryStringParameters") {
        for (key, value) in single {
            pairs.push((
                key.clone(),
                value.as_str().ok_or(Malformed::EventUnreadable)?.to_owned(),
            ));
        }
    }
    Ok(pairs)
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// All values of the signature header, as given.
fn signature_values(headers: &HeaderMap) -> Result<Vec<Cow<'static, str>>, Malformed> {
    headers
        .get_all(HEADER_NAME)
        .iter()
        .map(|value| {
            value
                .to_str()
                .map(|text| Cow::Owned(text.to_owned()))
                .map_err(|_| Malformed::HeaderSyntax)
        })
        .collect()
}
