//! The operations, one file per resource. Each handler is a plain `async fn(…) ->
//! ApiResult<…>`: extractors check the caller and bind the request ([`super::call`]), core
//! validates it, the handler checks role and scope and asks the store. No rule about requests is
//! written here: those live in core.

pub mod accounts;
pub mod auth;
pub mod billables;
pub mod billing;
pub mod health;
pub mod reports;
pub mod usage;
