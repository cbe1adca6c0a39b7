//! The report notification email.
//!
//! When a billing report ends and its request named an `emailAddressToNotify`, that address gets
//! a short plain-text email ([`report_email`]) through the operator's SMTP relay ([`send`]),
//! configured by one URL ([`SmtpConfig::from_url`]):
//!
//! - `smtp://user:pass@host:25?from=billing@example.com`: plain text (local relays only),
//! - `smtp+starttls://user:pass@host:587?from=…`: STARTTLS, required (no downgrade),
//! - `smtps://user:pass@host:465?from=…`: TLS from the first byte.
//!
//! User and password are percent-decoded (`%40` for `@`). The certificate of a TLS relay is
//! checked against the host name.

use std::fmt;
use std::time::Duration;

use evo_billing_core::dto::{ReportInfo, ReportStatuses};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Why an email could not be configured, built or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The `--smtp-url` is not usable.
    #[error("{0}")]
    Config(String),
    /// The message has a bad address or could not be assembled.
    #[error("{0}")]
    Message(String),
    #[error("TLS setup failed: {0}")]
    Tls(#[source] lettre::transport::smtp::Error),
    #[error("sending the email through {relay} failed: {source}")]
    Send {
        relay: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("sending the email through {relay} timed out after {secs} s")]
    Timeout { relay: String, secs: u64 },
}

/// The whole exchange with the relay (connect, TLS, commands, data) must end within this.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text (`smtp://`): trusted local relays only.
    None,
    /// A plain connection upgraded with STARTTLS, which is required (`smtp+starttls://`).
    StartTls,
    /// TLS from the start (`smtps://`).
    Implicit,
}

/// Where and how report emails are sent.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: SmtpTls,
    /// The sender, `billing@example.com` or `Billing <billing@example.com>`.
    pub from: String,
}

impl fmt::Debug for SmtpConfig {
    /// Never prints the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("from", &self.from)
            .finish()
    }
}

/// `%XX` sequences decoded (`+` stays a plus: this is the userinfo of a URL, not a form).
fn percent_decode(text: &str) -> Result<String, MailError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| MailError::Config(format!("bad percent-encoding in '{text}'")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| MailError::Config("percent-encoded text is not UTF-8".to_string()))
}

impl SmtpConfig {
    /// Parses `smtp://user:pass@host:port?from=billing@example.com` (plain), `smtp+starttls://…`
    /// (STARTTLS required) or `smtps://…` (implicit TLS); user and password are percent-decoded.
    /// Default ports: 25, 587 and 465. `from` is required unless the user name is an address.
    pub fn from_url(url: &str) -> Result<SmtpConfig, MailError> {
        let config = |m: String| MailError::Config(m);
        let parsed = reqwest::Url::parse(url.trim()).map_err(|e| {
            config(format!(
                "invalid SMTP URL: {e} (expected smtp://user:pass@host:port?from=address)"
            ))
        })?;
        let (tls, default_port) = match parsed.scheme() {
            "smtp" => (SmtpTls::None, 25),
            "smtp+starttls" | "smtp+tls" => (SmtpTls::StartTls, 587),
            "smtps" => (SmtpTls::Implicit, 465),
            other => {
                return Err(config(format!(
                    "unsupported SMTP URL scheme '{other}': use smtp, smtp+starttls or smtps"
                )))
            }
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| config("the SMTP URL has no host".into()))?;
        // An IPv6 literal is written [::1] in a URL, but connected to as ::1.
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .to_string();
        let port = parsed.port().unwrap_or(default_port);
        let username = match parsed.username() {
            "" => None,
            u => Some(percent_decode(u)?),
        };
        let password = parsed.password().map(percent_decode).transpose()?;
        if password.is_some() && username.is_none() {
            return Err(config(
                "the SMTP URL has a password but no user name".into(),
            ));
        }
        let mut from = None;
        for (key, value) in parsed.query_pairs() {
            if key.eq_ignore_ascii_case("from") && !value.trim().is_empty() {
                from = Some(value.trim().to_string());
            }
        }
        let from = match from {
            Some(f) => f,
            None => match &username {
                Some(u) if u.contains('@') => u.clone(),
                _ => {
                    return Err(config(
                        "the SMTP URL needs a sender: add ?from=billing@example.com".into(),
                    ))
                }
            },
        };
        from.parse::<Mailbox>()
            .map_err(|e| config(format!("invalid sender address '{from}': {e}")))?;
        Ok(SmtpConfig {
            host,
            port,
            username,
            password,
            tls,
            from,
        })
    }
}

