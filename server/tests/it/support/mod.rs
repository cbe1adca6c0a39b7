//! Test support, split by concern: [`db`] (a fresh database per test on SQLite or PostgreSQL,
//! dropped when the test ends), [`fixture`] (the data with known numbers), [`app`] (the whole
//! app driven with `tower::ServiceExt::oneshot`, and request helpers), [`checks`] (assertions
//! shared by the suites).
#![allow(dead_code)]

pub mod app;
pub mod checks;
pub mod db;
pub mod fixture;

pub use app::*;
pub use checks::*;
pub use db::*;
pub use fixture::*;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for an `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if !$crate::support::postgres_available() {
                        return;
                    }
                    super::$name($crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// Is a PostgreSQL server configured? When not, says so loudly (the test then passes vacuously,
/// and `cargo xtask test` refuses to run without PostgreSQL unless told to skip it).
pub fn postgres_available() -> bool {
    if std::env::var("EVO_BILLING_TEST_POSTGRES").is_ok() {
        return true;
    }
    eprintln!(
        "\n!!!!!!!! PostgreSQL UNAVAILABLE: EVO_BILLING_TEST_POSTGRES is not set; this PostgreSQL test did NOT run !!!!!!!!\n"
    );
    false
}
