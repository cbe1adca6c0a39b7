//! Signed, guarded, retried webhook delivery.
//!
//! When a billing report ends, the `webhookUrl` of its request receives a POST of JSON. This
//! module makes that safe to offer to callers:
//!
//! - **Guarded.** The target must be `http` or `https`. Its host is resolved once, and if any of
//!   its addresses is private, loopback, link-local, CGNAT, multicast, reserved or a documentation
//!   range ([`is_forbidden_ip`]), nothing is sent unless the operator allowed private targets.
//!   The connection is then pinned to the addresses that were checked (a DNS answer that changes
//!   between the check and the connect cannot redirect it), no proxy is used and redirects are
//!   not followed.
//! - **Signed.** `X-Evo-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, with
//!   the same `<unix>` in `X-Evo-Timestamp`; a receiver recomputes the HMAC over the raw body
//!   bytes it received ([`verify_signature`]) and rejects old timestamps.
//! - **Retried.** Network errors, timeouts, 429 and 5xx are retried with exponential backoff
//!   (doubled each time, ±20% jitter; a `Retry-After` of up to a minute is honoured); other
//!   answers are final. `X-Evo-Delivery` is the attempt number (1, 2, …).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::Rng;
use reqwest::Url;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The longest `Retry-After` a receiver can impose between two attempts.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How webhooks are sent.
#[derive(Clone)]
pub struct WebhookConfig {
    /// The HMAC key of the signature.
    pub secret: Vec<u8>,
    /// Allows private, loopback and link-local targets (tests, on-premises receivers).
    pub allow_private: bool,
    /// Per attempt, from connecting to the end of the response (default 10 s).
    pub timeout: Duration,
    /// Attempts in all, the first included (default 5).
    pub max_attempts: u32,
    /// Wait before the second attempt, doubled for each next one, ±20% jitter (default 1 s).
    pub initial_backoff: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            secret: Vec::new(),
            allow_private: false,
            timeout: Duration::from_secs(10),
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
        }
    }
}

impl WebhookConfig {
    /// The defaults, with this secret.
    pub fn with_secret(secret: impl Into<Vec<u8>>) -> Self {
        WebhookConfig {
            secret: secret.into(),
            ..WebhookConfig::default()
        }
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("secret", &"<redacted>")
            .field("allow_private", &self.allow_private)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .finish()
    }
}

/// Sends webhooks (cheap to share: keep one).
#[derive(Debug, Clone)]
pub struct WebhookSender {
    config: WebhookConfig,
}

/// A delivered webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Attempts made, the successful one included.
    pub attempts: u32,
    /// The receiver's (2xx) status.
    pub status: u16,
}

/// Why a webhook was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The target is not allowed (private, loopback, link-local, …): nothing was sent.
    #[error("webhook target not allowed: {0}")]
    Forbidden(String),
    /// The URL is not an absolute http(s) URL with a host.
    #[error("invalid webhook URL: {0}")]
    InvalidUrl(String),
    /// Every attempt failed, or the receiver gave a final (non-retryable) answer.
    #[error("webhook delivery failed after {attempts} attempt(s): {last}")]
    Failed { attempts: u32, last: String },
}

/// `t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>." + body)>`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// What a receiver does: checks an `X-Evo-Signature` header against the raw body, in constant
/// time. Returns the signed timestamp when one of the header's `v1` signatures matches (the
/// caller should reject timestamps too far from now, to stop replays).
pub fn verify_signature(secret: &[u8], header: &str, body: &[u8]) -> Option<i64> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => candidates.push(sig),
            _ => {}
        }
    }
    let timestamp = timestamp?;
    candidates.into_iter().find_map(|sig| {
        let expected = hex::decode(sig).ok()?;
        let mut mac = HmacSha256::new_from_slice(secret).ok()?;
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected).ok().map(|()| timestamp)
    })
}

