//! The request facts that are signed: method, host, canonical path, canonical query.
//!
//! Two constructors per part, one per side of the wire, so the edge (CloudFront, which sees the
//! path as the viewer sent it) and the authorizer (API Gateway HTTP API, which reports `rawPath`
//! already percent-decoded) reach the same canonical bytes. See SPEC.md §4–§5.

use std::borrow::Cow;

use crate::canonical::Version;
use crate::error::Malformed;
use crate::percent;

/// Upper bound on a raw path or query input. CloudFront caps uri + query at 8,192 characters;
/// twice that leaves room for an origin path and still bounds the work per request.
pub const MAX_TARGET_PART_LEN: usize = 16 * 1024;

/// HTTP method: 1 to 16 ASCII uppercase letters, compared exactly (methods are case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Method(String);

impl Method {
    /// Validates a method.
    pub fn new(method: &str) -> Result<Self, Malformed> {
        let valid = (1..=16).contains(&method.len()) && method.bytes().all(|b| b.is_ascii_uppercase());
        if valid {
            Ok(Method(method.to_owned()))
        } else {
            Err(Malformed::Method)
        }
    }

    /// The method as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The origin's host name: ASCII-lowercased, one trailing dot removed, no port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Host(String);

impl Host {
    /// Validates and lowercases a host name.
    pub fn new(host: &str) -> Result<Self, Malformed> {
        let host = host.strip_suffix('.').unwrap_or(host);
        let valid = (1..=253).contains(&host.len())
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if valid {
            Ok(Host(host.to_ascii_lowercase()))
        } else {
            Err(Malformed::Host)
        }
    }

    /// The host as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which kind of API Gateway API the origin is, which decides how the path reaches its
/// authorizer (SPEC.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ApiKind {
    /// HTTP API (payload 2.0): `rawPath` is the path percent-decoded **twice**, and the request
    /// is cut at a `?` that the first decoding produces. Captured from real HTTP APIs.
    #[default]
    HttpApi,
    /// REST API (payload 1.0): the path keeps the viewer's encoding; the verifier decodes it
    /// once.
    RestApi,
}

impl ApiKind {
    /// The name used in bundle options and test vectors: `http_api` or `rest_api`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKind::HttpApi => "http_api",
            ApiKind::RestApi => "rest_api",
        }
    }

    /// The inverse of [`ApiKind::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "http_api" => Some(ApiKind::HttpApi),
            "rest_api" => Some(ApiKind::RestApi),
            _ => None,
        }
    }
}

/// Canonical path: the path as the verifier will see it decoded, re-encoded (unreserved and
/// `/` literal, everything else `%XX`). No dot-segment removal, no slash merging; empty
/// becomes `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CanonicalPath(String);

impl CanonicalPath {
    /// Edge side: the path prefix API Gateway will show before `uri` (by default CloudFront's
    /// `origin.custom.path`) followed by `uri`, both as sent (percent-encoded), decoded as
    /// `api` will decode it:
    ///
    /// - [`ApiKind::HttpApi`]: decode once; a `?` in the result means the HTTP API would cut
    ///   the path there ([`Malformed::PathTruncated`]); decode the result again; a `%` that
    ///   does not start an escape at that point means the HTTP API would answer 400
    ///   ([`Malformed::PathRejected`]);
    /// - [`ApiKind::RestApi`]: decode once.
    ///
    /// The decoded bytes must be UTF-8 (API Gateway hands the path over as a JSON string).
    pub fn from_edge(path_prefix: &str, uri: &str, api: ApiKind) -> Result<Self, Malformed> {
        if path_prefix.len().saturating_add(uri.len()) > MAX_TARGET_PART_LEN {
            return Err(Malformed::TooLong);
        }
        let mut once = Vec::with_capacity(path_prefix.len() + uri.len());
        percent::decode_into(&mut once, path_prefix.as_bytes(), false)?;
        percent::decode_into(&mut once, uri.as_bytes(), false)?;
        let decoded = match api {
            ApiKind::RestApi => once,
            ApiKind::HttpApi => {
                if once.contains(&b'?') {
                    return Err(Malformed::PathTruncated);
                }
                if !once.contains(&b'%') {
                    once // the second decoding would change nothing
                } else {
                    let mut twice = Vec::with_capacity(once.len());
                    percent::decode_into(&mut twice, &once, false).map_err(|_| Malformed::PathRejected)?;
                    twice
                }
            }
        };
        let decoded = String::from_utf8(decoded).map_err(|_| Malformed::PathNotUtf8)?;
        Self::from_decoded(&decoded)
    }