/// A plain-text email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// One address, or several separated by `,` or `;`.
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// Control characters (line breaks included) in a header become spaces.
fn header_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn build_message(cfg: &SmtpConfig, email: &Email) -> Result<Message, MailError> {
    let from: Mailbox = cfg
        .from
        .parse()
        .map_err(|e| MailError::Message(format!("invalid sender address '{}': {e}", cfg.from)))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(header_text(&email.subject))
        .header(ContentType::TEXT_PLAIN);
    let mut recipients = 0;
    for to in email
        .to
        .split([',', ';'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let mailbox: Mailbox = to
            .parse()
            .map_err(|e| MailError::Message(format!("invalid recipient address '{to}': {e}")))?;
        builder = builder.to(mailbox);
        recipients += 1;
    }
    if recipients == 0 {
        return Err(MailError::Message("the email has no recipient".into()));
    }
    builder
        .body(email.text.clone())
        .map_err(|e| MailError::Message(format!("could not build the email: {e}")))
}

/// Sends `email` through the relay of `cfg`, within 15 seconds.
pub async fn send(cfg: &SmtpConfig, email: &Email) -> Result<(), MailError> {
    let message = build_message(cfg, email)?;
    let tls = match cfg.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::StartTls => {
            Tls::Required(TlsParameters::new(cfg.host.clone()).map_err(MailError::Tls)?)
        }
        SmtpTls::Implicit => {
            Tls::Wrapper(TlsParameters::new(cfg.host.clone()).map_err(MailError::Tls)?)
        }
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.as_str())
        .port(cfg.port)
        .tls(tls)
        .timeout(Some(SEND_TIMEOUT));
    if let Some(user) = &cfg.username {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            cfg.password.clone().unwrap_or_default(),
        ));
    }
    let transport = builder.build();
    let relay = format!("{}:{}", cfg.host, cfg.port);
    match tokio::time::timeout(SEND_TIMEOUT, transport.send(message)).await {
        Ok(Ok(response)) => {
            tracing::info!(relay = %relay, code = %response.code(), "report email sent");
            Ok(())
        }
        Ok(Err(e)) => {
            tracing::warn!(relay = %relay, error = %e, "report email failed");
            Err(MailError::Send { relay, source: e })
        }
        Err(_) => {
            tracing::warn!(relay = %relay, "report email timed out");
            Err(MailError::Timeout {
                relay,
                secs: SEND_TIMEOUT.as_secs(),
            })
        }
    }
}

