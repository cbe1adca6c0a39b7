//! evo-billing-server: the Evo Voice billing API (ServiceStack-compatible) on axum, with SQLite
//! (embedded default) or PostgreSQL.
//!
//! [`http::app`] builds the whole HTTP application from its state ([`state::AppState`], built
//! from a [`store::Store`] and a [`config::Config`]), so tests drive it with
//! `tower::ServiceExt::oneshot` and the binary serves it. ARCHITECTURE.md has the map; in short:
//! `http` (routes, extractors, formats, errors, one file of handlers per resource) → `auth`
//! (who may see what) → `store` (the only SQL); `reports` (the worker) and `notify` (webhook,
//! email) run beside; `ingest` loads ledgers, customer trees and the demo data; `cli` is the
//! command line.

pub mod auth;
pub mod cli;
pub mod config;
pub mod http;
pub mod ids;
pub mod ingest;
pub mod model;
pub mod notify;
pub mod reports;
pub mod serve;
pub mod state;
pub mod store;
