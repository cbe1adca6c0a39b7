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
    /// Browser origins (`scheme://host[:port]`, as [`cors_origin`] writes them) allowed to call
    /// the API cross-origin, with credentials. Empty (the default): no CORS headers at all.
    pub cors_origins: Vec<String>,
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
            cors_origins: Vec::new(),
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

/// Checks a CORS origin and writes it as a browser sends it in `Origin`: `http` or `https`, a
/// host, an optional port; lower case; no path, query, credentials or wildcard; the scheme's
/// default port dropped (`https://a.example:443` is `https://a.example`).
pub fn cors_origin(text: &str) -> Result<String, String> {
    let t = text.trim();
    let bad = |why: &str| {
        Err(format!(
            "'{t}' is not an origin (scheme://host[:port]): {why}"
        ))
    };
    let Some((scheme, authority)) = t.split_once("://") else {
        return bad("no scheme");
    };
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return bad("the scheme must be http or https"),
    };
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    if authority.contains(['/', '?', '#']) {
        return bad("an origin has no path, query or fragment");
    }
    if authority.contains('@') {
        return bad("an origin has no credentials");
    }
    let (host, port) = match authority.rsplit_once(':') {
        // An IPv6 literal's colons are inside its brackets.
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (authority, None),
    };
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host
                .split('.')
                .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    if !host_ok {
        return bad("the host is not a host name or an IP address");
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => {
                (p != default_port).then(|| n.to_string())
            }
            _ => return bad("the port must be a number from 1 to 65535"),
        },
    };
    let host = host.to_ascii_lowercase();
    Ok(match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::cors_origin;

    #[test]
    fn cors_origins_are_checked_and_normalized() {
        for (given, origin) in [
            ("http://127.0.0.1:5173", "http://127.0.0.1:5173"),
            ("HTTPS://App.Example.com", "https://app.example.com"),
            ("https://app.example.com:443", "https://app.example.com"),
            ("http://localhost:80/", "http://localhost"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            (" http://a-b.example:8443 ", "http://a-b.example:8443"),
        ] {
            assert_eq!(cors_origin(given).as_deref(), Ok(origin), "{given}");
        }
        for bad in [
            "",
            "*",
            "127.0.0.1:5173",
            "ftp://example.com",
            "http://",
            "http://example.com/app",
            "http://example.com?x=1",
            "http://user@example.com",
            "http://example.com:0",
            "http://example.com:65536",
            "http://example.com:+80",
            "http://exa mple.com",
            "http://*.example.com",
            "http://[::1",
        ] {
            assert!(cors_origin(bad).is_err(), "{bad:?} accepted");
        }
    }
}