/// Whether an address is one a webhook must not reach: loopback, private, link-local,
/// unspecified, broadcast, multicast, CGNAT, benchmarking, reserved and documentation ranges,
/// IPv6 unique-local and site-local, and IPv6 forms that embed such an IPv4 address
/// (IPv4-mapped, IPv4-compatible, NAT64, 6to4).
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", 0.0.0.0/8 (unspecified included)
        || a == 10 // private
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local (cloud metadata: 169.254.169.254)
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || (a == 192 && b == 168) // private
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast 255.255.255.255
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // IPv4-mapped ::ffff:a.b.c.d: judged as the IPv4 address it is.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    // ::/96: unspecified, loopback and the deprecated IPv4-compatible addresses.
    if s[..6].iter().all(|&x| x == 0) {
        return true;
    }
    let embedded_v4 =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    // NAT64 well-known prefix 64:ff9b::/96 reaches the embedded IPv4 address.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0) {
        return is_forbidden_v4(embedded_v4(s[6], s[7]));
    }
    // 6to4 2002::/16 routes to the IPv4 address in bits 16..48.
    if s[0] == 0x2002 {
        return is_forbidden_v4(embedded_v4(s[1], s[2]));
    }
    (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64 64:ff9b:1::/48
        || (s[0] == 0x100 && s[1..4].iter().all(|&x| x == 0)) // discard-only 100::/64
        || (s[0] == 0x2001 && s[1] < 0x200) // IETF protocol assignments 2001::/23 (Teredo, …)
        || (s[0] == 0x2001 && s[1] == 0xdb8) // documentation 2001:db8::/32
        || (s[0] == 0x3fff && s[1] < 0x1000) // documentation 3fff::/20
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast ff00::/8
}

