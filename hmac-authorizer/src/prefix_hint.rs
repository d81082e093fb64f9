//! A hint for the operator when a signature fails because the edge and API Gateway disagree on
//! the path prefix: what API Gateway shows before the uri (a stage, a custom domain's mapping)
//! is a deployment fact the edge is configured with (`--gateway-path-prefix`, SPEC.md §4.2),
//! and behind a custom domain it is not confirmed by AWS documentation.
//!
//! Never used to decide: a request is allowed only for the path API Gateway gave. The hint only
//! names the setting to change, and is computed only after a `bad_signature` deny (two more
//! HMACs, on the deny path).

use originsig_core::{
    verify_accepting, AcceptV1, CanonicalPath, Freshness, KeyRing, RequestTarget, UnixSeconds,
};

/// What the signature would have verified for, and the setting that makes it verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixHint {
    /// The signature verifies for `rawPath` without its first segment: API Gateway shows that
    /// segment, the edge did not sign it.
    EdgeLacksSegment { segment: String },
    /// The signature verifies for `/{stage}` + `rawPath`: the edge signed the stage, API
    /// Gateway does not show it (typical behind a custom domain).
    EdgeAddsStage { stage: String },
    /// Neither verifies, and the request came through a custom domain (not `execute-api`):
    /// what API Gateway shows there is unconfirmed, so a wrong prefix is likely if every
    /// request fails this way. Not verified: a forgery on a custom domain looks the same.
    CustomDomainUnverified { domain: String },
}

impl PrefixHint {
    /// The text logged as the deny's `hint` field.
    pub fn message(&self) -> String {
        match self {
            PrefixHint::EdgeLacksSegment { segment } => format!(
                "the signature verifies for the path without its first segment '{segment}': API Gateway shows \
                 '{segment}' before the uri and the edge did not sign it; rebuild the edge bundle with \
                 --gateway-path-prefix ending in '{segment}' (check with `originsig doctor`)"
            ),
            PrefixHint::EdgeAddsStage { stage } => format!(
                "the signature verifies for '/{stage}' + rawPath: the edge signs the stage '/{stage}' but API \
                 Gateway does not show it here (a custom domain with an API mapping?); rebuild the edge bundle \
                 with --gateway-path-prefix set to what API Gateway shows, often '' (check with `originsig doctor`)"
            ),
            PrefixHint::CustomDomainUnverified { domain } => format!(
                "not verified: this request came through the custom domain '{domain}'; if every request through \
                 CloudFront is denied like this, the edge signs another path prefix than API Gateway shows behind \
                 the domain: run `originsig doctor` and rebuild the edge bundle with the --gateway-path-prefix it names"
            ),
        }
    }
}

