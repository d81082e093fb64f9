//! The key ring: the keys an originsig deployment knows, by Secrets Manager staging label.
//! AWSCURRENT signs; AWSCURRENT, AWSPENDING and AWSPREVIOUS all verify (SPEC.md §7).

use serde::Deserialize;

use crate::error::KeyError;
use crate::key::SigningKey;

/// Format tag of a key-ring file (the local stand-in for the three secret versions).
pub const KEYRING_FORMAT: &str = "originsig-keyring-v1";

/// Which staging label a key was found under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// `AWSCURRENT`: signs and verifies.
    Current,
    /// `AWSPENDING`: verifies (the next key, known before it signs).
    Pending,
    /// `AWSPREVIOUS`: verifies (the key before, still used by caches).
    Previous,
}

impl KeyRole {
    /// The three roles, current first.
    pub const ALL: [KeyRole; 3] = [KeyRole::Current, KeyRole::Pending, KeyRole::Previous];

    /// The Secrets Manager staging label of the role.
    pub fn staging_label(self) -> &'static str {
        match self {
            KeyRole::Current => "AWSCURRENT",
            KeyRole::Pending => "AWSPENDING",
            KeyRole::Previous => "AWSPREVIOUS",
        }
    }

    /// The role's name in key-ring files and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Current => "current",
            KeyRole::Pending => "pending",
            KeyRole::Previous => "previous",
        }
    }
}

/// A current key plus optional pending and previous keys. Key ids are unique within a ring,
/// except that one key may carry several labels (same id, same bytes).
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: SigningKey,
    pending: Option<SigningKey>,
    previous: Option<SigningKey>,
}

impl KeyRing {
    /// A ring from its keys; refuses two roles sharing a key id with different bytes.
    pub fn new(
        current: SigningKey,
        pending: Option<SigningKey>,
        previous: Option<SigningKey>,
    ) -> Result<Self, KeyError> {
        let ring = KeyRing {
            current,
            pending,
            previous,
        };
        let keys: Vec<&SigningKey> = ring.entries().map(|(_, key)| key).collect();
        for (index, a) in keys.iter().enumerate() {
            for b in keys.iter().skip(index + 1) {
                if a.id() == b.id() && !a.same_secret(b) {
                    return Err(KeyError::ConflictingKeyId(a.id().to_string()));
                }
            }
        }
        Ok(ring)
    }

    /// A ring holding just one key (what an edge signer needs).
    pub fn single(current: SigningKey) -> Self {
        KeyRing {
            current,
            pending: None,
            previous: None,
        }
    }

    /// The key that signs: AWSCURRENT.
    pub fn signing_key(&self) -> &SigningKey {
        &self.current
    }

    /// The key in `role`, if any.
    pub fn get(&self, role: KeyRole) -> Option<&SigningKey> {
        match role {
            KeyRole::Current => Some(&self.current),
            KeyRole::Pending => self.pending.as_ref(),
            KeyRole::Previous => self.previous.as_ref(),
        }
    }

    /// Every key with its role, current first.
    pub fn entries(&self) -> impl Iterator<Item = (KeyRole, &SigningKey)> {
        KeyRole::ALL
            .into_iter()
            .filter_map(|role| self.get(role).map(|key| (role, key)))
    }

    /// Looks a key up by id. Key ids are public, so this need not be constant time.
    pub fn find(&self, key_id: &str) -> Option<(KeyRole, &SigningKey)> {
        self.entries().find(|(_, key)| key.id().as_str() == key_id)
    }

    /// Parses a key-ring file:
    /// `{"format":"originsig-keyring-v1","current":{key},"pending":{key}?,"previous":{key}?}`
    /// where each `{key}` is in the secret-value format, by SPEC.md §7's per-label rule
    /// ([`KeyRing::from_labels`]): a malformed optional member is left out, a malformed `current`
    /// refuses the file. Readers that report what was left out use [`KeyRingMembers::parse`]
    /// and [`KeyRing::from_labels`] themselves.
    pub fn from_keyring_json(value: &str) -> Result<Self, KeyError> {
        let members = KeyRingMembers::parse(value)?;
        KeyRing::from_labels(Some(members.current), members.pending, members.previous)
            .map(|labelled| labelled.ring)
            .map_err(|refused| refused.problem)
    }

    /// SPEC.md §7's rule for the keys found under the three labels, the same for every key
    /// source (a key-ring file, Secrets Manager): `None` is an absent label. No `current`, or
    /// a malformed one, refuses the ring; a malformed `pending` or `previous` is left out and
    /// reported in [`LabelledRing::left_out`]; two labels sharing an id with different keys
    /// refuse the ring.
    pub fn from_labels(
        current: Option<Result<SigningKey, KeyError>>,
        pending: Option<Result<SigningKey, KeyError>>,
        previous: Option<Result<SigningKey, KeyError>>,
    ) -> Result<LabelledRing, RingRefused> {
        let current = current
            .unwrap_or(Err(KeyError::Shape("a current key")))
            .map_err(|problem| RingRefused {
                role: Some(KeyRole::Current),
                problem,
            })?;
        let mut left_out = Vec::new();
        let mut optional = |role: KeyRole, value: Option<Result<SigningKey, KeyError>>| match value {
            Some(Err(problem)) => {
                left_out.push((role, problem));
                None
            }
            other => other.and_then(Result::ok),
        };
        let pending = optional(KeyRole::Pending, pending);
        let previous = optional(KeyRole::Previous, previous);
        let ring = KeyRing::new(current, pending, previous)
            .map_err(|problem| RingRefused { role: None, problem })?;
        Ok(LabelledRing { ring, left_out })
    }