    /// REST API verifier side: `requestContext.path`, still percent-encoded, decoded once.
    pub fn from_rest_path(path: &str) -> Result<Self, Malformed> {
        Self::from_edge("", path, ApiKind::RestApi)
    }

    /// HTTP API verifier side: `rawPath` as API Gateway gives it (already decoded, stage
    /// prefix included). Not decoded again: a `%` here is a literal percent sign.
    pub fn from_decoded(path: &str) -> Result<Self, Malformed> {
        if path.len() > MAX_TARGET_PART_LEN {
            return Err(Malformed::TooLong);
        }
        if path.is_empty() {
            return Ok(CanonicalPath("/".to_owned()));
        }
        if !path.starts_with('/') {
            return Err(Malformed::PathNotAbsolute);
        }
        let mut canonical = String::with_capacity(path.len() + 16);
        percent::encode_into(&mut canonical, path.as_bytes(), true);
        Ok(CanonicalPath(canonical))
    }

    /// The canonical path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Canonical query: `&`-separated pairs, empty pairs dropped, each split at its first `=` (a
/// missing `=` means an empty value), key and value decoded (`+` is a space) and re-encoded
/// (no literal `/`), then ordered and joined as `k=v` with `&` (SPEC.md §5):
///
/// - **v2**: stably sorted bytewise by encoded key only, so the values of a repeated key keep
///   the order they were sent in (`?role=admin&role=user` and `?role=user&role=admin` differ,
///   as they do to a first-wins or last-wins parser);
/// - **v1**: sorted by encoded key, then by encoded value (the order of repeated values is not
///   bound). Kept only to verify v1 signatures where the policy allows them.
///
/// When no key repeats, both orders are the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CanonicalQuery {
    /// The v2 rendering.
    v2: String,
    /// The v1 rendering, only when it differs from the v2 one.
    v1: Option<String>,
    /// Some encoded key appears more than once.
    repeats_key: bool,
}

impl CanonicalQuery {
    /// Both CloudFront `querystring` and API Gateway `rawQueryString` arrive still encoded, so
    /// one constructor serves both sides. No leading `?`.
    pub fn from_raw(raw: &str) -> Result<Self, Malformed> {
        if raw.len() > MAX_TARGET_PART_LEN {
            return Err(Malformed::TooLong);
        }
        let mut pairs = Vec::new();
        for pair in raw.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            pairs.push((recode(key)?, recode(value)?));
        }
        Ok(Self::ordered(pairs))
    }

    /// For gateways that hand over the query already decoded (REST API REQUEST authorizers:
    /// `multiValueQueryStringParameters`, each key's values in the order sent). Same result as
    /// [`CanonicalQuery::from_raw`] on the raw query those pairs were decoded from.
    pub fn from_decoded_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Malformed> {
        let mut encoded = Vec::new();
        let mut total = 0usize;
        for (key, value) in pairs {
            total = total
                .saturating_add(key.len())
                .saturating_add(value.len())
                .saturating_add(2);
            if total > MAX_TARGET_PART_LEN {
                return Err(Malformed::TooLong);
            }
            if key.is_empty() && value.is_empty() {
                continue;
            }
            encoded.push((encode(key.as_bytes()), encode(value.as_bytes())));
        }
        Ok(Self::ordered(encoded))
    }

    /// Orders encoded pairs by both versions' rules. Keys and values are compared apart: '='
    /// sorts below some unreserved characters and above others.
    fn ordered(mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)>) -> Self {
        // Stable: equal keys keep their relative (sent) order.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let v2 = join(&pairs);
        let repeats_key = pairs.windows(2).any(|w| matches!(w, [a, b] if a.0 == b.0));
        let v1 = if repeats_key {
            pairs.sort_unstable();
            Some(join(&pairs)).filter(|v1| *v1 != v2)
        } else {
            None
        };
        CanonicalQuery { v2, v1, repeats_key }
    }

    /// The canonical query of the current version (v2), as text.
    pub fn as_str(&self) -> &str {
        &self.v2
    }

    /// The canonical query under `version`'s rule.
    pub fn for_version(&self, version: Version) -> &str {
        match version {
            Version::V1 => self.v1.as_deref().unwrap_or(&self.v2),
            Version::V2 => &self.v2,
        }
    }

    /// Whether some key appears more than once (after normalisation): then a v1 signature does
    /// not bind the order of its values, and could be replayed with them reordered.
    pub fn repeats_key(&self) -> bool {
        self.repeats_key
    }
}