/// Tries the likely prefix mismatches for an HTTP API `raw_path` whose signature failed.
pub fn prefix_hint(
    header_value: &str,
    target: &RequestTarget,
    raw_path: &str,
    stage: Option<&str>,
    ring: &KeyRing,
    freshness: &Freshness,
    now: UnixSeconds,
) -> Option<PrefixHint> {
    let verifies_for = |path: &str| {
        CanonicalPath::from_decoded(path).is_ok_and(|path| {
            let candidate = RequestTarget {
                path,
                ..target.clone()
            };
            // Reached only after a `bad_signature`, so the header's version already passed the
            // authorizer's accept-v1 policy; the hint must not judge it again.
            verify_accepting(header_value, &candidate, ring, freshness, now, AcceptV1::All).is_ok()
        })
    };
    if let Some(rest) = raw_path.strip_prefix('/') {
        // '/' is ASCII, so its index is a char boundary.
        let (segment, tail) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
        if !segment.is_empty() && verifies_for(tail) {
            return Some(PrefixHint::EdgeLacksSegment {
                segment: format!("/{segment}"),
            });
        }
    }
    if let Some(stage) = stage.filter(|s| !s.is_empty() && *s != "$default") {
        if verifies_for(&format!("/{stage}{raw_path}")) {
            return Some(PrefixHint::EdgeAddsStage {
                stage: stage.to_owned(),
            });
        }
    }
    let domain = target.host.as_str();
    let execute_api = domain.contains(".execute-api.") && domain.ends_with(".amazonaws.com");
    (!execute_api).then(|| PrefixHint::CustomDomainUnverified {
        domain: domain.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use originsig_core::{sign, ApiKind, KeyId, SigningKey};

    fn ring() -> KeyRing {
        KeyRing::single(SigningKey::new(KeyId::new("k").unwrap(), vec![1; 32]).unwrap())
    }

    fn signed_for(path: &str) -> String {
        let target =
            RequestTarget::from_edge("GET", "api.example.com", "", path, "", ApiKind::HttpApi).unwrap();
        sign(&target, ring().signing_key(), UnixSeconds::new(100)).render()
    }

    fn hint(signed_path: &str, raw_path: &str, stage: Option<&str>) -> Option<PrefixHint> {
        let target = RequestTarget::from_gateway("GET", "api.example.com", raw_path, "").unwrap();
        let header = signed_for(signed_path);
        prefix_hint(
            &header,
            &target,
            raw_path,
            stage,
            &ring(),
            &Freshness::default(),
            UnixSeconds::new(100),
        )
    }

    /// A line break inside a string literal without its `\` keeps the next line's indentation
    /// in the log text: every hint is one sentence with single spaces.
    #[test]
    fn every_hint_is_one_line_with_single_spaces() {
        let hints = [
            PrefixHint::EdgeLacksSegment {
                segment: "/v1".into(),
            },
            PrefixHint::EdgeAddsStage { stage: "prod".into() },
            PrefixHint::CustomDomainUnverified {
                domain: "api.example.com".into(),
            },
        ];
        for hint in hints {
            let message = hint.message();
            assert!(!message.contains("  "), "runs of spaces: {message}");
            assert!(!message.contains(['\n', '\t']), "line break or tab: {message}");
        }
    }

    #[test]
    fn names_the_segment_the_edge_did_not_sign() {
        assert_eq!(
            hint("/orders/1", "/prod/orders/1", Some("prod")),
            Some(PrefixHint::EdgeLacksSegment {
                segment: "/prod".into()
            })
        );
        assert_eq!(
            hint("/", "/prod", Some("prod")),
            Some(PrefixHint::EdgeLacksSegment {
                segment: "/prod".into()
            })
        );
    }

    #[test]
    fn names_the_stage_the_edge_signed_but_the_api_does_not_show() {
        assert_eq!(
            hint("/prod/orders", "/orders", Some("prod")),
            Some(PrefixHint::EdgeAddsStage { stage: "prod".into() })
        );
        assert!(!matches!(
            hint("/$default/orders", "/orders", Some("$default")),
            Some(PrefixHint::EdgeAddsStage { .. })
        ));
    }

    #[test]
    fn a_custom_domain_gets_only_an_unverified_hint() {
        assert_eq!(
            hint("/other", "/prod/orders", Some("prod")),
            Some(PrefixHint::CustomDomainUnverified {
                domain: "api.example.com".into()
            })
        );
    }

    #[test]
    fn no_hint_for_a_forgery_or_another_path_on_execute_api() {
        let api = "abc.execute-api.us-east-1.amazonaws.com";
        let target = RequestTarget::from_gateway("GET", api, "/prod/orders", "").unwrap();
        let other = sign(
            &RequestTarget::from_edge("GET", api, "", "/other", "", ApiKind::HttpApi).unwrap(),
            ring().signing_key(),
            UnixSeconds::new(100),
        )
        .render();
        let none = prefix_hint(
            &other,
            &target,
            "/prod/orders",
            Some("prod"),
            &ring(),
            &Freshness::default(),
            UnixSeconds::new(100),
        );
        assert_eq!(none, None);
        let target = RequestTarget::from_gateway("GET", api, "/prod/x", "").unwrap();
        let forged = "v1;t=100;k=k;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let none = prefix_hint(
            forged,
            &target,
            "/prod/x",
            Some("prod"),
            &ring(),
            &Freshness::default(),
            UnixSeconds::new(100),
        );
        assert_eq!(none, None);
    }
}
