//! A real moto server (`moto_server`, from the test venv) on 127.0.0.1, stopped on drop.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    pub port: u16,
}

impl MotoServer {
    /// `MOTO_SERVER` or `.venv/bin/moto_server` (the test command creates the venv).
    pub fn binary() -> PathBuf {
        std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::repo::root().join(".venv/bin/moto_server"))
    }

    /// Starts moto on a free port. The port is chosen here, then released for moto to bind, so
    /// another listener (a test's emulator binding port 0 at that moment) can take it first:
    /// moto then exits and the port answers for someone else. So a server counts as started only
    /// when moto itself answers (`/moto-api/`, served by Werkzeug); otherwise a new port is tried.
    pub fn start() -> std::io::Result<Self> {
        const ATTEMPTS: usize = 5;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match Self::start_once() {
                Ok(server) => return Ok(server),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("moto_server did not start")))
    }

    fn start_once() -> std::io::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(Self::binary())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "{}: {e} (run tests/run-all.sh once to create the venv)",
                        Self::binary().display()
                    ),
                )
            })?;
        let mut server = MotoServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !server.answers_as_moto() {
            if Instant::now() > deadline || server.child.try_wait()?.is_some() {
                return Err(std::io::Error::other(format!(
                    "moto_server did not start on port {port}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    /// Whether this server's port answers as moto does (Werkzeug serving `/moto-api/`).
    fn answers_as_moto(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = format!(
            "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 512];
        let Ok(read) = stream.read(&mut head) else {
            return false;
        };
        let head = String::from_utf8_lossy(head.get(..read).unwrap_or_default());
        head.starts_with("HTTP/1.1 200") && head.contains("Werkzeug")
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment that points any AWS SDK at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", self.endpoint()),
            ("AWS_ENDPOINT_URL_APIGATEWAYV2", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            // boto3 reads this one rather than AWS_REGION.
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.stop();
    }
}
