//! The server's options as plain data, built without the command line: the binary fills them
//! from flags and `EVO_BILLING_*` variables ([`crate::cli`]), tests and benchmarks write them
//! directly ([`Config::default`] reads nothing from the environment).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How much the server takes on at once, and how long it waits for slow clients.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests worked on at once.
    pub max_in_flight: usize,
    /// Requests waiting for a slot; more get 503 `ServerBusy` at once.
    pub max_queued: usize,
    /// The longest a request may wait for its answer to start (queue included).
    pub request_timeout: Duration,
    /// The longest a request body may take to arrive.
    pub body_timeout: Duration,
    /// The longest a client may take to send a request's headers (also an idle connection's
    /// next request).
    pub header_timeout: Duration,
    /// Open connections; `None`: as many as the file-descriptor limit allows, less a reserve.
    pub max_connections: Option<usize>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_in_flight: 64,
            max_queued: 512,
            request_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            max_connections: None,
        }
    }
}

/// Options of a running server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (used by `serve`; the public URL defaults to `http://` + this).
    pub listen: SocketAddr,
    /// Absolute URL clients reach this server at (download links in reports and emails).
    pub public_url: Option<String>,
    /// The built dashboard (index.html + assets); `None` or missing: a small placeholder page.
    pub static_dir: Option<PathBuf>,
    /// SMTP relay for report emails (`smtp://…`, `smtp+starttls://…`, `smtps://…`); `None`:
    /// emails go to the outbox table and the log.
    pub smtp_url: Option<String>,
    /// HMAC key that signs webhooks; `None`: a random key kept in the database.
    pub webhook_secret: Option<String>,
    /// Allow webhooks to private, loopback and link-local addresses (tests, on-premises).
    pub allow_private_webhooks: bool,
    /// Mark the session cookie `Secure` (serve behind HTTPS).
    pub secure_cookies: bool,
    /// Run the report worker in this process.
    pub run_worker: bool,
    /// This process's name in `ReportInfo.server` and on its leases; default `hostname:port`.
    /// Two running processes must not share a name: one that starts takes back what its name
    /// holds.
    pub server_name: Option<String>,
    /// Admission and timeouts.
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            static_dir: None,
            smtp_url: None,
            webhook_secret: None,
            allow_private_webhooks: false,
            secure_cookies: false,
            run_worker: true,
            server_name: None,
            limits: Limits::default(),
        }
    }
}

impl Config {
    /// The absolute base URL for links, without a trailing `/`.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_string()
    }
}
