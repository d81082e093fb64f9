//! A key-ring file as a store (SPEC.md §7), for the local chain: the same roles as Secrets
//! Manager's labels, plus bookkeeping members the core parser ignores (`pending_token`,
//! `pending_created`, `current_token`, `promoted_at`). Written atomically (temporary file +
//! rename), the file being mode 0600 after every write (even when a stale temporary file or the
//! umask would say otherwise).
//!
//! Key members are kept as their JSON text in buffers that are wiped on drop, and the file is
//! written by hand from them: a `serde_json::Value` would scatter copies of the keys in memory.

use std::io::Write as _;
use std::path::PathBuf;

use originsig_core::{KeyRing, KeyRole, SigningKey, KEYRING_FORMAT};
use serde::Deserialize;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use super::{ring_from_labels, KeyStore, KeyVersion, LabelValue, ReadRing, StoreError};
use crate::clock::now_unix;

/// The file as read: members borrowed from the text.
#[derive(Deserialize)]
struct Document<'a> {
    format: String,
    #[serde(borrow, default)]
    current: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pending: Option<&'a RawValue>,
    #[serde(borrow, default)]
    previous: Option<&'a RawValue>,
    #[serde(default)]
    pending_token: Option<String>,
    #[serde(default)]
    pending_created: Option<u64>,
    #[serde(default)]
    current_token: Option<String>,
    #[serde(default)]
    promoted_at: Option<u64>,
}

/// The file's content, owned, with each key member as wiped-on-drop JSON text.
#[derive(Default)]
struct KeyFile {
    current: Option<Zeroizing<String>>,
    pending: Option<Zeroizing<String>>,
    previous: Option<Zeroizing<String>>,
    pending_token: Option<String>,
    pending_created: Option<u64>,
    current_token: Option<String>,
    promoted_at: Option<u64>,
}

fn member(raw: Option<&RawValue>) -> Option<Zeroizing<String>> {
    raw.filter(|raw| raw.get() != "null")
        .map(|raw| Zeroizing::new(raw.get().to_owned()))
}

fn parsed(member: &Option<Zeroizing<String>>) -> LabelValue {
    member.as_deref().map(|text| SigningKey::from_secret_value(text))
}

impl KeyFile {
    fn to_json(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(1024));
        out.push_str("{\"format\":\"");
        out.push_str(KEYRING_FORMAT);
        out.push('"');
        for (name, value) in [
            ("current", &self.current),
            ("pending", &self.pending),
            ("previous", &self.previous),
        ] {
            if let Some(value) = value {
                out.push_str(&format!(",\"{name}\":"));
                out.push_str(value);
            }
        }
        let text = |value: &str| serde_json::Value::from(value).to_string();
        for (name, value) in [
            ("pending_token", self.pending_token.as_deref().map(text)),
            ("pending_created", self.pending_created.map(|v| v.to_string())),
            ("current_token", self.current_token.as_deref().map(text)),
            ("promoted_at", self.promoted_at.map(|v| v.to_string())),
        ] {
            if let Some(value) = value {
                out.push_str(&format!(",\"{name}\":{value}"));
            }
        }
        out.push('}');
        out
    }
}

#[derive(Debug, Clone)]
pub struct KeyFileStore {
    path: PathBuf,
}

impl KeyFileStore {
    pub fn new(path: PathBuf) -> Self {
        KeyFileStore { path }
    }

    fn file_error(&self, problem: impl std::fmt::Display) -> StoreError {
        StoreError::File {
            path: self.path.display().to_string(),
            problem: problem.to_string(),
        }
    }

    fn read(&self) -> Result<KeyFile, StoreError> {
        let text = Zeroizing::new(std::fs::read_to_string(&self.path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::NotFound {
                what: self.location(),
            },
            _ => self.file_error(e),
        })?);
        // serde's message could quote the text: replaced by a fixed one.
        let doc: Document<'_> = serde_json::from_str(&text)
            .map_err(|_| self.file_error("not a key-ring file (a JSON object with format and current)"))?;
        if doc.format != KEYRING_FORMAT {
            return Err(self.file_error(format!("format is not {KEYRING_FORMAT}")));
        }
        Ok(KeyFile {
            current: member(doc.current),
            pending: member(doc.pending),
            previous: member(doc.previous),
            pending_token: doc.pending_token,
            pending_created: doc.pending_created,
            current_token: doc.current_token,
            promoted_at: doc.promoted_at,
        })
    }

    /// Writes the whole file: a temporary file next to it, then a rename. The mode given at
    /// `open` applies only when the file is created, so a temporary file left over from an
    /// interrupted write (with whatever mode it had) is removed first, and the mode is set
    /// again on the open handle before any key byte is written: the file is 0600 after every
    /// write, whatever was there before.
    fn write(&self, file: &KeyFile) -> Result<(), StoreError> {
        let tmp = self.path.with_extension("tmp");
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(self.file_error(e)),
            _ => {}
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut handle = options.open(&tmp).map_err(|e| self.file_error(e))?;
        #[cfg(unix)]
        handle
            .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(|e| self.file_error(e))?;
        handle
            .write_all(file.to_json().as_bytes())
            .and_then(|()| handle.sync_all())
            .map_err(|e| self.file_error(e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.file_error(e))
    }
}

