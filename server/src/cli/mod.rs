//! The command line of `evo-billing-server`: clap definitions, and the printing each command
//! does. The work itself is the library's ([`crate::state`], [`crate::ingest`], [`crate::auth`],
//! [`crate::store`]); errors arrive here typed and leave as one `anyhow` line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use evo_billing_core::dto::Role;

use crate::config::{Config, Limits};
use crate::ingest::demo::{self, DemoOptions};
use crate::ingest::{self, ImportReport};
use crate::model::{Account, NewUser};
use crate::state::AppState;
use crate::store::Store;

#[derive(Parser)]
#[command(
    name = "evo-billing-server",
    version,
    about = "The Evo Voice billing API (ServiceStack-compatible) on SQLite or PostgreSQL"
)]
pub struct Cli {
    /// Database URL: sqlite://FILE (created on first start) or postgres://USER:PASS@HOST/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://./data/evo-billing.db",
        global = true
    )]
    database: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the dashboard (the default command).
    Serve(ServeOptions),
    /// Load a carrier call ledger from CSV (see `docs/IMPORT.md` or --help-columns).
    ImportCalls {
        /// The CSV file.
        file: PathBuf,
        /// The account the calls belong to when the file has no AccountSid column.
        #[arg(long)]
        account: Option<String>,
        /// Rows per transaction.
        #[arg(long, default_value_t = 5_000)]
        batch: usize,
        /// Print the documented columns and exit.
        #[arg(long)]
        help_columns: bool,
    },
    /// Load an account's customer tree from CSV: columns Id, Name, Parent (see docs/IMPORT.md).
    ImportCustomers {
        /// The CSV file.
        file: PathBuf,
        /// The account the customers belong to.
        #[arg(long)]
        account: String,
    },
    /// Load the deterministic demo data set (into an empty database).
    SeedDemo {
        /// Calls to generate (default 520,000; with --customers, enough for most days).
        #[arg(long)]
        calls: Option<usize>,
        /// Make the first account (acc-northwind) this big: N customers, active on most days.
        #[arg(long)]
        customers: Option<usize>,
    },
    /// Create an account.
    CreateAccount {
        /// The account's id (default: generated).
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        name: String,
        /// ISO 4217 code of its amounts.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// ISO 3166-1 alpha-2: calls to other countries are international.
        #[arg(long, default_value = "US")]
        home_country: String,
        /// Twilio-style SID (AC + 32 hex digits; default: generated).
        #[arg(long)]
        account_sid: Option<String>,
    },
    /// Create a user.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        /// SystemAdministrator, Manager or Customer.
        #[arg(long)]
        role: String,
        /// Account(s) a Manager manages (repeat the option for several).
        #[arg(long)]
        account: Vec<String>,
        /// The customer a Customer user sees (with its subtree).
        #[arg(long)]
        customer: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Create an API key for a user (printed once).
    CreateApiKey {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "api key")]
        name: String,
        /// The key stops working after this many days (1 to 3660); default: never.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3660))]
        expires_in_days: Option<u32>,
    },
    /// List API keys (of one user with --email): id, owner, name, created, expires, state.
    ListApiKeys {
        #[arg(long)]
        email: Option<String>,
    },
    /// Revoke an API key by its id (key_…), at once.
    RevokeApiKey { id: String },
    /// Apply the database migrations and exit.
    Migrate,
    /// Refresh the query planner's statistics (done after seed-demo and import-calls).
    Analyze,
    /// Check that every roll-up equals a recomputation from the raw tables (exit 1 if not).
    Check,
}

