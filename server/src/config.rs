//! The server's options as plain data, built without the command line: the binary fills them
//! from flags and `EVO_BILLING_*` variables ([`crate::cli`]), tests and benchmarks write them
//! directly ([`Config::default`] reads nothing from the environment).

use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// This process's name in `ReportInfo.server`; default `HOSTNAME:pid`.
    pub server_name: Option<String>,
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
