//! The commands of the `evo-billing-server` binary.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use evo_billing_core::dto::Role;
use tokio::sync::Notify;

use crate::app::{app, AppState, Config};
use crate::db::{day_of_time, Db};
use crate::demo::{self, DemoBatch, DemoOptions};
use crate::import::{LedgerReader, RowOutcome};
use crate::ledger::ResolvedBillable;
use crate::mailer::SmtpConfig;
use crate::model::{CallRecord, NewUser};
use crate::reports::{self, ReportSettings};
use crate::webhook::{WebhookConfig, WebhookSender};

/// Options of `serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    #[arg(long, env = "EVO_BILLING_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Do not load the demo data into an empty database.
    #[arg(long)]
    pub no_demo: bool,
    /// Calls in the demo data.
    #[arg(long, env = "EVO_BILLING_DEMO_CALLS", default_value_t = 520_000)]
    pub demo_calls: usize,
    /// The built dashboard to serve at / (index.html and assets).
    #[arg(long, env = "EVO_BILLING_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,
    /// Absolute URL clients reach this server at (for download links); default http://LISTEN.
    #[arg(long, env = "EVO_BILLING_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// SMTP server for report emails: smtp://user:pass@host:port?from=addr, smtp+starttls://…,
    /// smtps://…. Without it, emails go to the outbox table and the log.
    #[arg(long, env = "EVO_BILLING_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// HMAC key that signs webhooks; default: a random key kept in the database.
    #[arg(long, env = "EVO_BILLING_WEBHOOK_SECRET")]
    pub webhook_secret: Option<String>,
    /// Allow webhooks to private, loopback and link-local addresses (tests, on-premises).
    #[arg(long, env = "EVO_BILLING_ALLOW_PRIVATE_WEBHOOKS")]
    pub allow_private_webhooks: bool,
    /// Mark the session cookie Secure (serve behind HTTPS).
    #[arg(long, env = "EVO_BILLING_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Do not run the report worker in this process.
    #[arg(long)]
    pub no_worker: bool,
    /// This process's name in ReportInfo.server.
    #[arg(long, env = "EVO_BILLING_SERVER_NAME")]
    pub server_name: Option<String>,
}

impl ServeOptions {
    /// `serve` with no arguments (the default command): defaults, overridden by the environment.
    pub fn default_from_env() -> ServeOptions {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            opts: ServeOptions,
        }
        <Wrapper as clap::Parser>::parse_from(["serve"]).opts
    }
}

async fn open(database: &str) -> Result<Db, String> {
    let db = Db::connect(database).await?;
    db.migrate().await?;
    Ok(db)
}

/// Builds the state (and starts the report worker unless told not to).
pub async fn state(db: Db, opts: &ServeOptions) -> Result<Arc<AppState>, String> {
    let public_url = opts
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", opts.listen))
        .trim_end_matches('/')
        .to_string();
    let secret = match &opts.webhook_secret {
        Some(s) => s.clone(),
        None => db
            .setting_or_init("webhook_secret", crate::auth::new_token())
            .await
            .map_err(|e| e.to_string())?,
    };
    let smtp = opts
        .smtp_url
        .as_deref()
        .map(SmtpConfig::from_url)
        .transpose()?;
    let webhooks = WebhookSender::new(WebhookConfig {
        allow_private: opts.allow_private_webhooks,
        ..WebhookConfig::with_secret(secret.into_bytes())
    });
    let settings = Arc::new(ReportSettings {
        server_name: opts.server_name.clone().unwrap_or_else(|| {
            format!(
                "{}:{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "evo-billing".into()),
                std::process::id()
            )
        }),
        public_url: public_url.clone(),
        smtp,
        webhooks,
        wake: Arc::new(Notify::new()),
    });
    if !opts.no_worker {
        tokio::spawn(reports::worker(db.clone(), settings.clone()));
    }
    Ok(Arc::new(AppState::new(
        db,
        Config {
            public_url,
            static_dir: Some(opts.static_dir.clone()),
            secure_cookies: opts.secure_cookies,
        },
        settings,
    )))
}

pub async fn serve(database: &str, opts: ServeOptions) -> Result<(), String> {
    let db = open(database).await?;
    let fresh = db.is_empty().await.map_err(|e| e.to_string())?;
    if fresh && !opts.no_demo {
        eprintln!(
            "Empty database: loading the demo data ({} calls)…",
            opts.demo_calls
        );
        load_demo(&db, opts.demo_calls).await?;
    }
    let ctx = state(db, &opts).await?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("evo-billing is running at http://{addr}/ (database: {database})");
    if fresh && !opts.no_demo {
        println!("Demo sign-ins:");
        for (role, email, password) in demo::DEMO_SIGN_INS {
            println!("  {role:<20} {email:<28} {password}");
        }
    }
    let service = app(ctx).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}

