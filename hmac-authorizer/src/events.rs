//! From API Gateway authorizer events to [`RequestFacts`]: the one place that knows where each
//! payload keeps method, host, path, query and the signature header.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayV2CustomAuthorizerV2Request,
};
use aws_lambda_events::http::HeaderMap;
use originsig_core::{CanonicalPath, CanonicalQuery, Host, Malformed, Method, RequestTarget, HEADER_NAME};
use serde_json::Value;
use thiserror::Error;

/// What an event says about the request, before any key is looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    /// The canonical target, or why the event's request cannot be put in canonical form.
    pub target: Result<RequestTarget, Malformed>,
    /// Every value of the signature header, split at commas (HTTP APIs join repeated headers).
    pub header_values: Result<Vec<String>, Malformed>,
    /// CloudFront's id for the request (`x-amz-cf-id`), for correlation; not signed.
    pub cf_request_id: Option<String>,
    /// API Gateway's request id.
    pub request_id: Option<String>,
    /// Method and path as given, for the decision log.
    pub method: String,
    pub path: String,
    /// What an IAM policy must name: `routeArn` (v2) or `methodArn` (REST).
    pub resource_arn: String,
}

/// The event is not the kind the configured response mode expects.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("wrong event type: {0}")]
pub struct WrongEventType(pub String);

/// HTTP API payload 2.0 (simple or IAM responses).
pub fn from_http_api_v2(event: Value) -> Result<RequestFacts, WrongEventType> {
    let version = event.get("version").and_then(Value::as_str).unwrap_or("");
    if version != "2.0" || event.get("type").and_then(Value::as_str) != Some("REQUEST") {
        return Err(WrongEventType(format!(
            "expected an HTTP API payload 2.0 REQUEST authorizer event (version \"2.0\"), got version {version:?}; \
             check ORIGINSIG_RESPONSE_MODE (rest for REST APIs and payload 1.0)"
        )));
    }
    let event: ApiGatewayV2CustomAuthorizerV2Request = match serde_json::from_value(event) {
        Ok(event) => event,
        // A v2 event that does not parse (a garbled header value, say) is the request's fault.
        Err(_) => return Ok(unparseable()),
    };
    let context = &event.request_context;
    let method = context.http.method.as_str().to_owned();
    let path = event.raw_path.clone().unwrap_or_default();
    let target = (|| {
        Ok(RequestTarget {
            method: Method::new(&method)?,
            host: Host::new(context.domain_name.as_deref().unwrap_or(""))?,
            path: CanonicalPath::from_decoded(&path)?,
            query: CanonicalQuery::from_raw(event.raw_query_string.as_deref().unwrap_or(""))?,
        })
    })();
    Ok(RequestFacts {
        target,
        header_values: signature_values(&event.headers),
        cf_request_id: header(&event.headers, "x-amz-cf-id"),
        request_id: context.request_id.clone(),
        method,
        path,
        resource_arn: event.route_arn.clone().unwrap_or_default(),
    })
}

/// REST API REQUEST authorizer, or HTTP API payload 1.0.
pub fn from_rest_request(event: Value) -> Result<RequestFacts, WrongEventType> {
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
        Err(_) => return Ok(unparseable()),
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
            path: CanonicalPath::from_encoded("", &path)?,
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
        cf_request_id: header(&event.headers, "x-amz-cf-id"),
        request_id: context.request_id.clone(),
        method,
        path,
        resource_arn: event.method_arn.clone().unwrap_or_default(),
    })
}

/// Decoded query pairs of a REST REQUEST event: `multiValueQueryStringParameters`, else
/// `queryStringParameters`. Anything but strings is malformed.
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
            let values = values.as_array().ok_or(Malformed::PercentEncoding)?;
            for value in values {
                pairs.push((
                    key.clone(),
                    value.as_str().ok_or(Malformed::PercentEncoding)?.to_owned(),
                ));
            }
        }
    } else if let Some(single) = as_object("queryStringParameters") {
        for (key, value) in single {
            pairs.push((
                key.clone(),
                value.as_str().ok_or(Malformed::PercentEncoding)?.to_owned(),
            ));
        }
    }
    Ok(pairs)
}

fn unparseable() -> RequestFacts {
    RequestFacts {
        target: Err(Malformed::HeaderSyntax),
        header_values: Err(Malformed::HeaderSyntax),
        cf_request_id: None,
        request_id: None,
        method: String::new(),
        path: String::new(),
        resource_arn: String::new(),
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// All values of the signature header. HTTP APIs join repeated headers with commas, and a v1
/// value never contains one, so a comma means "more than one value".
fn signature_values(headers: &HeaderMap) -> Result<Vec<String>, Malformed> {
    let mut values = Vec::new();
    for value in headers.get_all(HEADER_NAME) {
        let text = value.to_str().map_err(|_| Malformed::HeaderSyntax)?;
        values.extend(text.split(',').map(|part| part.trim().to_owned()));
    }
    Ok(values)
}