/// The notification for a report that ended: `(subject, text)`.
///
/// Completed: "Billing report ready: <name>" with the download link; Error: "Billing report
/// failed: <name>" with the status message. `download_url` (absolute) is preferred over the
/// report's own `downloadLink`.
pub fn report_email(
    info: &ReportInfo,
    account_name: &str,
    range: &str,
    download_url: Option<&str>,
) -> (String, String) {
    let name = info
        .name
        .as_deref()
        .map(header_text)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "Billing report".to_string());
    let link = download_url
        .or(info.download_link.as_deref())
        .filter(|l| !l.trim().is_empty());
    let status_message = info
        .status_message
        .as_deref()
        .filter(|m| !m.trim().is_empty());

    let subject = match info.status {
        ReportStatuses::Completed => format!("Billing report ready: {name}"),
        ReportStatuses::Error => format!("Billing report failed: {name}"),
        ReportStatuses::Queued => format!("Billing report queued: {name}"),
        ReportStatuses::Running => format!("Billing report running: {name}"),
    };

    let mut text = String::new();
    let what = if range.trim().is_empty() {
        format!("The billing report for {account_name}")
    } else {
        format!("The billing report for {account_name} ({range})")
    };
    match info.status {
        ReportStatuses::Completed => {
            text.push_str(&format!("{what} is ready.\n\n"));
            match link {
                Some(link) => text.push_str(&format!("Download it here:\n{link}\n\n")),
                None => text.push_str("It can be downloaded from the dashboard.\n\n"),
            }
        }
        ReportStatuses::Error => {
            text.push_str(&format!("{what} could not be produced.\n\n"));
            text.push_str(&format!(
                "Reason: {}\n\n",
                status_message.unwrap_or("unknown error")
            ));
            text.push_str(
                "You can request the report again; if it keeps failing, contact support.\n\n",
            );
        }
        ReportStatuses::Queued | ReportStatuses::Running => {
            text.push_str(&format!(
                "{what} is {}.\n\n",
                info.status.as_str().to_ascii_lowercase()
            ));
        }
    }
    text.push_str(&format!("Report: {name}\n"));
    if let Some(id) = &info.id {
        text.push_str(&format!("Report ID: {id}\n"));
    }
    text.push_str(&format!("Status: {}\n", info.status.as_str()));
    if let (Some(message), ReportStatuses::Completed) = (status_message, info.status) {
        text.push_str(&format!("Message: {message}\n"));
    }
    if let Some(created) = &info.date_created {
        text.push_str(&format!("Requested: {created}\n"));
    }
    if let Some(updated) = &info.date_updated {
        text.push_str(&format!("Finished: {updated}\n"));
    }
    text.push_str("\n-- \nEvo Voice billing\n");
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    #[test]
    fn parses_smtp_urls() {
        let c = SmtpConfig::from_url("smtp://user:pass@mail.local:2525?from=billing@example.com")
            .unwrap();
        assert_eq!(
            c,
            SmtpConfig {
                host: "mail.local".into(),
                port: 2525,
                username: Some("user".into()),
                password: Some("pass".into()),
                tls: SmtpTls::None,
                from: "billing@example.com".into(),
            }
        );

        let c = SmtpConfig::from_url(
            "smtp+starttls://me%40example.com:p%40ss%3Aw%2Fo+rd@smtp.example.com?from=Billing%20Team%20%3Cbilling%40example.com%3E",
        )
        .unwrap();
        assert_eq!(c.tls, SmtpTls::StartTls);
        assert_eq!(c.port, 587);
        assert_eq!(c.username.as_deref(), Some("me@example.com"));
        assert_eq!(c.password.as_deref(), Some("p@ss:w/o+rd"));
        assert_eq!(c.from, "Billing Team <billing@example.com>");

        let c = SmtpConfig::from_url("smtps://apikey:xyz@smtp.sendgrid.net?from=a@b.co").unwrap();
        assert_eq!((c.tls, c.port), (SmtpTls::Implicit, 465));
        assert_eq!(c.host, "smtp.sendgrid.net");

        // No credentials; port 25 by default.
        let c = SmtpConfig::from_url("smtp://localhost?from=billing@localhost").unwrap();
        assert_eq!(
            (c.port, c.username.clone(), c.password.clone()),
            (25, None, None)
        );

        // IPv6 literal, sender taken from an address-like user name.
        let c = SmtpConfig::from_url("smtps://billing%40example.com:pw@[::1]:4650").unwrap();
        assert_eq!(c.host, "::1");
        assert_eq!(c.port, 4650);
        assert_eq!(c.from, "billing@example.com");

        // The password never shows in debug output.
        assert!(!format!("{c:?}").contains("pw\""));
        assert!(format!("{c:?}").contains("<redacted>"));
    }

    #[test]
    fn rejects_bad_smtp_urls() {
        for bad in [
            "http://mail.local?from=a@b.co",
            "smtp://?from=a@b.co",
            "smtp://mail.local",
            "smtp://user@mail.local",
            "smtp://mail.local?from=not-an-address",
            "smtp://u:p%ZZ@mail.local?from=a@b.co",
            "not a url",
            "",
        ] {
            assert!(
                SmtpConfig::from_url(bad).is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    fn info(status: ReportStatuses) -> ReportInfo {
        ReportInfo {
            id: Some("rep_42".into()),
            name: Some("Billing acc1 2026-03-01..2026-03-31".into()),
            status,
            date_created: Some("2026-04-01T08:00:00Z".into()),
            date_updated: Some("2026-04-01T08:00:05Z".into()),
            ..Default::default()
        }
    }

    #[test]
    fn report_emails() {
        let (subject, text) = report_email(
            &info(ReportStatuses::Completed),
            "Acme Telecom",
            "2026-03-01 to 2026-03-31",
            Some("https://billing.example.com/reports/rep_42/download"),
        );
        assert_eq!(
            subject,
            "Billing report ready: Billing acc1 2026-03-01..2026-03-31"
        );
        assert!(
            text.contains("Acme Telecom (2026-03-01 to 2026-03-31) is ready"),
            "{text}"
        );
        assert!(text.contains("https://billing.example.com/reports/rep_42/download"));
        assert!(text.contains("Report ID: rep_42"));
        assert!(text.contains("Status: Completed"));

        let mut failed = info(ReportStatuses::Error);
        failed.status_message = Some("the database is unavailable".into());
        failed.download_link = Some("/reports/rep_42/download".into());
        let (subject, text) = report_email(&failed, "Acme", "March 2026", None);
        assert_eq!(
            subject,
            "Billing report failed: Billing acc1 2026-03-01..2026-03-31"
        );
        assert!(
            text.contains("Reason: the database is unavailable"),
            "{text}"
        );
        assert!(text.contains("Status: Error"));
        assert!(!text.contains("Download it here"));

        // Falls back to the report's own link; a nameless report and a header-breaking name.
        let mut done = info(ReportStatuses::Completed);
        done.download_link = Some("/reports/rep_42/download".into());
        done.name = None;
        let (subject, text) = report_email(&done, "Acme", "", None);
        assert_eq!(subject, "Billing report ready: Billing report");
        assert!(text.contains("/reports/rep_42/download"));
        done.name = Some("evil\r\nBcc: x@y.z".into());
        let (subject, _) = report_email(&done, "Acme", "", None);
        assert!(!subject.contains('\n') && !subject.contains('\r'));
    }

    #[derive(Debug, Default, Clone)]
    struct Captured {
        mail_from: String,
        rcpt_to: Vec<String>,
        data: String,
        commands: Vec<String>,
    }

    /// A minimal SMTP sink on loopback: accepts one message per connection and records it.
    async fn spawn_sink() -> (u16, Arc<Mutex<Vec<Captured>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let store = Arc::new(Mutex::new(Vec::new()));
        let out = store.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let mut captured = Captured::default();
                    write.write_all(b"220 sink.test ESMTP ready\r\n").await.ok();
                    while let Ok(Some(line)) = lines.next_line().await {
                        captured.commands.push(line.clone());
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO")
                        {
                            b"250-sink.test greets you\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n"
                        } else if upper.starts_with("MAIL FROM:") {
                            captured.mail_from = line[10..].trim().to_string();
                            b"250 OK\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            captured.rcpt_to.push(line[8..].trim().to_string());
                            b"250 OK\r\n"
                        } else if upper == "DATA" {
                            write
                                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                                .await
                                .ok();
                            while let Ok(Some(data_line)) = lines.next_line().await {
                                if data_line == "." {
                                    break;
                                }
                                // Undo dot-stuffing.
                                let unstuffed = if data_line.starts_with("..") {
                                    &data_line[1..]
                                } else {
                                    &data_line[..]
                                };
                                captured.data.push_str(unstuffed);
                                captured.data.push('\n');
                            }
                            b"250 OK queued\r\n"
                        } else if upper == "QUIT" {
                            write.write_all(b"221 Bye\r\n").await.ok();
                            break;
                        } else {
                            b"250 OK\r\n"
                        };
                        write.write_all(reply).await.ok();
                    }
                    store.lock().unwrap().push(captured);
                });
            }
        });
        (port, out)
    }

    #[tokio::test]
    async fn sends_through_a_local_sink() {
        let (port, store) = spawn_sink().await;
        let cfg = SmtpConfig::from_url(&format!(
            "smtp://127.0.0.1:{port}?from=Evo%20Billing%20%3Cbilling%40example.com%3E"
        ))
        .unwrap();
        let (subject, text) = report_email(
            &info(ReportStatuses::Completed),
            "Acme Telecom",
            "2026-03-01 to 2026-03-31",
            Some("https://billing.example.com/reports/rep_42/download"),
        );
        let email = Email {
            to: "ops@customer.example".into(),
            subject,
            text,
        };
        send(&cfg, &email).await.unwrap();

        // The sink records the message when the connection ends.
        let mut captured = None;
        for _ in 0..100 {
            if let Some(c) = store.lock().unwrap().first().cloned() {
                captured = Some(c);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let c = captured.expect("the sink received a message");
        assert_eq!(c.mail_from, "<billing@example.com>");
        assert_eq!(c.rcpt_to, ["<ops@customer.example>"]);
        assert!(
            c.data
                .contains("Subject: Billing report ready: Billing acc1 2026-03-01..2026-03-31"),
            "{}",
            c.data
        );
        assert!(c.data.contains("To: ops@customer.example"), "{}", c.data);
        assert!(
            c.data.lines().any(|l| l.starts_with("From: ")
                && l.contains("Evo Billing")
                && l.contains("<billing@example.com>")),
            "{}",
            c.data
        );
        assert!(c.data.contains("is ready."), "{}", c.data);
        assert!(
            c.data
                .contains("https://billing.example.com/reports/rep_42/download"),
            "{}",
            c.data
        );
        assert!(c.commands.iter().any(|l| l.eq_ignore_ascii_case("QUIT")));
    }

    #[tokio::test]
    async fn several_recipients_and_bad_addresses() {
        let (port, store) = spawn_sink().await;
        let cfg =
            SmtpConfig::from_url(&format!("smtp://127.0.0.1:{port}?from=billing@example.com"))
                .unwrap();
        let email = Email {
            to: "a@example.com; b@example.com".into(),
            subject: "Hello".into(),
            text: "Line one\n.starts with a dot\n".into(),
        };
        send(&cfg, &email).await.unwrap();
        let mut captured = None;
        for _ in 0..100 {
            if let Some(c) = store.lock().unwrap().first().cloned() {
                captured = Some(c);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let c = captured.unwrap();
        assert_eq!(c.rcpt_to, ["<a@example.com>", "<b@example.com>"]);
        assert!(c.data.contains("\n.starts with a dot\n"), "{}", c.data);

        let bad = Email {
            to: "not an address".into(),
            ..email.clone()
        };
        assert!(send(&cfg, &bad)
            .await
            .unwrap_err()
            .to_string()
            .contains("recipient"));
        let none = Email {
            to: " ; ".into(),
            ..email
        };
        assert!(send(&cfg, &none).await.is_err());
    }

    #[tokio::test]
    async fn unreachable_relay_fails_quickly() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let cfg =
            SmtpConfig::from_url(&format!("smtp://127.0.0.1:{port}?from=billing@example.com"))
                .unwrap();
        let email = Email {
            to: "ops@example.com".into(),
            subject: "x".into(),
            text: "y".into(),
        };
        let started = std::time::Instant::now();
        let err = send(&cfg, &email).await.unwrap_err().to_string();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    }
}