/// Options of `serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    #[arg(long, env = "EVO_BILLING_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Do not load the demo data into an empty database.
    #[arg(long)]
    no_demo: bool,
    /// Calls in the demo data (default 520,000; with --demo-customers, enough for most days).
    #[arg(long, env = "EVO_BILLING_DEMO_CALLS")]
    demo_calls: Option<usize>,
    /// Customers of the demo's first account (default ~100).
    #[arg(long, env = "EVO_BILLING_DEMO_CUSTOMERS")]
    demo_customers: Option<usize>,
    /// The built dashboard to serve at / (index.html and assets).
    #[arg(long, env = "EVO_BILLING_STATIC_DIR", default_value = "dist")]
    static_dir: PathBuf,
    /// Absolute URL clients reach this server at (for download links); default http://LISTEN.
    #[arg(long, env = "EVO_BILLING_PUBLIC_URL")]
    public_url: Option<String>,
    /// SMTP server for report emails: smtp://user:pass@host:port?from=addr, smtp+starttls://…,
    /// smtps://…. Without it, emails go to the outbox table and the log.
    #[arg(long, env = "EVO_BILLING_SMTP_URL")]
    smtp_url: Option<String>,
    /// HMAC key that signs webhooks; default: a random key kept in the database.
    #[arg(long, env = "EVO_BILLING_WEBHOOK_SECRET")]
    webhook_secret: Option<String>,
    /// Allow webhooks to private, loopback and link-local addresses (tests, on-premises).
    #[arg(long, env = "EVO_BILLING_ALLOW_PRIVATE_WEBHOOKS")]
    allow_private_webhooks: bool,
    /// Mark the session cookie Secure (serve behind HTTPS).
    #[arg(long, env = "EVO_BILLING_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Do not run the report worker in this process.
    #[arg(long)]
    no_worker: bool,
    /// This process's name in ReportInfo.server and on its leases (default hostname:port);
    /// a process that starts takes back the reports its name was running.
    #[arg(long, env = "EVO_BILLING_SERVER_NAME")]
    server_name: Option<String>,
    /// A browser origin (scheme://host[:port]) allowed to call the API cross-origin, with
    /// credentials (repeat for several; the variable takes a comma-separated list). Default: none,
    /// and no CORS headers at all.
    #[arg(
        long = "cors-origin",
        value_name = "ORIGIN",
        env = "EVO_BILLING_CORS_ORIGINS",
        value_delimiter = ',',
        value_parser = crate::config::cors_origin
    )]
    cors_origins: Vec<String>,
    /// Requests worked on at once; up to --max-queued more wait, the rest get 503 at once.
    #[arg(long, env = "EVO_BILLING_MAX_IN_FLIGHT", default_value_t = Limits::default().max_in_flight)]
    max_in_flight: usize,
    /// Requests that may wait for a slot.
    #[arg(long, env = "EVO_BILLING_MAX_QUEUED", default_value_t = Limits::default().max_queued)]
    max_queued: usize,
    /// Open connections at most; default: the file-descriptor limit (raised to its maximum at
    /// start) less a reserve.
    #[arg(long, env = "EVO_BILLING_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
}

impl ServeOptions {
    fn config(&self) -> Config {
        Config {
            listen: self.listen,
            public_url: self.public_url.clone(),
            static_dir: Some(self.static_dir.clone()),
            smtp_url: self.smtp_url.clone(),
            webhook_secret: self.webhook_secret.clone(),
            allow_private_webhooks: self.allow_private_webhooks,
            secure_cookies: self.secure_cookies,
            run_worker: !self.no_worker,
            server_name: self.server_name.clone(),
            cors_origins: self.cors_origins.clone(),
            limits: Limits {
                max_in_flight: self.max_in_flight,
                max_queued: self.max_queued,
                max_connections: self.max_connections,
                ..Limits::default()
            },
        }
    }
}

/// Runs the command line; the binary's `main`.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let database = cli.database.as_str();
    match cli.command {
        None => {
            #[derive(Parser)]
            struct DefaultServe {
                #[command(flatten)]
                opts: ServeOptions,
            }
            serve(database, DefaultServe::parse_from(["serve"]).opts).await
        }
        Some(Command::Serve(opts)) => serve(database, opts).await,
        Some(Command::ImportCalls {
            file,
            account,
            batch,
            help_columns,
        }) => {
            if help_columns {
                println!("{}", ingest::ledger_csv::documentation());
                Ok(())
            } else {
                import_calls(database, &file, account.as_deref(), batch).await
            }
        }
        Some(Command::ImportCustomers { file, account }) => {
            import_customers(database, &file, &account).await
        }
        Some(Command::SeedDemo { calls, customers }) => {
            seed_demo(database, demo_options(calls, customers)).await
        }
        Some(Command::CreateAccount {
            id,
            name,
            currency,
            home_country,
            account_sid,
        }) => {
            create_account(
                database,
                evo_billing_core::dto::CreateAccount {
                    id,
                    name: Some(name),
                    account_sid,
                    currency: Some(currency),
                    home_country: Some(home_country),
                },
            )
            .await
        }
        Some(Command::CreateUser {
            email,
            password,
            role,
            account,
            customer,
            name,
        }) => create_user(database, &email, &password, &role, account, customer, name).await,
        Some(Command::CreateApiKey {
            email,
            name,
            expires_in_days,
        }) => create_api_key(database, &email, &name, expires_in_days).await,
        Some(Command::ListApiKeys { email }) => list_api_keys(database, email.as_deref()).await,
        Some(Command::RevokeApiKey { id }) => {
            let db = open(database).await?;
            if !db.users().revoke_api_key(&id).await? {
                bail!("there is no API key '{id}'");
            }
            eprintln!("API key {id} revoked; running servers refuse it within 5 s (their cache).");
            Ok(())
        }
        Some(Command::Migrate) => {
            open(database).await?;
            println!("migrations applied");
            Ok(())
        }
        Some(Command::Analyze) => {
            open(database).await?.analyze().await?;
            println!("statistics refreshed");
            Ok(())
        }
        Some(Command::Check) => check(database).await,
    }
}

