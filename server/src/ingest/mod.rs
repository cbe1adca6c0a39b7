//! Getting data in: a carrier's call ledger from CSV ([`ledger_csv`], [`import_file`]), an
//! account's customer tree from CSV ([`customers_csv`], [`import_customers`]), and the
//! deterministic demo data set ([`demo`], [`load_demo`]).
//!
//! Every load commits in batches, each batch with its roll-ups, and reports what it loaded,
//! skipped (already there, blank, comment) and rejected (with the line and the reason); the good
//! rows of a file with bad rows stay loaded.

mod csv_reader;
pub mod customers_csv;
pub mod demo;
pub mod ledger_csv;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::model::{Account, CallRecord, Customer, ResolvedBillable};
use crate::store::days::day_of_time;
use crate::store::{Store, StoreError};
use demo::{DemoBatch, DemoOptions, DemoSummary};
use ledger_csv::{HeaderError, LedgerReader, RowOutcome};

/// Why a load stopped.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Header(#[from] HeaderError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("there is no account '{0}'")]
    NoAccount(String),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error("the demo generator stopped: {0}")]
    Generator(String),
}

/// What a load did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub loaded: u64,
    /// Rows already in the database (same key), and blank/comment/header lines.
    pub skipped: u64,
    /// `(line, reason)`; reasons start with `line N: `.
    pub rejected: Vec<(u64, String)>,
}

/// Progress of a load: bytes of the file read so far, and the report so far.
pub type Progress<'a> = &'a mut dyn FnMut(u64, &ImportReport);

