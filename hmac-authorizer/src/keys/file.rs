//! Keys from a key-ring file (SPEC.md §7): the local chain and tests.

use std::path::PathBuf;

use originsig_core::KeyRing;

use super::{FetchError, RingFetcher};

#[derive(Debug, Clone)]
pub struct FileFetcher {
    path: PathBuf,
}

impl FileFetcher {
    pub fn new(path: PathBuf) -> Self {
        FileFetcher { path }
    }
}

impl RingFetcher for FileFetcher {
    async fn fetch(&self) -> Result<KeyRing, FetchError> {
        let text = tokio::fs::read_to_string(&self.path)
            .await
            .map_err(|e| FetchError::Unavailable(format!("{}: {e}", self.path.display())))?;
        KeyRing::from_keyring_json(&text).map_err(|error| FetchError::Malformed {
            label: "key file",
            error,
        })
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}
