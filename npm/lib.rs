//! The npm package `evo-billing`: links evo-billing-core's JavaScript API (`core/src/js.rs`) into a
//! cdylib for wasm-pack. Nothing else lives here.

#[cfg(target_arch = "wasm32")]
pub use evo_billing_core::js::*;
