//! From API Gateway authorizer events to [`RequestFacts`]: the one place that knows where each
//! payload keeps method, host, path, query and the signature header.
//!
//! Both readers take the event as JSON text, as the Lambda runtime delivered it. The HTTP API
//! reader ([`http_api_v2`]) is the per-request hot path: it reads only the fields the decision
//! needs, borrowing them from the text, and skips the rest of the event unparsed into values.

mod http_api_v2;
mod rest;
mod text;

use std::borrow::Cow;

use originsig_core::{Malformed, RequestTarget};
use thiserror::Error;

pub use http_api_v2::from_http_api_v2;
pub use rest::from_rest_request;

/// What an event says about the request, before any key is looked at. Borrows from the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts<'a> {
    /// The canonical target, or why the event's request cannot be put in canonical form.
    pub target: Result<RequestTarget, Malformed>,
    /// Every value the event gives for the signature header, as given; see
    /// [`RequestFacts::signature_values`].
    pub header_values: Result<Vec<Cow<'a, str>>, Malformed>,
    /// CloudFront's id for the request (`x-amz-cf-id`), for correlation; not signed. Only kept
    /// when it looks like one (short, visible ASCII): it is echoed into logs and the context.
    pub cf_request_id: Option<Cow<'a, str>>,
    /// API Gateway's request id.
    pub request_id: Option<Cow<'a, str>>,
    /// The stage name (`requestContext.stage`, `$default` for the default stage); HTTP API only,
    /// used to suggest a path-prefix fix when a signature fails (never to decide).
    pub stage: Option<Cow<'a, str>>,
    /// Method and path as given, for the decision log.
    pub method: Cow<'a, str>,
    pub path: Cow<'a, str>,
    /// What an IAM policy must name: `routeArn` (v2) or `methodArn` (REST).
    pub resource_arn: Cow<'a, str>,
}

impl RequestFacts<'_> {
    /// The signature header's values as the gateway delivered them (HTTP APIs: repeats already
    /// joined with `,`). The core picks the one value out of them, with the same rule for every
    /// verifier ([`originsig_core::single_header_value`]).
    pub fn signature_values(&self) -> impl Iterator<Item = &str> {
        self.header_values
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|value| value.as_ref())
    }

    /// An event of the right type that could not be read (a field of the wrong JSON type, a
    /// duplicated field, a lone surrogate): a deny with that reason, never an allow.
    fn unreadable() -> Self {
        RequestFacts {
            target: Err(Malformed::EventUnreadable),
            header_values: Err(Malformed::EventUnreadable),
            cf_request_id: None,
            request_id: None,
            stage: None,
            method: Cow::Borrowed(""),
            path: Cow::Borrowed(""),
            resource_arn: Cow::Borrowed(""),
        }
    }
}

/// The event is not the kind the configured response mode expects.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("wrong event type: {0}")]
pub struct WrongEventType(pub String);

/// Longest CloudFront request id kept for correlation (they are 56 characters).
const MAX_CF_REQUEST_ID_LEN: usize = 128;

fn plausible_cf_request_id(id: Cow<'_, str>) -> Option<Cow<'_, str>> {
    let plausible =
        (1..=MAX_CF_REQUEST_ID_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic());
    plausible.then_some(id)
}
