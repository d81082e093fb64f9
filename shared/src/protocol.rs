//! Signing and verifying. Both take `now`; neither reads a clock.

use hmac::Mac as _;

use crate::canonical::{CanonicalRequest, Version};
use crate::error::{Malformed, UnsupportedVersion, VerifyError};
use crate::header::{SignatureHeader, MAX_HEADER_LEN};
use crate::key::{KeyId, SigningKey};
use crate::keyring::{KeyRing, KeyRole};
use crate::target::RequestTarget;
use crate::time::{Freshness, UnixSeconds};

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The protocol version of the signature.
    pub version: Version,
    /// The key that verified.
    pub key_id: KeyId,
    /// Its role in the ring.
    pub role: KeyRole,
    /// When it was signed.
    pub signed_at: UnixSeconds,
    /// `now - signed_at` in seconds; negative when the signer's clock is ahead.
    pub skew_secs: i64,
}

/// Which v1 signatures a verifier accepts (SPEC.md §6.1). v2 is always accepted.
///
/// A v1 signature does not bind the order of a repeated query key's values, so one made for
/// `?role=admin&role=user` also verifies for `?role=user&role=admin`. Where no key repeats, the
/// v1 and v2 canonical queries are the same and a v1 signature binds as much as a v2 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AcceptV1 {
    /// v1 only when no query key repeats (nothing to reorder). The default.
    #[default]
    Unambiguous,
    /// Every v1 signature, as before v2 (during an upgrade, when repeated keys matter).
    All,
    /// No v1 signature (once every signer emits v2).
    None,
}

impl AcceptV1 {
    /// Every policy, in the order they are documented.
    pub const ALL: [AcceptV1; 3] = [AcceptV1::Unambiguous, AcceptV1::All, AcceptV1::None];

    /// The policy's name in configuration: `unambiguous`, `all` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            AcceptV1::Unambiguous => "unambiguous",
            AcceptV1::All => "all",
            AcceptV1::None => "none",
        }
    }

    /// The inverse of [`AcceptV1::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        AcceptV1::ALL.into_iter().find(|policy| policy.as_str() == name)
    }

    /// Whether a signature of `version` may be checked for `target` under this policy.
    fn admits(self, version: Version, target: &RequestTarget) -> Result<(), UnsupportedVersion> {
        match (version, self) {
            (Version::V2, _) | (Version::V1, AcceptV1::All) => Ok(()),
            (Version::V1, AcceptV1::None) => Err(UnsupportedVersion::V1NotAccepted),
            (Version::V1, AcceptV1::Unambiguous) if target.query.repeats_key() => {
                Err(UnsupportedVersion::V1RepeatedQueryKey)
            }
            (Version::V1, AcceptV1::Unambiguous) => Ok(()),
        }
    }
}

/// Signs `target` at time `now` with `key` under the current version ([`Version::CURRENT`]),
/// returning the header to attach.
pub fn sign(target: &RequestTarget, key: &SigningKey, now: UnixSeconds) -> SignatureHeader {
    sign_version(Version::CURRENT, target, key, now)
}

/// Signs under a given version. Signers use [`sign`]; this exists to check how verifiers
/// treat older signers (tests, the upgrade path).
pub fn sign_version(
    version: Version,
    target: &RequestTarget,
    key: &SigningKey,
    now: UnixSeconds,
) -> SignatureHeader {
    let canonical = CanonicalRequest {
        version,
        timestamp: now,
        key_id: key.id(),
        target,
    };
    SignatureHeader {
        version,
        timestamp: now,
        key_id: key.id().clone(),
        signature: canonical.mac_with(key).finalize().into_bytes().into(),
    }
}

/// Verifies one header value against `target` with the default accept-v1 policy
/// ([`AcceptV1::Unambiguous`]); see [`verify_accepting`].
pub fn verify(
    header_value: &str,
    target: &RequestTarget,
    ring: &KeyRing,
    freshness: &Freshness,
    now: UnixSeconds,
) -> Result<Verified, VerifyError> {
    verify_accepting(header_value, target, ring, freshness, now, AcceptV1::default())
}

/// Verifies one header value against `target`, accepting v1 signatures as `accept_v1` says.
///
/// Order: parse → version policy → key lookup → signature (constant time) → freshness.
/// Checking the signature before the clock means `Expired` and `FromTheFuture` are only ever
/// reported for genuine signatures, which tells an operator "replay or clock problem", not
/// "forgery". A refused v1 is `UnsupportedVersion` with the reason, before any key is used.
pub fn verify_accepting(
    header_value: &str,
    target: &RequestTarget,
    ring: &KeyRing,
    freshness: &Freshness,
    now: UnixSeconds,
    accept_v1: AcceptV1,
) -> Result<Verified, VerifyError> {
    let header = SignatureHeader::parse(header_value)?;
    accept_v1
        .admits(header.version, target)
        .map_err(VerifyError::UnsupportedVersion)?;
    let (role, key) = ring.find(header.key_id.as_str()).ok_or(VerifyError::UnknownKey)?;
    let canonical = CanonicalRequest {
        version: header.version,
        timestamp: header.timestamp,
        key_id: &header.key_id,
        target,
    };
    canonical
        .mac_with(key)
        .verify_slice(&header.signature)
        .map_err(|_| VerifyError::BadSignature)?;
    let skew_secs = check_freshness(header.timestamp, freshness, now)?;
    Ok(Verified {
        version: header.version,
        key_id: header.key_id,
        role,
        signed_at: header.timestamp,
        skew_secs,
    })
}

