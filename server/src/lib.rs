//! evo-billing-server: the Evo Voice billing API (ServiceStack-compatible) on axum, with SQLite
//! (embedded default) or PostgreSQL.
//!
//! [`app::app`] builds the whole HTTP application from its state, so tests drive it with
//! `tower::ServiceExt::oneshot` and the binary serves it on a listener. See ARCHITECTURE.md for
//! the map.

pub mod api;
pub mod app;
pub mod auth;
pub mod billables;
pub mod binding;
pub mod cli;
pub mod db;
pub mod demo;
pub mod error;
pub mod format;
pub mod import;
pub mod ledger;
pub mod mailer;
pub mod model;
pub mod openapi;
pub mod queries;
pub mod report_file;
pub mod reports;
pub mod webhook;
