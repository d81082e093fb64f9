//! Signing one origin request: every decision the Lambda@Edge function makes about a request.
//!
//! [`plan_signing`] looks at a borrowed view of the request and returns a [`SigningPlan`] (the
//! header value, the host, which header names to drop). Applying a plan is mechanical and is
//! done by `node/index.mjs`, the code that runs at the edge; the Node tests check the result on
//! the real bundle.

use originsig_core::{sign, ApiKind, Malformed, RequestTarget, SigningKey, UnixSeconds, HEADER_NAME};
use thiserror::Error;

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
    /// The request cannot be put in canonical form, or the API would not deliver it as sent
    /// (cut at a decoded `?`, or rejected with 400), so it could never verify.
    #[error("the request cannot be signed: {0}")]
    Unsignable(#[from] Malformed),
    /// The input was not an origin request of the documented shape.
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

    /// The finer reason for logs: the malformed sub-code of an unsignable request (e.g.
    /// `path_truncated`), else the code itself.
    pub fn detail_code(&self) -> &'static str {
        match self {
            EdgeError::Unsignable(malformed) => malformed.code(),
            other => other.code(),
        }
    }
}

/// Which origin a request is bound for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginView<'a> {
    Custom { domain_name: &'a str, path: &'a str },
    S3,
    Missing,
}

/// What API Gateway shows before the `uri` in the path it hands its authorizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathPrefix<'a> {
    /// CloudFront's origin path: right for an `execute-api` origin, whose origin path is the
    /// stage (`/prod`, or nothing for `$default`).
    #[default]
    OriginPath,
    /// A fixed prefix, for origins where API Gateway shows something else than the origin path
    /// (a custom domain with an API mapping: SPEC.md §4.2).
    Fixed(&'a str),
}

/// How the deployment's API presents requests: set once per bundle (config.json).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SigningOptions<'a> {
    pub api: ApiKind,
    pub path_prefix: PathPrefix<'a>,
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

/// Decides how to sign a request for its custom origin at time `now`. It signs what the API
/// will present to its authorizer: method, origin domain, the path as the API will have
/// decoded it (path prefix + uri), and the query.
pub fn plan_signing(
    request: &OriginRequestView<'_>,
    options: &SigningOptions<'_>,
    key: &SigningKey,
    now: UnixSeconds,
) -> Result<SigningPlan, EdgeError> {
    let OriginView::Custom { domain_name, path } = request.origin else {
        return Err(EdgeError::NotCustomOrigin);
    };
    if domain_name.is_empty() {
        return Err(EdgeError::NotCustomOrigin);
    }
    let prefix = match options.path_prefix {
        PathPrefix::OriginPath => path,
        PathPrefix::Fixed(prefix) => prefix,
    };
    let target = RequestTarget::from_edge(
        request.method,
        domain_name,
        prefix,
        request.uri,
        request.querystring,
        options.api,
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

#[cfg(test)]
mod tests {
    use super::*;
    use originsig_core::KeyId;

    fn key() -> SigningKey {
        SigningKey::new(KeyId::new("k1").unwrap(), vec![7; 32]).unwrap()
    }

    fn view<'a>(uri: &'a str, origin_path: &'a str) -> OriginRequestView<'a> {
        OriginRequestView {
            method: "GET",
            uri,
            querystring: "",
            origin: OriginView::Custom {
                domain_name: "api.example.com",
                path: origin_path,
            },
            header_names: vec!["host", "X-Originsig", "accept"],
        }
    }

    #[test]
    fn the_prefix_option_replaces_the_origin_path_in_what_is_signed() {
        let now = UnixSeconds::new(1);
        let fixed = SigningOptions {
            api: ApiKind::HttpApi,
            path_prefix: PathPrefix::Fixed(""),
        };
        let by_option = plan_signing(&view("/items", "/v1"), &fixed, &key(), now).unwrap();
        let without_origin_path =
            plan_signing(&view("/items", ""), &SigningOptions::default(), &key(), now).unwrap();
        assert_eq!(by_option.signature, without_origin_path.signature);
        let with_origin_path =
            plan_signing(&view("/items", "/v1"), &SigningOptions::default(), &key(), now).unwrap();
        assert_ne!(with_origin_path.signature, by_option.signature);
        assert_eq!(by_option.remove_headers, ["host", "X-Originsig"]);
    }

    #[test]
    fn requests_the_http_api_would_cut_or_reject_are_refused() {
        let now = UnixSeconds::new(1);
        for (uri, code) in [("/a%3Fb", "path_truncated"), ("/100%25", "path_rejected")] {
            let error = plan_signing(&view(uri, ""), &SigningOptions::default(), &key(), now).unwrap_err();
            assert_eq!((error.code(), error.detail_code()), ("unsignable", code));
        }
        let rest = SigningOptions {
            api: ApiKind::RestApi,
            path_prefix: PathPrefix::OriginPath,
        };
        assert!(plan_signing(&view("/100%25", ""), &rest, &key(), now).is_ok());
    }
}
