//! `evo-billing-server`: serve the API, load data, manage users.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use evo_billing_server::cli;

#[derive(Parser)]
#[command(
    name = "evo-billing-server",
    version,
    about = "The Evo Voice billing API (ServiceStack-compatible) on SQLite or PostgreSQL"
)]
struct Args {
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
    Serve(cli::ServeOptions),
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
    /// Load the deterministic demo data set (into an empty database).
    SeedDemo {
        /// Calls to generate.
        #[arg(long, default_value_t = 520_000)]
        calls: usize,
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
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Refresh the query planner's statistics (done after seed-demo and import-calls).
    Analyze,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let result = match args
        .command
        .unwrap_or(Command::Serve(cli::ServeOptions::default_from_env()))
    {
        Command::Serve(opts) => cli::serve(&args.database, opts).await,
        Command::ImportCalls {
            file,
            account,
            batch,
            help_columns,
        } => {
            if help_columns {
                println!("{}", evo_billing_server::import::documentation());
                Ok(())
            } else {
                cli::import_calls(&args.database, &file, account.as_deref(), batch).await
            }
        }
        Command::SeedDemo { calls } => cli::seed_demo(&args.database, calls).await,
        Command::CreateUser {
            email,
            password,
            role,
            account,
            customer,
            name,
        } => {
            cli::create_user(
                &args.database,
                &email,
                &password,
                &role,
                account,
                customer,
                name,
            )
            .await
        }
        Command::CreateApiKey { email, name } => {
            cli::create_api_key(&args.database, &email, &name).await
        }
        Command::Migrate => cli::migrate(&args.database).await,
        Command::Analyze => cli::analyze(&args.database).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("evo-billing-server: {e}");
            ExitCode::FAILURE
        }
    }
}