/// Whether an error answer deserves another attempt.
fn is_retryable(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// `base` × (1 ± 20%).
fn jittered(base: Duration) -> Duration {
    let factor: f64 = rand::thread_rng().gen_range(0.8..=1.2);
    base.mul_f64(factor)
}

/// A `Retry-After` in seconds (the HTTP-date form is ignored), capped.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// A network error, described without its URL (which may carry a token), with its causes.
fn describe(err: reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let err = err.without_url();
    let mut text = format!("{kind}: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.chars().take(500).collect()
}

impl WebhookSender {
    pub fn new(config: WebhookConfig) -> Self {
        WebhookSender { config }
    }

    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    /// Checks the URL and its addresses: the target's host (for logs and the DNS pin), the
    /// addresses to connect to, and whether the host is a name (rather than an IP literal).
    async fn check_target(
        &self,
        url: &Url,
    ) -> Result<(String, Vec<SocketAddr>, bool), WebhookError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(WebhookError::InvalidUrl(format!(
                "scheme '{}' is not http or https",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookError::InvalidUrl(
                "credentials in the URL are not supported".into(),
            ));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| WebhookError::InvalidUrl("no port".into()))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| WebhookError::InvalidUrl("no host".into()))?;
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .parse::<IpAddr>()
            .ok();
        let addrs: Vec<SocketAddr> = match literal {
            Some(ip) => vec![SocketAddr::new(ip, port)],
            None => {
                let resolved = tokio::time::timeout(
                    self.config.timeout,
                    tokio::net::lookup_host((host, port)),
                )
                .await
                .map_err(|_| WebhookError::Failed {
                    attempts: 0,
                    last: format!("resolving {host} timed out"),
                })?
                .map_err(|e| WebhookError::Failed {
                    attempts: 0,
                    last: format!("could not resolve {host}: {e}"),
                })?
                .collect::<Vec<_>>();
                if resolved.is_empty() {
                    return Err(WebhookError::Failed {
                        attempts: 0,
                        last: format!("{host} has no address"),
                    });
                }
                resolved
            }
        };
        if !self.config.allow_private {
            if let Some(bad) = addrs.iter().find(|a| is_forbidden_ip(a.ip())) {
                return Err(WebhookError::Forbidden(format!(
                    "{host} resolves to {}, a private, loopback, link-local or reserved address",
                    bad.ip()
                )));
            }
        }
        Ok((host.to_string(), addrs, literal.is_none()))
    }

    /// One signed POST of `body` (JSON) to `url`: attempt number `number` (sent as
    /// `X-Evo-Delivery`), and the delivery's idempotency key (`X-Evo-Delivery-Id`) if it has
    /// one. Says whether to stop (delivered, or a final refusal) or retry, and when.
    pub async fn attempt(
        &self,
        url: &str,
        body: &[u8],
        number: u32,
        delivery_id: Option<&str>,
    ) -> Attempt {
        let url = match Url::parse(url.trim()) {
            Ok(u) => u,
            Err(e) => return Attempt::Final(WebhookError::InvalidUrl(e.to_string())),
        };
        let (host, addrs, is_name) = match self.check_target(&url).await {
            Ok(t) => t,
            // A name that does not resolve now may resolve later; a refused target will not.
            Err(WebhookError::Failed { last, .. }) => return Attempt::Retry { last, after: None },
            Err(e) => return Attempt::Final(e),
        };
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.config.timeout)
            .connect_timeout(self.config.timeout)
            .user_agent("evo-billing-webhook/1");
        if is_name {
            // Connect only to the addresses that were checked.
            builder = builder.resolve_to_addrs(&host, &addrs);
        }
        let client = match builder.build() {
            Ok(c) => c,
            Err(e) => {
                return Attempt::Retry {
                    last: format!("could not build the HTTP client: {}", e.without_url()),
                    after: None,
                }
            }
        };
        let timestamp = chrono::Utc::now().timestamp();
        let started = Instant::now();
        let mut request = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Evo-Timestamp", timestamp.to_string())
            .header(
                "X-Evo-Signature",
                signature(&self.config.secret, timestamp, body),
            )
            .header("X-Evo-Delivery", number.to_string());
        if let Some(id) = delivery_id {
            request = request.header("X-Evo-Delivery-Id", id);
        }
        match request.body(body.to_vec()).send().await {
            Ok(response) => {
                let status = response.status();
                tracing::info!(
                    host = %host,
                    attempt = number,
                    status = status.as_u16(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "webhook attempt"
                );
                if status.is_success() {
                    return Attempt::Delivered {
                        status: status.as_u16(),
                    };
                }
                let mut last = format!("HTTP {status}");
                if status.is_redirection() {
                    last.push_str(" (redirects are not followed)");
                }
                if is_retryable(status.as_u16()) {
                    Attempt::Retry {
                        last,
                        after: retry_after(response.headers()),
                    }
                } else {
                    Attempt::Final(WebhookError::Failed {
                        attempts: number,
                        last,
                    })
                }
            }
            Err(err) => {
                let last = describe(err);
                tracing::warn!(
                    host = %host,
                    attempt = number,
                    error = %last,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "webhook attempt failed"
                );
                Attempt::Retry { last, after: None }
            }
        }
    }

    /// When attempt `number` (from 1) failed and asked for nothing: the doubled backoff with
    /// ±20% jitter.
    pub fn backoff(&self, number: u32) -> Duration {
        let doubled = self
            .config
            .initial_backoff
            .saturating_mul(1u32 << number.saturating_sub(1).min(16));
        jittered(doubled)
    }

    /// POSTs `payload` to `url`, signed, retrying transient failures in this task (for
    /// callers that wait for the outcome; the report worker schedules its retries instead).
    pub async fn deliver(
        &self,
        url: &str,
        payload: &serde_json::Value,
    ) -> Result<Delivery, WebhookError> {
        let body = serde_json::to_vec(payload).map_err(|e| WebhookError::Failed {
            attempts: 0,
            last: format!("could not serialize the payload: {e}"),
        })?;
        let max_attempts = self.config.max_attempts.max(1);
        let mut last = String::new();
        for number in 1..=max_attempts {
            match self.attempt(url, &body, number, None).await {
                Attempt::Delivered { status } => {
                    return Ok(Delivery {
                        attempts: number,
                        status,
                    })
                }
                Attempt::Final(e) => return Err(e),
                Attempt::Retry { last: why, after } => {
                    last = why;
                    if number < max_attempts {
                        let wait = after
                            .map(|a| a.min(MAX_RETRY_AFTER))
                            .unwrap_or_default()
                            .max(self.backoff(number));
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
        Err(WebhookError::Failed {
            attempts: max_attempts,
            last,
        })
    }
}

/// Whether `url` names a forbidden host without resolving anything: a loopback, private,
/// link-local or reserved IP however it is spelled (the URL is parsed as browsers and the
/// sender do, so `127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`, `0`, full-width digits and a
/// trailing dot are all the address they mean), or `localhost`. The answer says which address.
pub fn forbidden_literal(url: &str) -> Option<String> {
    let parsed = Url::parse(url.trim()).ok()?;
    match parsed.host()? {
        url::Host::Ipv4(ip) => is_forbidden_ip(IpAddr::V4(ip)).then(|| ip.to_string()),
        url::Host::Ipv6(ip) => is_forbidden_ip(IpAddr::V6(ip)).then(|| ip.to_string()),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            (d == "localhost" || d.ends_with(".localhost")).then_some(d)
        }
    }
}

/// The outcome of one webhook attempt.
#[derive(Debug)]
pub enum Attempt {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// A network error, a timeout, 429 or 5xx: try again (after `Retry-After` if it said).
    Retry {
        last: String,
        after: Option<Duration>,
    },
    /// A refusal that will not change (4xx, a redirect, a forbidden or invalid target).
    Final(WebhookError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    const SECRET: &[u8] = b"s3cret-key";

    #[derive(Debug, Clone)]
    struct Received {
        method: String,
        headers: HashMap<String, String>,
        body: Vec<u8>,
    }

    #[derive(Clone, Default)]
    struct Receiver {
        connections: Arc<AtomicUsize>,
        requests: Arc<Mutex<Vec<Received>>>,
    }

    /// Reads one HTTP/1.1 request (headers and a Content-Length body) off a connection.
    async fn read_request(stream: &mut TcpStream) -> Option<Received> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let header_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
        let mut lines = head.split("\r\n");
        let method = lines.next()?.split(' ').next()?.to_string();
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = buf[header_end..].to_vec();
        while body.len() < len {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        Some(Received {
            method,
            headers,
            body,
        })
    }

    /// A receiver answering the given statuses in turn (the last one repeats).
    async fn spawn_receiver(statuses: Vec<u16>) -> (SocketAddr, Receiver) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let receiver = Receiver::default();
        let r = receiver.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                r.connections.fetch_add(1, Ordering::SeqCst);
                let r = r.clone();
                let statuses = statuses.clone();
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut stream).await else {
                        return;
                    };
                    let index = {
                        let mut requests = r.requests.lock().unwrap();
                        requests.push(req);
                        requests.len() - 1
                    };
                    let status = statuses[index.min(statuses.len() - 1)];
                    let response = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        (addr, receiver)
    }

    fn config(allow_private: bool) -> WebhookConfig {
        WebhookConfig {
            secret: SECRET.to_vec(),
            allow_private,
            timeout: Duration::from_secs(5),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(10),
        }
    }

    fn payload() -> serde_json::Value {
        json!({"report": {"id": "r1", "status": "Completed"}, "data": {"rows": [], "note": "ünïcödé \"quoted\""}})
    }

    #[test]
    fn signature_format_and_known_vector() {
        let sig = signature(b"key", 1_700_000_000, b"{}");
        let (t, v1) = sig.split_once(',').unwrap();
        assert_eq!(t, "t=1700000000");
        assert!(v1.starts_with("v1="));
        assert_eq!(v1.len(), 3 + 64);
        // Independent computation: HMAC-SHA256("key", "1700000000.{}").
        let mut mac = HmacSha256::new_from_slice(b"key").unwrap();
        mac.update(b"1700000000.{}");
        assert_eq!(&v1[3..], hex::encode(mac.finalize().into_bytes()));
        // RFC 4231-style sanity: a well-known HMAC-SHA256 vector through the same primitive.
        let mut mac = HmacSha256::new_from_slice(b"key").unwrap();
        mac.update(b"The quick brown fox jumps over the lazy dog");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert_eq!(verify_signature(b"key", &sig, b"{}"), Some(1_700_000_000));
        assert_eq!(verify_signature(b"other", &sig, b"{}"), None);
        assert_eq!(verify_signature(b"key", &sig, b"{ }"), None);
        assert_eq!(verify_signature(b"key", "v1=00", b"{}"), None);
        assert_eq!(verify_signature(b"key", "garbage", b"{}"), None);
    }

    #[test]
    fn forbidden_ip_table() {
        let cases: &[(&str, bool)] = &[
            ("127.0.0.1", true),
            ("127.255.255.254", true),
            ("10.0.0.1", true),
            ("172.16.0.1", true),
            ("172.31.255.255", true),
            ("172.32.0.1", false),
            ("192.168.1.1", true),
            ("169.254.169.254", true),
            ("100.64.0.1", true),
            ("100.127.255.255", true),
            ("100.128.0.1", false),
            ("0.0.0.0", true),
            ("0.1.2.3", true),
            ("255.255.255.255", true),
            ("224.0.0.1", true),
            ("240.0.0.1", true),
            ("192.0.2.1", true),
            ("198.51.100.7", true),
            ("203.0.113.9", true),
            ("198.18.0.1", true),
            ("192.0.0.8", true),
            ("93.184.216.34", false),
            ("8.8.8.8", false),
            ("1.1.1.1", false),
            ("::1", true),
            ("::", true),
            ("::ffff:127.0.0.1", true),
            ("::ffff:10.1.2.3", true),
            ("::ffff:169.254.169.254", true),
            ("::ffff:93.184.216.34", false),
            ("::127.0.0.1", true),
            ("fe80::1", true),
            ("febf::1", true),
            ("fec0::1", true),
            ("fc00::1", true),
            ("fd12:3456::1", true),
            ("ff02::1", true),
            ("2001:db8::1", true),
            ("3fff::1", true),
            ("2001::1", true),
            ("100::1", true),
            ("64:ff9b::7f00:1", true),
            ("64:ff9b::5db8:d822", false),
            ("2002:7f00:1::1", true),
            ("2002:5db8:d822::1", false),
            ("2606:2800:220:1:248:1893:25c8:1946", false),
            ("2001:4860:4860::8888", false),
        ];
        for (text, forbidden) in cases {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(is_forbidden_ip(ip), *forbidden, "{text}");
        }
    }

    #[tokio::test]
    async fn delivers_signed_payload_to_allowed_private_receiver() {
        let (addr, receiver) = spawn_receiver(vec![200]).await;
        let sender = WebhookSender::new(config(true));
        let url = format!("http://{addr}/hooks/billing?token=abc");
        let delivery = sender.deliver(&url, &payload()).await.unwrap();
        assert_eq!(
            delivery,
            Delivery {
                attempts: 1,
                status: 200
            }
        );

        let requests = receiver.requests.lock().unwrap().clone();
        assert_eq!(requests.len(), 1);
        let req = &requests[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.headers["content-type"], "application/json");
        assert_eq!(req.headers["user-agent"], "evo-billing-webhook/1");
        assert_eq!(req.headers["x-evo-delivery"], "1");
        let ts: i64 = req.headers["x-evo-timestamp"].parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
        // The receiver checks the signature over the exact bytes it got.
        let sig = &req.headers["x-evo-signature"];
        assert_eq!(verify_signature(SECRET, sig, &req.body), Some(ts));
        assert_eq!(*sig, signature(SECRET, ts, &req.body));
        assert_eq!(verify_signature(b"wrong", sig, &req.body), None);
        let got: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(got, payload());
    }

    #[tokio::test]
    async fn loopback_is_forbidden_without_any_connection() {
        let (addr, receiver) = spawn_receiver(vec![200]).await;
        let sender = WebhookSender::new(config(false));
        let err = sender
            .deliver(&format!("http://{addr}/"), &payload())
            .await
            .unwrap_err();
        assert!(matches!(err, WebhookError::Forbidden(_)), "{err:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(receiver.connections.load(Ordering::SeqCst), 0);
        assert!(receiver.requests.lock().unwrap().is_empty());

        // The same with a name that resolves to loopback.
        let err = sender
            .deliver(&format!("http://localhost:{}/", addr.port()), &payload())
            .await
            .unwrap_err();
        assert!(matches!(err, WebhookError::Forbidden(_)), "{err:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(receiver.connections.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn private_and_metadata_targets_are_refused_before_connecting() {
        let sender = WebhookSender::new(config(false));
        for url in [
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "https://192.168.0.10:8443/x",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fd00::1]/",
            "http://100.64.0.1/",
            "http://0.0.0.0:80/",
            "http://localhost/",
            "http://LOCALHOST/",
        ] {
            let started = Instant::now();
            let err = sender.deliver(url, &payload()).await.unwrap_err();
            assert!(matches!(err, WebhookError::Forbidden(_)), "{url}: {err:?}");
            assert!(
                started.elapsed() < Duration::from_millis(500),
                "{url} took {:?}",
                started.elapsed()
            );
            // The message names the address, never a secret.
            assert!(!err.to_string().contains("s3cret"));
        }
    }

    #[tokio::test]
    async fn invalid_urls() {
        let sender = WebhookSender::new(config(true));
        for url in [
            "ftp://example.com/file",
            "file:///etc/passwd",
            "not a url",
            "/relative/path",
            "javascript:alert(1)",
            "http://user:pass@example.com/",
        ] {
            let err = sender.deliver(url, &payload()).await.unwrap_err();
            assert!(matches!(err, WebhookError::InvalidUrl(_)), "{url}: {err:?}");
        }
    }

    #[tokio::test]
    async fn retries_server_errors_then_succeeds() {
        let (addr, receiver) = spawn_receiver(vec![500, 503, 200]).await;
        let sender = WebhookSender::new(config(true));
        let delivery = sender
            .deliver(&format!("http://{addr}/"), &payload())
            .await
            .unwrap();
        assert_eq!(
            delivery,
            Delivery {
                attempts: 3,
                status: 200
            }
        );
        let requests = receiver.requests.lock().unwrap().clone();
        let numbers: Vec<&str> = requests
            .iter()
            .map(|r| r.headers["x-evo-delivery"].as_str())
            .collect();
        assert_eq!(numbers, ["1", "2", "3"]);
        for r in &requests {
            assert!(verify_signature(SECRET, &r.headers["x-evo-signature"], &r.body).is_some());
        }
    }

    #[tokio::test]
    async fn retries_429_and_gives_up_after_max_attempts() {
        let (addr, receiver) = spawn_receiver(vec![429, 502]).await;
        let mut cfg = config(true);
        cfg.max_attempts = 3;
        let err = WebhookSender::new(cfg)
            .deliver(&format!("http://{addr}/"), &payload())
            .await
            .unwrap_err();
        match err {
            WebhookError::Failed { attempts, last } => {
                assert_eq!(attempts, 3);
                assert!(last.contains("502"), "{last}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(receiver.requests.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn client_errors_are_not_retried() {
        for status in [400, 404, 301] {
            let (addr, receiver) = spawn_receiver(vec![status, 200]).await;
            let err = WebhookSender::new(config(true))
                .deliver(&format!("http://{addr}/"), &payload())
                .await
                .unwrap_err();
            match err {
                WebhookError::Failed { attempts, last } => {
                    assert_eq!(attempts, 1);
                    assert!(last.contains(&status.to_string()), "{last}");
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(receiver.requests.lock().unwrap().len(), 1);
        }
    }

    #[tokio::test]
    async fn a_silent_receiver_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                held.push(stream); // never answers, never closes
            }
        });
        let cfg = WebhookConfig {
            timeout: Duration::from_millis(200),
            max_attempts: 2,
            ..config(true)
        };
        let started = Instant::now();
        let err = WebhookSender::new(cfg)
            .deliver(&format!("http://{addr}/"), &payload())
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        match err {
            WebhookError::Failed { attempts, last } => {
                assert_eq!(attempts, 2);
                assert!(last.contains("timed out"), "{last}");
            }
            other => panic!("{other:?}"),
        }
        assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn connection_refused_is_retried_then_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let cfg = WebhookConfig {
            max_attempts: 2,
            ..config(true)
        };
        let err = WebhookSender::new(cfg)
            .deliver(&format!("http://{addr}/"), &payload())
            .await
            .unwrap_err();
        assert!(
            matches!(err, WebhookError::Failed { attempts: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn backoff_jitter_stays_within_twenty_percent() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_secs(1));
            assert!(d >= Duration::from_millis(800) && d <= Duration::from_millis(1200));
        }
        assert!(is_retryable(429) && is_retryable(500) && is_retryable(599));
        assert!(!is_retryable(400) && !is_retryable(404) && !is_retryable(302));
        let debug = format!("{:?}", WebhookConfig::with_secret("topsecret"));
        assert!(!debug.contains("topsecret"), "{debug}");
    }
}
