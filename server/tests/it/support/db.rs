//! A fresh, migrated database per test: a SQLite file in its own temporary folder, or a new
//! database on the PostgreSQL server named by `EVO_BILLING_TEST_POSTGRES`. Both go away when the
//! last handle of the test is dropped (the folder is deleted; the database is dropped, `WITH
//! (FORCE)`, from a thread of its own since `Drop` cannot await).

use std::ops::Deref;
use std::sync::Arc;

use evo_billing_server::store::Store;

use super::Backend;

/// What to remove when a test's database is no longer used.
enum Cleanup {
    Folder(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = self {
            let (admin_url, db_name) = (admin_url.clone(), name.clone());
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let admin = Store::connect(&admin_url).await.ok()?;
                    let r = admin.drop_database(&db_name).await;
                    admin.pool.close().await;
                    r.ok()
                })
            })
            .join();
            if !matches!(dropped, Ok(Some(()))) {
                eprintln!("warning: the test database {name} could not be dropped");
            }
        }
    }
}

/// A test's database: derefs to the [`Store`]; clones share it; the last one cleans up.
#[derive(Clone)]
pub struct TestDb {
    pub store: Store,
    /// Where it can be opened again (durability tests).
    pub url: String,
    _cleanup: Arc<Cleanup>,
}

impl Deref for TestDb {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

/// A temporary folder, deleted when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("evo-billing-test-")
        .tempdir()
        .expect("a temporary folder")
}

/// A fresh, migrated database.
pub async fn fresh_db(backend: Backend) -> TestDb {
    let (url, cleanup) = match backend {
        Backend::Sqlite => {
            let dir = temp_dir();
            let url = format!("sqlite://{}/test.db", dir.path().display());
            (url, Cleanup::Folder(dir))
        }
        Backend::Postgres => {
            let admin_url = std::env::var("EVO_BILLING_TEST_POSTGRES")
                .expect("EVO_BILLING_TEST_POSTGRES names the test server");
            let name = format!("evo_test_{}", &evo_billing_server::ids::new_token()[..16]);
            let admin = Store::connect(&admin_url).await.unwrap();
            admin.create_database(&name).await.unwrap();
            admin.pool.close().await;
            let (base, _) = admin_url.rsplit_once('/').unwrap();
            (
                format!("{base}/{name}"),
                Cleanup::Postgres { admin_url, name },
            )
        }
    };
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    TestDb {
        store,
        url,
        _cleanup: Arc::new(cleanup),
    }
}