/// Joins encoded pairs as `k=v` with `&`.
fn join(pairs: &[(Cow<'_, str>, Cow<'_, str>)]) -> String {
    let len = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut canonical = String::with_capacity(len);
    for (index, (key, value)) in pairs.iter().enumerate() {
        if index > 0 {
            canonical.push('&');
        }
        canonical.push_str(key);
        canonical.push('=');
        canonical.push_str(value);
    }
    canonical
}

/// A raw query key or value, decoded and re-encoded. Most are already canonical (unreserved
/// characters only), and those are borrowed as they are: decoding then encoding them is the
/// identity.
fn recode(raw: &str) -> Result<Cow<'_, str>, Malformed> {
    if raw.bytes().all(percent::is_unreserved) {
        return Ok(Cow::Borrowed(raw));
    }
    let mut decoded = Vec::with_capacity(raw.len());
    percent::decode_into(&mut decoded, raw.as_bytes(), true)?;
    Ok(Cow::Owned(encode(&decoded).into_owned()))
}

/// Canonical encoding of decoded bytes (no literal `/`), borrowed when nothing changes.
fn encode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) if bytes.iter().copied().all(percent::is_unreserved) => Cow::Borrowed(text),
        _ => {
            let mut encoded = String::with_capacity(bytes.len() * 3);
            percent::encode_into(&mut encoded, bytes, false);
            Cow::Owned(encoded)
        }
    }
}

/// Everything about a request that a signature covers, already canonical.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestTarget {
    /// Method, as sent.
    pub method: Method,
    /// The host the request was sent to.
    pub host: Host,
    /// The path as the API presents it, canonical.
    pub path: CanonicalPath,
    /// The query, canonical.
    pub query: CanonicalQuery,
}

impl RequestTarget {
    /// The edge's view: what CloudFront will send to the custom origin, and how `api` will
    /// present it to its authorizer (see [`CanonicalPath::from_edge`]).
    pub fn from_edge(
        method: &str,
        origin_domain: &str,
        path_prefix: &str,
        uri: &str,
        querystring: &str,
        api: ApiKind,
    ) -> Result<Self, Malformed> {
        Ok(RequestTarget {
            method: Method::new(method)?,
            host: Host::new(origin_domain)?,
            path: CanonicalPath::from_edge(path_prefix, uri, api)?,
            query: CanonicalQuery::from_raw(querystring)?,
        })
    }

