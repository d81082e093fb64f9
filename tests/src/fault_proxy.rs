//! A fault-injecting HTTP proxy on 127.0.0.1 in front of a real moto server: each Secrets
//! Manager call (named by its `X-Amz-Target`, e.g. `secretsmanager.TagResource`) is passed,
//! delayed, dropped (the connection closes with no answer) or hung (no answer until the caller
//! gives up). Tests use it to show what every part does when Secrets Manager misbehaves; it is
//! not a model of AWS, only of a broken network path to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;

use crate::http::{client, proxy_to, serve_or_drop};

/// What happens to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    Delay(Duration),
    /// The connection is closed without an answer.
    Drop,
    /// No answer for an hour (callers must time out).
    Hang,
}

/// Faults by call; `None` applies to every call without its own.
#[derive(Debug, Clone, Default)]
pub struct FaultProxy {
    rules: Arc<Mutex<HashMap<Option<String>, Fault>>>,
    pub port: u16,
}

impl FaultProxy {
    /// Starts the proxy in front of `upstream` (`http://127.0.0.1:PORT`).
    pub async fn start(upstream: String) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let proxy = FaultProxy {
            rules: Arc::default(),
            port,
        };
        let rules = Arc::clone(&proxy.rules);
        let http = client();
        let upstream = Arc::new(upstream);
        serve_or_drop(listener, move |request| {
            let (rules, http, upstream) = (Arc::clone(&rules), http.clone(), Arc::clone(&upstream));
            async move {
                let target = request
                    .header("x-amz-target")
                    .map(|t| t.rsplit('.').next().unwrap_or(t).to_owned());
                let fault = {
                    let rules = rules.lock().unwrap_or_else(PoisonError::into_inner);
                    rules
                        .get(&target)
                        .or_else(|| rules.get(&None))
                        .copied()
                        .unwrap_or(Fault::Pass)
                };
                match fault {
                    Fault::Pass => {}
                    Fault::Delay(delay) => tokio::time::sleep(delay).await,
                    Fault::Hang => tokio::time::sleep(Duration::from_secs(3600)).await,
                    Fault::Drop => return Err(()),
                }
                Ok(proxy_to(&http, &upstream, &request).await)
            }
        });
        Ok(proxy)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sets the fault of one call (`Some("TagResource")`) or of every other call (`None`).
    pub fn set(&self, call: Option<&str>, fault: Fault) {
        self.rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(call.map(str::to_owned), fault);
    }

    /// Back to passing everything.
    pub fn clear(&self) {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}