fn open(file: &Path) -> Result<(u64, std::io::BufReader<std::fs::File>), IngestError> {
    let io = |source| IngestError::Io {
        path: file.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(file).map_err(io)?.len();
    let f = std::fs::File::open(file).map_err(io)?;
    Ok((size, std::io::BufReader::new(f)))
}

/// The size of a file to load, for a progress bar.
pub fn file_size(file: &Path) -> Result<u64, IngestError> {
    Ok(open(file)?.0)
}

/// Imports a ledger CSV: batches of `batch` rows, each in its own transaction with its roll-ups.
/// With `account`, every row belongs to that account (a row naming another AccountSid is
/// rejected); without it, each row's AccountSid names its account.
pub async fn import_file(
    db: &Store,
    file: &Path,
    account: Option<&str>,
    batch: usize,
    progress: Progress<'_>,
) -> Result<ImportReport, IngestError> {
    let (_, reader) = open(file)?;
    let mut rows = LedgerReader::new(reader)?;
    let fixed_account = match account {
        Some(a) => Some(
            db.accounts()
                .get(a)
                .await?
                .ok_or_else(|| IngestError::NoAccount(a.to_string()))?,
        ),
        None => None,
    };
    let mut by_sid: HashMap<String, Option<Account>> = HashMap::new();
    let mut report = ImportReport::default();
    let mut pending: Vec<CallRecord> = Vec::with_capacity(batch.max(1));
    loop {
        let next = rows.next();
        let done = next.is_none();
        if let Some(outcome) = next {
            match outcome {
                RowOutcome::Row(row) => {
                    let account = match (&fixed_account, &row.account_sid) {
                        (Some(a), None) => Ok(a.clone()),
                        (Some(a), Some(sid)) if *sid == a.account_sid => Ok(a.clone()),
                        (Some(a), Some(sid)) => Err(format!(
                            "line {}: AccountSid {sid} is not account {}",
                            row.line, a.id
                        )),
                        (None, Some(sid)) => {
                            if !by_sid.contains_key(sid) {
                                let found = db.accounts().by_sid(sid).await?;
                                by_sid.insert(sid.clone(), found);
                            }
                            by_sid.get(sid).cloned().flatten().ok_or_else(|| {
                                format!("line {}: no account has AccountSid {sid}", row.line)
                            })
                        }
                        (None, None) => Err(format!(
                            "line {}: no AccountSid, and no --account given",
                            row.line
                        )),
                    };
                    // One currency per account: a row in another is not summed with its
                    // account's (there is no conversion); an empty PriceUnit is the account's.
                    let account = account.and_then(|a| match row.price_unit {
                        Some(c) if c != a.currency => Err(format!(
                            "line {}: PriceUnit {} is not the currency of account {} ({}); \
                             rows must be in the account's currency",
                            row.line,
                            c.code(),
                            a.id,
                            a.currency.code()
                        )),
                        _ => Ok(a),
                    });
                    match account {
                        Ok(a) => {
                            let mut call = row.call;
                            call.account_id = a.id;
                            call.currency = a.currency;
                            pending.push(call);
                        }
                        Err(reason) => report.rejected.push((row.line, reason)),
                    }
                }
                RowOutcome::Skipped { .. } => report.skipped += 1,
                RowOutcome::Rejected { line, reason } => report.rejected.push((line, reason)),
            }
        }
        if pending.len() >= batch.max(1) || (done && !pending.is_empty()) {
            let inserted = db.ledger().insert_calls(&pending, true).await?;
            report.loaded += inserted;
            report.skipped += pending.len() as u64 - inserted;
            pending.clear();
            progress(rows.bytes_read(), &report);
        }
        if done {
            break;
        }
    }
    if report.loaded > 0 {
        db.analyze().await?;
    }
    Ok(report)
}

/// Imports an account's customers from CSV (`Id,Name,Parent`; see [`customers_csv`]): parents
/// may come after their children in the file; a row whose parent is neither in the file nor in
/// the account, or that would close a cycle, is rejected with its line. Existing ids are
/// skipped. All accepted rows are written in one transaction.
pub async fn import_customers(
    db: &Store,
    file: &Path,
    account_id: &str,
    progress: Progress<'_>,
) -> Result<ImportReport, IngestError> {
    let (size, reader) = open(file)?;
    db.accounts()
        .get(account_id)
        .await?
        .ok_or_else(|| IngestError::NoAccount(account_id.to_string()))?;
    let existing: HashMap<String, Option<String>> = db
        .accounts()
        .customers(account_id, None)
        .await?
        .into_iter()
        .map(|c| (c.id, c.parent_id))
        .collect();
    let parsed = customers_csv::read(reader)?;
    let mut report = ImportReport {
        skipped: parsed.skipped,
        rejected: parsed.rejected,
        ..Default::default()
    };
    let plan = customers_csv::order(parsed.rows, &existing, &mut report);
    progress(size / 2, &report);
    let customers: Vec<Customer> = plan
        .into_iter()
        .map(|r| Customer {
            id: r.id,
            account_id: account_id.to_string(),
            parent_id: r.parent,
            name: r.name,
        })
        .collect();
    let inserted = db.accounts().insert_customers(&customers).await?;
    report.loaded += inserted;
    report.skipped += customers.len() as u64 - inserted;
    progress(size, &report);
    Ok(report)
}

/// Loads the demo data set; returns when it is committed.
pub async fn load_demo(db: &Store, opts: DemoOptions) -> Result<DemoSummary, IngestError> {
    let started = Instant::now();
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
        match batch {
            DemoBatch::Accounts(a) => db.accounts().insert(&a).await?,
            DemoBatch::Customers(c) => {
                db.accounts().insert_customers(&c).await?;
            }
            DemoBatch::Users(users) => {
                for u in users {
                    crate::auth::create_user(db, &u).await?;
                }
            }
            DemoBatch::Sessions(s) => db.ledger().insert_call_sessions(&s).await?,
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
                db.ledger().insert_billables(&resolved).await?;
            }
            DemoBatch::Calls(c) => {
                for call in &c {
                    widen(&call.account_id, day_of_time(call.start_time));
                }
                db.ledger().insert_calls(&c, false).await?;
            }
            DemoBatch::Sms(s) => {
                for m in &s {
                    widen(&m.account_id, day_of_time(m.sent_at));
                }
                db.ledger().insert_sms(&s, false).await?;
            }
            DemoBatch::Numbers(n) => {
                for r in &n {
                    widen(&r.account_id, day_of_time(r.charged_at));
                }
                db.ledger().insert_numbers(&n, false).await?;
            }
        }
    }
    let summary = generator
        .await
        .map_err(|e| IngestError::Generator(e.to_string()))?
        .map_err(IngestError::Generator)?;
    for (account, (first, last)) in days {
        db.rollups().rebuild(&account, first, last).await?;
    }
    db.analyze().await?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        accounts = summary.accounts,
        customers = summary.customers,
        calls = summary.calls,
        billables = summary.billables,
        sms = summary.sms,
        numbers = summary.numbers,
        "demo data loaded"
    );
    Ok(summary)
}
