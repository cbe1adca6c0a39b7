//! # evo-billing-web
//!
//! The managers' dashboard: a Leptos 0.8 single-page app, client-side rendered, that talks to the
//! API only through core's [`BillingClient`](evo_billing_core::client::BillingClient) (cookie
//! credentials) and checks every request with core's rules, computes money only as core's
//! `Micros` and dates only as core's `DateRange` and presets.
//!
//! The logic with decisions in it is plain Rust, compiled on every target and tested natively
//! and in headless Chromium: [`query`] (the URL state), [`table`] (customers: join, subtree
//! totals, sort, filter, pages), [`chart`] (axis scales), [`projection`] (month-end estimate),
//! [`format`] (how figures read). The UI (`app`, `api`, `components`, `pages`) exists on wasm32
//! only.

// The test build does not mount the app (`start` is left out), so the UI looks unused there.
#![cfg_attr(all(test, target_arch = "wasm32"), allow(dead_code))]

pub mod chart;
pub mod format;
pub mod projection;
pub mod query;
pub mod table;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod pages;
#[cfg(target_arch = "wasm32")]
mod router;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the dashboard into `<body>` (called by the boot module once the wasm is loaded).
#[cfg(all(target_arch = "wasm32", not(test)))]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    app::mount();
}
