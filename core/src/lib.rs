//! # evo-billing-core
//!
//! The billing rules of Evo Voice in one crate, compiled natively for the server and to
//! WebAssembly for the dashboard and the npm package `evo-billing`, so client and server can never
//! disagree about them:
//!
//! - [`dto`]: the wire types of the four operations (NewBillable, GetBilling, BillingReport,
//!   ListUsageRecords), auth and errors, JSON exactly as ServiceStack writes it;
//! - [`validation`]: every request's rules, returning ServiceStack field errors;
//! - [`date_range`]: inclusive day ranges that cannot be inverted, API date parsing, presets;
//! - [`money`]: exact amounts in integer micro-units;
//! - [`aggregate`]: totals, merges, top customers, usage roll-ups, CSV export;
//! - [`jsv`]: ServiceStack's JSV text format;
//! - [`client`]: the typed API client (routes, error decoding; fetch transport on wasm32);
//! - `js` (feature `js`, wasm32): the JavaScript API with generated TypeScript types.
//!
//! ```
//! use evo_billing_core::{dto::GetBilling, validation::Validate};
//! let query = GetBilling {
//!     account_id: Some("AC1".into()),
//!     start_date: Some("2026-03-01".into()),
//!     end_date: Some("2026-03-31T23:00:00Z".into()),
//!     customer_id: None,
//! };
//! assert_eq!(query.validate().unwrap().range.days(), 31);
//! ```

pub mod aggregate;
pub mod client;
pub mod csv;
pub mod date_range;
pub mod dto;
pub mod jsv;
pub mod money;
pub mod routes;
pub mod usage;
pub mod validation;

#[cfg(all(feature = "js", target_arch = "wasm32"))]
pub mod js;