/// Loads the demo data set; returns when it is committed.
pub async fn load_demo(db: &Db, calls: usize) -> Result<demo::DemoSummary, String> {
    let started = Instant::now();
    let opts = DemoOptions {
        calls,
        ..DemoOptions::default()
    };
    // Generate on a blocking thread, load on this one: the channel keeps both busy.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<DemoBatch>(4);
    let generator = tokio::task::spawn_blocking(move || {
        demo::generate(&opts, &mut |batch| {
            tx.blocking_send(batch)
                .map_err(|_| "the loader stopped".to_string())
        })
    });
    let mut days: HashMap<String, (i64, i64)> = HashMap::new();
    let mut widen = |account: &str, day: i64| {
        let e = days.entry(account.to_string()).or_insert((day, day));
        e.0 = e.0.min(day);
        e.1 = e.1.max(day);
    };
    while let Some(batch) = rx.recv().await {
        let r = match batch {
            DemoBatch::Accounts(a) => db.insert_accounts(&a).await.map_err(|e| e.to_string()),
            DemoBatch::Customers(c) => db.insert_customers(&c).await.map_err(|e| e.to_string()),
            DemoBatch::Users(users) => {
                for u in users {
                    db.create_user(&u).await?;
                }
                Ok(())
            }
            DemoBatch::Sessions(s) => db.insert_call_sessions(&s).await.map_err(|e| e.to_string()),
            DemoBatch::Billables(b) => {
                let resolved: Vec<ResolvedBillable> = b
                    .into_iter()
                    .map(|b| ResolvedBillable {
                        account_id: b.account_id,
                        customer_id: b.customer_id,
                        call_sid: b.call_sid,
                        session_id: b.session_id,
                    })
                    .collect();
                db.insert_billables_bulk(&resolved)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            DemoBatch::Calls(c) => {
                for call in &c {
                    widen(&call.account_id, day_of_time(call.start_time));
                }
                db.insert_calls(&c, false)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            DemoBatch::Sms(s) => {
                for m in &s {
                    widen(&m.account_id, day_of_time(m.sent_at));
                }
                db.insert_sms(&s, false)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            DemoBatch::Numbers(n) => {
                for r in &n {
                    widen(&r.account_id, day_of_time(r.charged_at));
                }
                db.insert_numbers(&n, false)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        };
        r?;
    }
    let summary = generator
        .await
        .map_err(|e| format!("the demo generator failed: {e}"))??;
    for (account, (first, last)) in days {
        db.rebuild_rollups(&account, first, last)
            .await
            .map_err(|e| e.to_string())?;
    }
    db.analyze().await.map_err(|e| e.to_string())?;
    eprintln!(
        "Demo data loaded in {:.1} s: {} accounts, {} customers, {} calls, {} billables, {} SMS, {} number rentals",
        started.elapsed().as_secs_f64(),
        summary.accounts,
        summary.customers,
        summary.calls,
        summary.billables,
        summary.sms,
        summary.numbers
    );
    Ok(summary)
}

pub async fn seed_demo(database: &str, calls: usize) -> Result<(), String> {
    let db = open(database).await?;
    if !db.is_empty().await.map_err(|e| e.to_string())? {
        return Err(
            "the database already has data; seed-demo loads only into an empty database".into(),
        );
    }
    load_demo(&db, calls).await.map(|_| ())
}

pub async fn migrate(database: &str) -> Result<(), String> {
    open(database).await?;
    println!("migrations applied");
    Ok(())
}

pub async fn analyze(database: &str) -> Result<(), String> {
    let db = open(database).await?;
    db.analyze().await.map_err(|e| e.to_string())?;
    println!("statistics refreshed");
    Ok(())
}

pub async fn create_user(
    database: &str,
    email: &str,
    password: &str,
    role: &str,
    accounts: Vec<String>,
    customer: Option<String>,
    name: Option<String>,
) -> Result<(), String> {
    let db = open(database).await?;
    let role = Role::parse(role).ok_or_else(|| {
        format!("unknown role '{role}': SystemAdministrator, Manager or Customer")
    })?;
    for a in &accounts {
        if db.account(a).await.map_err(|e| e.to_string())?.is_none() {
            return Err(format!("there is no account '{a}'"));
        }
    }
    let mut account_ids = accounts;
    if let Some(c) = &customer {
        let row = db
            .customer(c)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("there is no customer '{c}'"))?;
        account_ids = vec![row.account_id];
    }
    if role == Role::Manager && account_ids.is_empty() {
        return Err("a Manager needs at least one --account".into());
    }
    let id = db
        .create_user(&NewUser {
            email: email.to_string(),
            display_name: name.unwrap_or_else(|| email.to_string()),
            password: password.to_string(),
            role,
            account_ids,
            customer_id: customer,
        })
        .await?;
    println!("created user {id} ({email}, {})", role.as_str());
    Ok(())
}

pub async fn create_api_key(database: &str, email: &str, name: &str) -> Result<(), String> {
    let db = open(database).await?;
    let user = db
        .user_by_email(email)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("there is no user '{email}'"))?;
    let key = db
        .create_api_key(&user.id, name)
        .await
        .map_err(|e| e.to_string())?;
    println!("{key}");
    eprintln!("API key for {email} created; it is shown only now. Send it as 'Authorization: Bearer {key}'.");
    Ok(())
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub loaded: u64,
    /// Rows already in the ledger (same account and SID), and blank/comment/header lines.
    pub skipped: u64,
    pub rejected: Vec<(u64, String)>,
}

/// Imports a ledger CSV: batches of `batch` rows, each in its own transaction with its roll-ups.
pub async fn import_file(
    db: &Db,
    file: &Path,
    account: Option<&str>,
    batch: usize,
    progress: bool,
) -> Result<ImportReport, String> {
    let size = std::fs::metadata(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?
        .len();
    let reader = std::io::BufReader::new(
        std::fs::File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?,
    );
    let mut rows = LedgerReader::new(reader)?;
    let fixed_account = match account {
        Some(a) => Some(
            db.account(a)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("there is no account '{a}'"))?,
        ),
        None => None,
    };
    let bar = if progress {
        let b = indicatif::ProgressBar::new(size);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
        {
            b.set_style(style);
        }
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut by_sid: HashMap<String, Option<String>> = HashMap::new();
    let mut report = ImportReport::default();
    let mut pending: Vec<CallRecord> = Vec::with_capacity(batch.max(1));
    loop {
        let next = rows.next();
        let done = next.is_none();
        if let Some(outcome) = next {
            match outcome {
                RowOutcome::Row(row) => {
                    let account_id = match (&fixed_account, &row.account_sid) {
                        (Some(a), None) => Some(a.id.clone()),
                        (Some(a), Some(sid)) if *sid == a.account_sid => Some(a.id.clone()),
                        (Some(a), Some(sid)) => {
                            report.rejected.push((
                                row.line,
                                format!(
                                    "line {}: AccountSid {sid} is not account {}",
                                    row.line, a.id
                                ),
                            ));
                            None
                        }
                        (None, Some(sid)) => {
                            if !by_sid.contains_key(sid) {
                                let found = db
                                    .account_by_sid(sid)
                                    .await
                                    .map_err(|e| e.to_string())?
                                    .map(|a| a.id);
                                by_sid.insert(sid.clone(), found);
                            }
                            match by_sid.get(sid).cloned().flatten() {
                                Some(id) => Some(id),
                                None => {
                                    report.rejected.push((
                                        row.line,
                                        format!(
                                            "line {}: no account has AccountSid {sid}",
                                            row.line
                                        ),
                                    ));
                                    None
                                }
                            }
                        }
                        (None, None) => {
                            report.rejected.push((
                                row.line,
                                format!("line {}: no AccountSid, and no --account given", row.line),
                            ));
                            None
                        }
                    };
                    if let Some(account_id) = account_id {
                        let mut call = row.call;
                        call.account_id = account_id;
                        pending.push(call);
                    }
                }
                RowOutcome::Skipped { .. } => report.skipped += 1,
                RowOutcome::Rejected { line, reason } => report.rejected.push((line, reason)),
            }
        }
        if pending.len() >= batch.max(1) || (done && !pending.is_empty()) {
            let inserted = db
                .insert_calls(&pending, true)
                .await
                .map_err(|e| format!("database: {e}"))?;
            report.loaded += inserted;
            report.skipped += pending.len() as u64 - inserted;
            pending.clear();
            bar.set_position(rows.bytes_read());
            bar.set_message(format!(
                "{} loaded, {} skipped, {} rejected",
                report.loaded,
                report.skipped,
                report.rejected.len()
            ));
        }
        if done {
            break;
        }
    }
    bar.finish_and_clear();
    if report.loaded > 0 {
        db.analyze().await.map_err(|e| e.to_string())?;
    }
    Ok(report)
}

pub async fn import_calls(
    database: &str,
    file: &Path,
    account: Option<&str>,
    batch: usize,
) -> Result<(), String> {
    let db = open(database).await?;
    let started = Instant::now();
    let report = import_file(&db, file, account, batch, true).await?;
    for (_, reason) in report.rejected.iter().take(100) {
        eprintln!("rejected: {reason}");
    }
    if report.rejected.len() > 100 {
        eprintln!("… and {} more rejected rows", report.rejected.len() - 100);
    }
    println!(
        "{}: {} loaded, {} skipped, {} rejected in {:.1} s",
        file.display(),
        report.loaded,
        report.skipped,
        report.rejected.len(),
        started.elapsed().as_secs_f64()
    );
    if report.rejected.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} rows were rejected (listed above); the {} good rows are loaded",
            report.rejected.len(),
            report.loaded
        ))
    }
}