    /// The authorizer's view of an HTTP API request (payload 2.0): `requestContext.http.method`,
    /// `requestContext.domainName`, `rawPath` (decoded) and `rawQueryString`.
    pub fn from_gateway(
        method: &str,
        domain_name: &str,
        raw_path: &str,
        raw_query_string: &str,
    ) -> Result<Self, Malformed> {
        Ok(RequestTarget {
            method: Method::new(method)?,
            host: Host::new(domain_name)?,
            path: CanonicalPath::from_decoded(raw_path)?,
            query: CanonicalQuery::from_raw(raw_query_string)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_and_gateway_paths_agree() {
        let cases = [
            ("/prod", "/caf%C3%A9/a%20b", "/prod/café/a b"),
            ("", "/a%2Fb", "/a/b"),
            ("", "/a+b", "/a+b"),
            ("", "/a%2Bb", "/a+b"),
            ("", "/100%2525", "/100%"),
            ("", "/a%252Fb", "/a/b"),
            ("", "/a%253Fb", "/a?b"),
            ("/v1", "/", "/v1/"),
            ("", "/a/../b/", "/a/../b/"),
        ];
        for (origin, uri, raw_path) in cases {
            assert_eq!(
                CanonicalPath::from_edge(origin, uri, ApiKind::HttpApi).unwrap(),
                CanonicalPath::from_decoded(raw_path).unwrap(),
                "{origin}{uri} vs {raw_path}"
            );
        }
    }

    #[test]
    fn rest_paths_are_decoded_once() {
        for (uri, rest_path) in [
            ("/a%252Fb", "/a%252Fb"),
            ("/100%25", "/100%25"),
            ("/a%3Fb", "/a%3fb"),
        ] {
            assert_eq!(
                CanonicalPath::from_edge("", uri, ApiKind::RestApi).unwrap(),
                CanonicalPath::from_rest_path(rest_path).unwrap(),
                "{uri}"
            );
        }
    }

    #[test]
    fn path_errors() {
        let http = |uri| CanonicalPath::from_edge("", uri, ApiKind::HttpApi);
        assert_eq!(http("/%FF"), Err(Malformed::PathNotUtf8));
        assert_eq!(http("/%25FF"), Err(Malformed::PathNotUtf8));
        assert_eq!(http("/%G0"), Err(Malformed::PercentEncoding));
        assert_eq!(http("/100%25"), Err(Malformed::PathRejected));
        assert_eq!(http("/a%3Fb"), Err(Malformed::PathTruncated));
        assert_eq!(http("/a%3fb"), Err(Malformed::PathTruncated));
        assert_eq!(
            CanonicalPath::from_edge("", "/100%25", ApiKind::RestApi)
                .unwrap()
                .as_str(),
            "/100%25"
        );
        assert_eq!(CanonicalPath::from_decoded("a"), Err(Malformed::PathNotAbsolute));
        assert_eq!(CanonicalPath::from_decoded("").unwrap().as_str(), "/");
    }

    #[test]
    fn query_sorts_and_normalises() {
        let q = CanonicalQuery::from_raw("b=2&a=1&a=0&c&&d=x+y%2bz&e=%7e").unwrap();
        assert_eq!(q.as_str(), "a=1&a=0&b=2&c=&d=x%20y%2Bz&e=~");
        assert_eq!(q.for_version(Version::V2), q.as_str());
        assert_eq!(q.for_version(Version::V1), "a=0&a=1&b=2&c=&d=x%20y%2Bz&e=~");
        assert!(q.repeats_key());
        assert_eq!(CanonicalQuery::from_raw("").unwrap().as_str(), "");
        // Key order wins over the value even when '=' would sort differently.
        assert_eq!(CanonicalQuery::from_raw("a-=1&a=2").unwrap().as_str(), "a=2&a-=1");
    }

    #[test]
    fn v2_keeps_the_sent_order_of_repeated_values_and_v1_does_not() {
        let sent = CanonicalQuery::from_raw("role=admin&x=1&role=user").unwrap();
        let swapped = CanonicalQuery::from_raw("x=1&role=user&role=admin").unwrap();
        assert_eq!(sent.as_str(), "role=admin&role=user&x=1");
        assert_eq!(swapped.as_str(), "role=user&role=admin&x=1");
        assert_eq!(sent.for_version(Version::V1), swapped.for_version(Version::V1));
        // Keys repeat after normalisation too (`%61` is `a`).
        let encoded = CanonicalQuery::from_raw("a=2&%61=1").unwrap();
        assert!(encoded.repeats_key());
        assert_eq!(encoded.as_str(), "a=2&a=1");
        assert_eq!(encoded.for_version(Version::V1), "a=1&a=2");
        let unique = CanonicalQuery::from_raw("b=1&a=2").unwrap();
        assert!(!unique.repeats_key());
        assert_eq!(unique.for_version(Version::V1), unique.as_str());
    }

    #[test]
    fn decoded_pairs_match_the_raw_query() {
        let raw = "b=2&a=1&a=0&c&&d=x+y%2bz&e=%7e&f=%2F";
        let decoded = [
            ("a", "1"),
            ("a", "0"),
            ("b", "2"),
            ("c", ""),
            ("d", "x y+z"),
            ("e", "~"),
            ("f", "/"),
        ];
        assert_eq!(
            CanonicalQuery::from_decoded_pairs(decoded).unwrap(),
            CanonicalQuery::from_raw(raw).unwrap()
        );
    }

    #[test]
    fn host_and_method() {
        assert_eq!(Host::new("API.Example.COM.").unwrap().as_str(), "api.example.com");
        assert_eq!(Host::new("a.b:443"), Err(Malformed::Host));
        assert_eq!(Method::new("get"), Err(Malformed::Method));
    }
}