impl ReadRing for KeyFileStore {
    fn location(&self) -> String {
        format!("key file {}", self.path.display())
    }

    async fn read_ring(&self) -> Result<KeyRing, StoreError> {
        let file = self.read()?;
        ring_from_labels(
            &self.location(),
            parsed(&file.current),
            parsed(&file.pending),
            parsed(&file.previous),
        )
    }
}

impl KeyStore for KeyFileStore {
    async fn create(&self, key: &SigningKey, _description: &str) -> Result<(), StoreError> {
        if self.path.exists() {
            return Err(StoreError::AlreadyExists {
                what: self.location(),
            });
        }
        self.write(&KeyFile {
            current: Some(key.to_secret_value()),
            ..KeyFile::default()
        })
    }

    async fn versions(&self) -> Result<Vec<KeyVersion>, StoreError> {
        let file = self.read()?;
        let mut out = Vec::new();
        for (role, value) in [
            (KeyRole::Current, &file.current),
            (KeyRole::Pending, &file.pending),
            (KeyRole::Previous, &file.previous),
        ] {
            let Some(key) = parsed(value) else { continue };
            let (version_id, created) = match role {
                KeyRole::Pending => (
                    file.pending_token
                        .clone()
                        .unwrap_or_else(|| role.as_str().to_owned()),
                    file.pending_created,
                ),
                _ => (role.as_str().to_owned(), None),
            };
            out.push(KeyVersion {
                version_id,
                labels: vec![role.staging_label().to_owned()],
                created,
                key,
            });
        }
        Ok(out)
    }

    async fn put_pending(&self, token: &str, key: &SigningKey) -> Result<(), StoreError> {
        let mut file = self.read()?;
        if file.pending_token.as_deref() == Some(token) {
            return Ok(());
        }
        file.pending = Some(key.to_secret_value());
        file.pending_token = Some(token.to_owned());
        file.pending_created = Some(now_unix());
        self.write(&file)
    }

    async fn promote(&self, token: &str) -> Result<(), StoreError> {
        let mut file = self.read()?;
        if file.pending_token.as_deref() != Some(token) || file.pending.is_none() {
            // Already promoted (idempotent) if the current key came from this token.
            if file.current_token.as_deref() == Some(token) {
                return Ok(());
            }
            return Err(self.file_error(format!("no pending key with token {token}")));
        }
        file.previous = file.current.take();
        file.current = file.pending.take();
        file.pending_token = None;
        file.pending_created = None;
        file.current_token = Some(token.to_owned());
        self.write(&file)
    }

    async fn last_promotion(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.read()?.promoted_at)
    }

    async fn record_promotion(&self, at: u64) -> Result<(), StoreError> {
        let mut file = self.read()?;
        file.promoted_at = Some(at);
        self.write(&file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use originsig_core::KeyId;

    fn key(id: &str, byte: u8) -> SigningKey {
        SigningKey::new(KeyId::new(id).unwrap(), vec![byte; 32]).unwrap()
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn every_write_leaves_the_file_0600() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("originsig-file-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.json");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let store = KeyFileStore::new(path.clone());
        store.create(&key("k1", 1), "").await.unwrap();
        assert_eq!(mode(&path), 0o600);
        // A world-readable temporary file left by an interrupted write, and a file made
        // readable by hand: the next write makes both 0600 again.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, "stale").unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        store.put_pending("t1", &key("k2", 2)).await.unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(!tmp.exists());
        store.promote("t1").await.unwrap();
        assert_eq!(mode(&path), 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_malformed_optional_member_is_left_out_and_a_malformed_current_fails() {
        let dir = std::env::temp_dir().join(format!("originsig-file-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.json");
        let good = key("k1", 1).to_secret_value();
        let text = format!(
            r#"{{"format":"{KEYRING_FORMAT}","current":{},"pending":{{"format":"originsig-key-v1","kid":"bad","key":"AAAA"}},"previous":null}}"#,
            good.as_str()
        );
        std::fs::write(&path, text).unwrap();
        let store = KeyFileStore::new(path.clone());
        let ring = store.read_ring().await.unwrap();
        assert_eq!(ring.entries().count(), 1);
        // One rule: the core's key-ring parser reads the same file the same way.
        let core = KeyRing::from_keyring_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let ids = |ring: &KeyRing| {
            ring.entries()
                .map(|(_, k)| k.id().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&core), ids(&ring));
        std::fs::write(&path, format!(r#"{{"format":"{KEYRING_FORMAT}","current":7}}"#)).unwrap();
        assert!(matches!(
            store.read_ring().await,
            Err(StoreError::Invalid {
                label: "AWSCURRENT",
                ..
            })
        ));
        assert!(KeyRing::from_keyring_json(&std::fs::read_to_string(&path).unwrap()).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