    /// Renders the ring as a key-ring file. Used only to write one (local chain, tests).
    pub fn to_keyring_json(&self) -> zeroize::Zeroizing<String> {
        let mut out = zeroize::Zeroizing::new(String::with_capacity(64 + 3 * 160));
        out.push_str("{\"format\":\"");
        out.push_str(KEYRING_FORMAT);
        out.push('"');
        for (role, key) in self.entries() {
            out.push_str(",\"");
            out.push_str(role.as_str());
            out.push_str("\":");
            out.push_str(&key.to_secret_value());
        }
        out.push('}');
        out
    }
}

/// A ring built by [`KeyRing::from_labels`], with the optional members it left out.
#[derive(Debug)]
#[non_exhaustive]
pub struct LabelledRing {
    /// The usable ring.
    pub ring: KeyRing,
    /// Malformed optional members, left out of the ring (for a warning).
    pub left_out: Vec<(KeyRole, KeyError)>,
}

/// Why [`KeyRing::from_labels`] refused a ring: the label at fault (`None`: the ring as a whole,
/// two labels in conflict) and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RingRefused {
    /// `Some(Current)` for a missing or malformed current key; `None` for a conflict.
    pub role: Option<KeyRole>,
    /// What was wrong.
    pub problem: KeyError,
}

/// The members of a key-ring file, each parsed on its own, so that a reader can apply SPEC.md
/// §7's rule per label (a malformed optional member is left out, not the whole file). The
/// members are borrowed from the text while parsed: no copy of a key is made on the way.
#[derive(Debug)]
#[non_exhaustive]
pub struct KeyRingMembers {
    /// `current`: required.
    pub current: Result<SigningKey, KeyError>,
    /// `pending`, `previous`: `None` when absent or `null`.
    pub pending: Option<Result<SigningKey, KeyError>>,
    /// `previous`: `None` when absent or `null`.
    pub previous: Option<Result<SigningKey, KeyError>>,
}

impl KeyRingMembers {
    /// Parses the document's shape and format tag (errors there refuse the whole file), then each
    /// member.
    pub fn parse(value: &str) -> Result<Self, KeyError> {
        #[derive(Deserialize)]
        struct Members<'a> {
            format: String,
            #[serde(borrow)]
            current: Option<&'a serde_json::value::RawValue>,
            #[serde(borrow, default)]
            pending: Option<&'a serde_json::value::RawValue>,
            #[serde(borrow, default)]
            previous: Option<&'a serde_json::value::RawValue>,
        }
        let members: Members<'_> = serde_json::from_str(value).map_err(|_| {
            KeyError::Shape("a JSON object with format, current and optional pending/previous keys")
        })?;
        if members.format != KEYRING_FORMAT {
            return Err(KeyError::Format {
                expected: KEYRING_FORMAT,
            });
        }
        let member = |raw: Option<&serde_json::value::RawValue>| {
            raw.filter(|raw| raw.get() != "null")
                .map(|raw| SigningKey::from_secret_value(raw.get()))
        };
        Ok(KeyRingMembers {
            current: member(members.current).unwrap_or(Err(KeyError::Shape("a current key"))),
            pending: member(members.pending),
            previous: member(members.previous),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeyId;

    fn key(id: &str, byte: u8) -> SigningKey {
        SigningKey::new(KeyId::new(id).unwrap(), vec![byte; 32]).unwrap()
    }

    #[test]
    fn lookup_by_id_and_role() {
        let ring = KeyRing::new(key("c", 1), Some(key("p", 2)), Some(key("o", 3))).unwrap();
        assert_eq!(ring.find("p").unwrap().0, KeyRole::Pending);
        assert_eq!(ring.find("o").unwrap().0, KeyRole::Previous);
        assert!(ring.find("x").is_none());
        assert_eq!(ring.signing_key().id().as_str(), "c");
    }

    #[test]
    fn conflicting_ids_are_rejected_but_shared_labels_are_fine() {
        assert!(KeyRing::new(key("c", 1), Some(key("c", 2)), None).is_err());
        assert!(KeyRing::new(key("c", 1), Some(key("c", 1)), None).is_ok());
    }

    #[test]
    fn a_malformed_optional_member_is_left_out_and_a_malformed_current_refuses_the_file() {
        let good = key("c", 1).to_secret_value();
        let bad = r#"{"format":"originsig-key-v1","kid":"bad","key":"AAAA"}"#;
        let doc = |current: &str, pending: &str| {
            format!(
                r#"{{"format":"{KEYRING_FORMAT}","current":{current},"pending":{pending},"previous":null}}"#
            )
        };
        let ring = KeyRing::from_keyring_json(&doc(&good, bad)).unwrap();
        assert_eq!(ring.entries().count(), 1);
        assert_eq!(ring.signing_key().id().as_str(), "c");
        assert!(KeyRing::from_keyring_json(&doc(bad, &good)).is_err());
        let members = KeyRingMembers::parse(&doc(&good, bad)).unwrap();
        let labelled =
            KeyRing::from_labels(Some(members.current), members.pending, members.previous).unwrap();
        assert_eq!(labelled.left_out.len(), 1);
        assert_eq!(labelled.left_out[0].0, KeyRole::Pending);
        let refused = KeyRing::from_labels(None, None, None).unwrap_err();
        assert_eq!(refused.role, Some(KeyRole::Current));
    }

    #[test]
    fn keyring_file_round_trip() {
        let ring = KeyRing::new(key("c", 1), None, Some(key("o", 3))).unwrap();
        let parsed = KeyRing::from_keyring_json(&ring.to_keyring_json()).unwrap();
        assert!(parsed.get(KeyRole::Pending).is_none());
        assert!(parsed.get(KeyRole::Previous).unwrap().same_secret(&key("o", 3)));
        assert!(KeyRing::from_keyring_json("{}").is_err());
    }
}