async fn open(database: &str) -> anyhow::Result<Store> {
    let db = Store::connect(database)
        .await
        .context("cannot open the database")?;
    db.migrate().await.context("cannot migrate the database")?;
    Ok(db)
}

async fn serve(database: &str, opts: ServeOptions) -> anyhow::Result<()> {
    let db = open(database).await?;
    let fresh = db.is_empty().await?;
    let demo = fresh && !opts.no_demo;
    if demo {
        let o = demo_options(opts.demo_calls, opts.demo_customers);
        eprintln!("Empty database: loading the demo data ({} calls)…", o.calls);
        load_demo(&db, o).await?;
    }
    let config = opts.config();
    let ctx = AppState::start(db, config).await?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    let addr = listener.local_addr()?;
    println!("evo-billing is running at http://{addr}/ (database: {database})");
    if demo {
        println!("Demo sign-ins:");
        for (role, email, password) in demo::DEMO_SIGN_INS {
            println!("  {role:<20} {email:<28} {password}");
        }
    }
    let fds = crate::serve::raise_fd_limit();
    let cap = crate::serve::connection_cap(&ctx.config.limits, fds);
    tracing::info!(max_connections = cap, fd_limit = fds, "listening");
    let limits = ctx.config.limits;
    crate::serve::run(
        listener,
        crate::http::app(ctx),
        limits,
        cap,
        shutdown_signal(),
    )
    .await?;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// The demo's options: `calls` (default 520,000, or what `customers` needs) and the first
/// account's size.
fn demo_options(calls: Option<usize>, customers: Option<usize>) -> DemoOptions {
    let d = DemoOptions::default();
    DemoOptions {
        calls: calls.unwrap_or_else(|| customers.map_or(d.calls, DemoOptions::calls_for_customers)),
        customers,
        ..d
    }
}

async fn load_demo(db: &Store, opts: DemoOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let s = ingest::load_demo(db, opts).await?;
    eprintln!(
        "Demo data loaded in {:.1} s: {} accounts, {} customers, {} calls, {} billables, {} SMS, {} number rentals",
        started.elapsed().as_secs_f64(),
        s.accounts,
        s.customers,
        s.calls,
        s.billables,
        s.sms,
        s.numbers
    );
    Ok(())
}

async fn seed_demo(database: &str, opts: DemoOptions) -> anyhow::Result<()> {
    let db = open(database).await?;
    if !db.is_empty().await? {
        bail!("the database already has data; seed-demo loads only into an empty database");
    }
    load_demo(&db, opts).await
}

async fn create_account(
    database: &str,
    req: evo_billing_core::dto::CreateAccount,
) -> anyhow::Result<()> {
    use evo_billing_core::validation::Validate;
    let v = req.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = open(database).await?;
    let account = Account {
        id: v.id.unwrap_or_else(|| crate::ids::new_id("acc-")),
        name: v.name,
        account_sid: v.account_sid.unwrap_or_else(crate::ids::new_account_sid),
        home_country: v.home_country,
        currency: v.currency,
    };
    let a = db.accounts().create(&account).await?;
    println!(
        "created account {} ({}, {}, {}, {})",
        a.id,
        a.name,
        a.account_sid,
        a.currency.code(),
        a.home_country
    );
    Ok(())
}

async fn create_user(
    database: &str,
    email: &str,
    password: &str,
    role: &str,
    accounts: Vec<String>,
    customer: Option<String>,
    name: Option<String>,
) -> anyhow::Result<()> {
    let db = open(database).await?;
    let Some(role) = Role::parse(role) else {
        bail!("unknown role '{role}': SystemAdministrator, Manager or Customer");
    };
    for a in &accounts {
        if db.accounts().get(a).await?.is_none() {
            bail!("there is no account '{a}'");
        }
    }
    let mut account_ids = accounts;
    if let Some(c) = &customer {
        let Some(row) = db.accounts().customer(c).await? else {
            bail!("there is no customer '{c}'");
        };
        account_ids = vec![row.account_id];
    }
    if role == Role::Manager && account_ids.is_empty() {
        bail!("a Manager needs at least one --account");
    }
    let id = crate::auth::create_user(
        &db,
        &NewUser {
            email: email.to_string(),
            display_name: name.unwrap_or_else(|| email.to_string()),
            password: password.to_string(),
            role,
            account_ids,
            customer_id: customer,
        },
    )
    .await?;
    println!("created user {id} ({email}, {})", role.as_str());
    Ok(())
}

async fn create_api_key(
    database: &str,
    email: &str,
    name: &str,
    days: Option<u32>,
) -> anyhow::Result<()> {
    let db = open(database).await?;
    let Some(user) = db.users().by_email(email).await? else {
        bail!("there is no user '{email}'");
    };
    let (key, id) = crate::auth::create_expiring_api_key(&db, &user.id, name, days).await?;
    println!("{key}");
    let until = days.map_or_else(
        || "it does not expire".to_string(),
        |d| format!("it expires in {d} days"),
    );
    eprintln!("API key {id} for {email} created ({until}); it is shown only now. Send it as 'Authorization: Bearer {key}'. Revoke it with: evo-billing-server revoke-api-key {id}");
    Ok(())
}

async fn list_api_keys(database: &str, email: Option<&str>) -> anyhow::Result<()> {
    let db = open(database).await?;
    let user_id = match email {
        Some(e) => match db.users().by_email(e).await? {
            Some(u) => Some(u.id),
            None => bail!("there is no user '{e}'"),
        },
        None => None,
    };
    let day = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    let now = chrono::Utc::now().timestamp();
    println!("id\towner\tname\tcreated\texpires\tstate");
    for k in db.users().api_keys(user_id.as_deref()).await? {
        let state = if k.revoked {
            "revoked"
        } else if k.expires_at.is_some_and(|t| t <= now) {
            "expired"
        } else {
            "active"
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{state}",
            k.id,
            k.email,
            k.name,
            day(k.created_at),
            k.expires_at.map_or_else(|| "never".to_string(), day)
        );
    }
    Ok(())
}

/// A progress bar over a file's bytes.
fn progress_bar(file: &Path) -> anyhow::Result<indicatif::ProgressBar> {
    let b = indicatif::ProgressBar::new(ingest::file_size(file)?);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
    {
        b.set_style(style);
    }
    Ok(b)
}

fn show(bar: &indicatif::ProgressBar, bytes: u64, report: &ImportReport) {
    bar.set_position(bytes);
    bar.set_message(format!(
        "{} loaded, {} skipped, {} rejected",
        report.loaded,
        report.skipped,
        report.rejected.len()
    ));
}

/// Prints a load's outcome; an error (non-zero exit) when rows were rejected.
fn finish(file: &Path, report: &ImportReport, started: Instant) -> anyhow::Result<()> {
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
    if !report.rejected.is_empty() {
        bail!(
            "{} rows were rejected (listed above); the {} good rows are loaded",
            report.rejected.len(),
            report.loaded
        );
    }
    Ok(())
}

async fn import_calls(
    database: &str,
    file: &Path,
    account: Option<&str>,
    batch: usize,
) -> anyhow::Result<()> {
    let db = open(database).await?;
    let started = Instant::now();
    let bar = progress_bar(file)?;
    let report =
        ingest::import_file(&db, file, account, batch, &mut |b, r| show(&bar, b, r)).await?;
    bar.finish_and_clear();
    finish(file, &report, started)
}

async fn import_customers(database: &str, file: &Path, account: &str) -> anyhow::Result<()> {
    let db = open(database).await?;
    let started = Instant::now();
    let bar = progress_bar(file)?;
    let report = ingest::import_customers(&db, file, account, &mut |b, r| show(&bar, b, r)).await?;
    bar.finish_and_clear();
    finish(file, &report, started)
}

async fn check(database: &str) -> anyhow::Result<()> {
    let db = open(database).await?;
    let problems = db.rollups().check().await?;
    if problems.is_empty() {
        println!("roll-ups agree with the raw tables");
        return Ok(());
    }
    for p in problems.iter().take(50) {
        eprintln!("mismatch: {p}");
    }
    bail!(
        "{} roll-up rows disagree with a recomputation from the raw tables",
        problems.len()
    )
}
