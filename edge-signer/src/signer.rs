//! Signing one origin request: what the Lambda@Edge function does to every request.
//!
//! Split in two so the WASM build and the native build share every decision:
//! [`plan_signing`] looks at a borrowed view of the request and returns a [`SigningPlan`]
//! (the header value, the host, which header names to drop); applying a plan is mechanical,
//! done by [`SigningPlan::apply_to`] natively and by `node/index.mjs` at the edge.

use originsig_core::{sign, Malformed, RequestTarget, SigningKey, UnixSeconds, HEADER_NAME};
use thiserror::Error;

use crate::cloudfront::{HeaderEntry, Request};

/// Why a request was not signed. The handler answers with a generated response, never by
/// forwarding the request unsigned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EdgeError {
    /// S3 origin, or no origin at all: there is no HTTP API to sign for. A deployment mistake.
    #[error(
        "the request has no custom origin (an S3 origin or none); the signer only signs for custom origins"
    )]
    NotCustomOrigin,
    /// The request cannot be put in canonical form, so it could never verify.
    #[error("the request cannot be signed: {0}")]
    Unsignable(#[from] Malformed),
    /// The input was not an origin request.
    #[error("the input is not a CloudFront origin request")]
    BadEvent,
    /// No usable key was loaded.
    #[error("no signing key is loaded")]
    NoKey,
}

impl EdgeError {
    /// Stable code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            EdgeError::NotCustomOrigin => "not_custom_origin",
            EdgeError::Unsignable(_) => "unsignable",
            EdgeError::BadEvent => "bad_event",
            EdgeError::NoKey => "no_key",
        }
    }
}

/// `key` CloudFront shows for our header (the map key is always the lowercase name).
pub const HEADER_DISPLAY_NAME: &str = "X-Originsig";

/// Which origin a request is bound for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginView<'a> {
    Custom { domain_name: &'a str, path: &'a str },
    S3,
    Missing,
}

/// The parts of an origin request that signing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginRequestView<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub querystring: &'a str,
    pub origin: OriginView<'a>,
    /// The keys of the request's header map.
    pub header_names: Vec<&'a str>,
}

impl<'a> OriginRequestView<'a> {
    pub fn of(request: &'a Request) -> Self {
        let origin = match &request.origin {
            Some(origin) => match (&origin.custom, &origin.s3) {
                (Some(custom), _) => OriginView::Custom {
                    domain_name: &custom.domain_name,
                    path: &custom.path,
                },
                (None, Some(_)) => OriginView::S3,
                (None, None) => OriginView::Missing,
            },
            None => OriginView::Missing,
        };
        OriginRequestView {
            method: &request.method,
            uri: &request.uri,
            querystring: &request.querystring,
            origin,
            header_names: request.headers.keys().map(String::as_str).collect(),
        }
    }
}

/// What to do to a request to sign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningPlan {
    /// Value of the `x-originsig` header to add.
    pub signature: String,
    /// Value of the `host` header to set: the origin's domain name.
    pub host: String,
    /// Header-map keys to delete first: every casing of `x-originsig` (viewer-supplied values
    /// are never trusted, never forwarded) and of `host` (replaced by the origin's).
    pub remove_headers: Vec<String>,
}

/// Decides how to sign a request for its custom origin at time `now`. It signs what the origin
/// will receive: method, origin domain, origin path + uri, and query.
pub fn plan_signing(
    request: &OriginRequestView<'_>,
    key: &SigningKey,
    now: UnixSeconds,
) -> Result<SigningPlan, EdgeError> {
    let OriginView::Custom { domain_name, path } = request.origin else {
        return Err(EdgeError::NotCustomOrigin);
    };
    if domain_name.is_empty() {
        return Err(EdgeError::NotCustomOrigin);
    }
    let target = RequestTarget::from_edge(
        request.method,
        domain_name,
        path,
        request.uri,
        request.querystring,
    )?;
    let replaced = |name: &str| name.eq_ignore_ascii_case(HEADER_NAME) || name.eq_ignore_ascii_case("host");
    Ok(SigningPlan {
        signature: sign(&target, key, now).render(),
        host: domain_name.to_owned(),
        remove_headers: request
            .header_names
            .iter()
            .filter(|n| replaced(n))
            .map(|n| (*n).to_owned())
            .collect(),
    })
}

impl SigningPlan {
    /// Applies the plan: drop the listed headers, set `host`, add the signature header. Every
    /// other header, the body, the origin and unknown fields are left as they were.
    pub fn apply_to(self, request: &mut Request) {
        for name in &self.remove_headers {
            request.headers.remove(name);
        }
        request
            .headers
            .insert("host".to_owned(), vec![HeaderEntry::new("Host", &self.host)]);
        request.headers.insert(
            HEADER_NAME.to_owned(),
            vec![HeaderEntry::new(HEADER_DISPLAY_NAME, &self.signature)],
        );
    }
}

/// Signs `request` in place (plan, then apply). On error the request is untouched.
pub fn sign_origin_request(
    request: &mut Request,
    key: &SigningKey,
    now: UnixSeconds,
) -> Result<(), EdgeError> {
    let plan = plan_signing(&OriginRequestView::of(request), key, now)?;
    plan.apply_to(request);
    Ok(())
}