/// Verifies the values of the signature header as the gateway delivered them: one string per
/// header line, or (HTTP APIs) the lines already joined with `,`. See [`single_header_value`].
pub fn verify_header_values<'a>(
    values: impl IntoIterator<Item = &'a str>,
    target: &RequestTarget,
    ring: &KeyRing,
    freshness: &Freshness,
    now: UnixSeconds,
) -> Result<Verified, VerifyError> {
    verify(single_header_value(values)?, target, ring, freshness, now)
}

/// The one signature header value among those a request delivered, in SPEC.md §6's order:
///
/// 1. any delivered value longer than [`MAX_HEADER_LEN`] bytes → `header_too_long` (before any
///    other work, whitespace included in the count);
/// 2. no value → `missing`;
/// 3. more than one value, or a `,` in the value → `duplicate_header`: HTTP APIs join repeated
///    headers with `,`, and no value of any version contains one, so a comma means "sent more than once";
///    several values are refused, never tried in turn;
/// 4. spaces and tabs around the value (HTTP's optional whitespace, which any hop may keep or
///    drop) are removed; what is left empty → `missing`.
///
/// Whitespace inside the value is left for the strict grammar to refuse.
pub fn single_header_value<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<&'a str, VerifyError> {
    let mut first = None;
    let mut count = 0usize;
    let mut too_long = false;
    for value in values {
        too_long |= value.len() > MAX_HEADER_LEN;
        count = count.saturating_add(1);
        first.get_or_insert(value);
    }
    if too_long {
        return Err(Malformed::HeaderTooLong.into());
    }
    let value = first.ok_or(VerifyError::Missing)?;
    if count > 1 || value.contains(',') {
        return Err(Malformed::DuplicateHeader.into());
    }
    let value = value.trim_matches([' ', '\t']);
    if value.is_empty() {
        return Err(VerifyError::Missing);
    }
    Ok(value)
}

