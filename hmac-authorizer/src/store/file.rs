//! A key-ring file as a store (SPEC.md §7), for the local chain: the same roles as Secrets
//! Manager's labels, plus two bookkeeping members the core parser ignores (`pending_token`,
//! `promoted_at`). Written atomically (temporary file + rename) with mode 0600.

use std::io::Write as _;
use std::path::PathBuf;

use originsig_core::{KeyRing, KeyRole, SigningKey, KEYRING_FORMAT};
use serde_json::{json, Value};

use super::{KeyStore, KeyVersion, StoreError};
use crate::timefmt::now_unix;

fn set(doc: &mut Value, member: &str, value: Value) -> Result<(), StoreError> {
    let object = doc
        .as_object_mut()
        .ok_or_else(|| StoreError::Invalid("the key file is not a JSON object".into()))?;
    object.insert(member.to_owned(), value);
    Ok(())
}

#[derive(Debug, Clone)]
pub struct KeyFileStore {
    path: PathBuf,
}

impl KeyFileStore {
    pub fn new(path: PathBuf) -> Self {
        KeyFileStore { path }
    }

    fn read(&self) -> Result<Value, StoreError> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::NotFound(format!("key file {}", self.path.display())),
            _ => StoreError::Aws(format!("{}: {e}", self.path.display())),
        })?;
        // Validate through the core parser first (it never quotes the value in errors).
        KeyRing::from_keyring_json(&text)
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", self.path.display())))?;
        serde_json::from_str(&text)
            .map_err(|_| StoreError::Invalid(format!("{}: not JSON", self.path.display())))
    }

    fn write(&self, doc: &Value) -> Result<(), StoreError> {
        let io = |e: std::io::Error| StoreError::Aws(format!("{}: {e}", self.path.display()));
        let tmp = self.path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(doc.to_string().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }

    fn stored(key: &SigningKey) -> Value {
        serde_json::from_str(&key.to_secret_value()).unwrap_or(Value::Null)
    }
}

impl KeyStore for KeyFileStore {
    fn describe(&self) -> String {
        format!("key file {}", self.path.display())
    }

    async fn create(&self, key: &SigningKey, _description: &str) -> Result<(), StoreError> {
        if self.path.exists() {
            return Err(StoreError::AlreadyExists(self.describe()));
        }
        self.write(&json!({"format": KEYRING_FORMAT, "current": Self::stored(key)}))
    }

    async fn versions(&self) -> Result<Vec<KeyVersion>, StoreError> {
        let doc = self.read()?;
        let mut out = Vec::new();
        for role in KeyRole::ALL {
            let Some(entry) = doc.get(role.as_str()).filter(|v| !v.is_null()) else {
                continue;
            };
            let version_id = match role {
                KeyRole::Pending => doc
                    .get("pending_token")
                    .and_then(Value::as_str)
                    .unwrap_or("pending")
                    .to_owned(),
                _ => role.as_str().to_owned(),
            };
            let created = match role {
                KeyRole::Pending => doc.get("pending_created").and_then(Value::as_u64),
                _ => None,
            };
            out.push(KeyVersion {
                version_id,
                labels: vec![role.staging_label().to_owned()],
                created,
                key: SigningKey::from_secret_value(&entry.to_string()),
            });
        }
        Ok(out)
    }

    async fn put_pending(&self, token: &str, key: &SigningKey) -> Result<(), StoreError> {
        let mut doc = self.read()?;
        if doc.get("pending_token").and_then(Value::as_str) == Some(token) {
            return Ok(());
        }
        set(&mut doc, "pending", Self::stored(key))?;
        set(&mut doc, "pending_token", json!(token))?;
        set(&mut doc, "pending_created", json!(now_unix()))?;
        self.write(&doc)
    }

    async fn promote(&self, token: &str) -> Result<(), StoreError> {
        let mut doc = self.read()?;
        if doc.get("pending_token").and_then(Value::as_str) != Some(token)
            || doc.get("pending").is_none_or(Value::is_null)
        {
            // Already promoted (idempotent) if the current key came from this token.
            if doc.get("current_token").and_then(Value::as_str) == Some(token) {
                return Ok(());
            }
            return Err(StoreError::Invalid(format!(
                "{}: no pending key with token {token}",
                self.describe()
            )));
        }
        let object = doc
            .as_object_mut()
            .ok_or_else(|| StoreError::Invalid("not an object".into()))?;
        let pending = object.remove("pending").unwrap_or(Value::Null);
        let current = object.insert("current".into(), pending).unwrap_or(Value::Null);
        object.insert("previous".into(), current);
        object.remove("pending_token");
        object.remove("pending_created");
        object.insert("current_token".into(), json!(token));
        self.write(&doc)
    }

    async fn last_promotion(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.read()?.get("promoted_at").and_then(Value::as_u64))
    }

    async fn record_promotion(&self, at: u64) -> Result<(), StoreError> {
        let mut doc = self.read()?;
        set(&mut doc, "promoted_at", json!(at))?;
        self.write(&doc)
    }
}