fn check_freshness(
    signed_at: UnixSeconds,
    freshness: &Freshness,
    now: UnixSeconds,
) -> Result<i64, VerifyError> {
    let (signed, now) = (signed_at.as_secs(), now.as_secs());
    if now >= signed {
        let age_secs = now - signed;
        if age_secs > freshness.max_age_secs {
            return Err(VerifyError::Expired {
                age_secs,
                window_secs: freshness.max_age_secs,
            });
        }
        Ok(i64::try_from(age_secs).unwrap_or(i64::MAX))
    } else {
        let ahead_secs = signed - now;
        if ahead_secs > freshness.max_future_secs {
            return Err(VerifyError::FromTheFuture {
                ahead_secs,
                bound_secs: freshness.max_future_secs,
            });
        }
        Ok(i64::try_from(ahead_secs).map(|ahead| -ahead).unwrap_or(i64::MIN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, byte: u8) -> SigningKey {
        SigningKey::new(KeyId::new(id).unwrap(), vec![byte; 32]).unwrap()
    }

    fn target() -> RequestTarget {
        RequestTarget::from_edge(
            "GET",
            "api.example.com",
            "/prod",
            "/items/1",
            "b=2&a=1",
            crate::ApiKind::HttpApi,
        )
        .unwrap()
    }

    #[test]
    fn sign_then_verify_on_the_gateway_side() {
        let ring = KeyRing::new(key("cur", 1), Some(key("pen", 2)), Some(key("old", 3))).unwrap();
        let header = sign(
            &target(),
            ring.get(KeyRole::Previous).unwrap(),
            UnixSeconds::new(1000),
        );
        let gateway =
            RequestTarget::from_gateway("GET", "API.example.com", "/prod/items/1", "a=1&b=2").unwrap();
        let verified = verify(
            &header.render(),
            &gateway,
            &ring,
            &Freshness::default(),
            UnixSeconds::new(1010),
        )
        .unwrap();
        assert_eq!(verified.role, KeyRole::Previous);
        assert_eq!(verified.skew_secs, 10);
    }

    #[test]
    fn v1_is_accepted_as_the_policy_says() {
        let ring = KeyRing::single(key("cur", 1));
        let target_with = |query| RequestTarget::from_gateway("GET", "api.example.com", "/", query).unwrap();
        let unique = target_with("b=1&a=2");
        let repeated = target_with("role=admin&role=user");
        let swapped = target_with("role=user&role=admin");
        let run = |header: &SignatureHeader, target: &RequestTarget, policy| {
            verify_accepting(
                &header.render(),
                target,
                &ring,
                &Freshness::default(),
                UnixSeconds::new(1000),
                policy,
            )
        };
        let at = UnixSeconds::new(1000);
        let v1_unique = sign_version(Version::V1, &unique, ring.signing_key(), at);
        let v1_repeated = sign_version(Version::V1, &repeated, ring.signing_key(), at);
        let v2_repeated = sign(&repeated, ring.signing_key(), at);
        assert!(v2_repeated.render().starts_with("v2;"));
        let refused = |why| Err(VerifyError::UnsupportedVersion(why));
        // unambiguous (the default): v1 only where there is no order to replay.
        assert_eq!(
            run(&v1_unique, &unique, AcceptV1::Unambiguous).unwrap().version,
            Version::V1
        );
        assert_eq!(
            run(&v1_repeated, &repeated, AcceptV1::Unambiguous),
            refused(UnsupportedVersion::V1RepeatedQueryKey)
        );
        assert_eq!(
            run(&v1_repeated, &swapped, AcceptV1::Unambiguous),
            refused(UnsupportedVersion::V1RepeatedQueryKey)
        );
        // all: v1 as before, reordered replay included (what the policy name says).
        assert!(run(&v1_repeated, &repeated, AcceptV1::All).is_ok());
        assert!(run(&v1_repeated, &swapped, AcceptV1::All).is_ok());
        // none: no v1 at all.
        assert_eq!(
            run(&v1_unique, &unique, AcceptV1::None),
            refused(UnsupportedVersion::V1NotAccepted)
        );
        // v2 binds the order, whatever the policy.
        for policy in AcceptV1::ALL {
            assert_eq!(run(&v2_repeated, &repeated, policy).unwrap().version, Version::V2);
            assert_eq!(
                run(&v2_repeated, &swapped, policy),
                Err(VerifyError::BadSignature)
            );
        }
        // A v1 header never verifies as v2 nor the reverse: the tag is signed.
        let relabelled = v1_unique.render().replacen("v1;", "v2;", 1);
        assert_eq!(
            verify(&relabelled, &unique, &ring, &Freshness::default(), at),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn freshness_bounds_are_inclusive() {
        let ring = KeyRing::single(key("cur", 1));
        let value = sign(&target(), ring.signing_key(), UnixSeconds::new(1000)).render();
        let at = |now| {
            verify(
                &value,
                &target(),
                &ring,
                &Freshness::default(),
                UnixSeconds::new(now),
            )
        };
        assert!(at(1060).is_ok());
        assert_eq!(
            at(1061),
            Err(VerifyError::Expired {
                age_secs: 61,
                window_secs: 60
            })
        );
        assert_eq!(at(995).unwrap().skew_secs, -5);
        assert_eq!(
            at(994),
            Err(VerifyError::FromTheFuture {
                ahead_secs: 6,
                bound_secs: 5
            })
        );
    }

    #[test]
    fn forged_stale_header_is_bad_signature_not_expired() {
        let ring = KeyRing::single(key("cur", 1));
        let forged = sign(&target(), &key("cur", 9), UnixSeconds::new(1)).render();
        assert_eq!(
            verify(
                &forged,
                &target(),
                &ring,
                &Freshness::default(),
                UnixSeconds::new(5000)
            ),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn header_counts() {
        let ring = KeyRing::single(key("cur", 1));
        let value = sign(&target(), ring.signing_key(), UnixSeconds::new(1000)).render();
        let run = |values: &[&str]| {
            verify_header_values(
                values.iter().copied(),
                &target(),
                &ring,
                &Freshness::default(),
                UnixSeconds::new(1000),
            )
        };
        assert_eq!(run(&[]), Err(VerifyError::Missing));
        assert!(run(&[&value]).is_ok());
        let duplicate = Err(VerifyError::Malformed(Malformed::DuplicateHeader));
        assert_eq!(run(&[&value, &value]), duplicate);
        assert_eq!(run(&[&format!("{value},{value}")]), duplicate);
        assert_eq!(run(&[&format!("{value}, ")]), duplicate);
        // Optional whitespace around the value is not part of it; inside, it is malformed.
        assert!(run(&[&format!(" \t{value} ")]).is_ok());
        assert_eq!(run(&[" \t "]), Err(VerifyError::Missing));
        assert_eq!(run(&[""]), Err(VerifyError::Missing));
        assert_eq!(
            run(&[&value.replace(";k=", "; k=")]),
            Err(VerifyError::Malformed(Malformed::HeaderSyntax))
        );
        // Length is checked first, on the value as delivered, whitespace included.
        let too_long = Err(VerifyError::Malformed(Malformed::HeaderTooLong));
        assert_eq!(run(&[&format!("{}{value}", " ".repeat(300))]), too_long);
        assert_eq!(run(&[&value, &"x".repeat(300)]), too_long);
        assert_eq!(run(&[&format!("{value},{}", "x".repeat(300))]), too_long);
    }
}
