//! The HTTP application: `app(state)` is the whole product behind one `Router`, so tests drive it
//! with `tower::ServiceExt::oneshot` and the binary serves it.
//!
//! Routes follow ServiceStack ([`router`], built from core's route table): custom routes
//! (`/billing`), `/api/{Operation}` and `/json/reply/{Operation}` (operation names
//! case-insensitive), format suffixes (`/billing.csv`), `?format=`, `?callback=` and `Accept`
//! ([`negotiate`], [`reply`]). Requests are read by the extractors of [`call`] and
//! [`binding`]; every failure is an [`error::ApiError`]. Anything that is not the API is the
//! dashboard ([`static_files`]). Browser apps on the origins of `--cors-origin` may call it
//! cross-origin ([`cors`], inside the headers every answer carries, outside [`normalize`];
//! absent by default).
//!
//! Layers, outside in: tracing; gzip (when the client accepts it); [`normalize`] (case of operation names, format suffixes: before
//! routing); [`reply::render`] (the negotiated body of every answer and error, and the one log
//! line of each 500); [`admission::admit`] (how many requests run at once, load shedding,
//! timeouts); [`csrf::check`] (cookie-authenticated writes come from this server's
//! pages); the router. Around them all, the headers every answer carries (`nosniff`,
//! `X-Frame-Options`, `Referrer-Policy`, `Cache-Control: no-store` unless the answer set its own);
//! the dashboard's HTML also gets its Content-Security-Policy ([`static_files`]).

pub mod admission;
pub mod binding;
pub mod call;
pub mod csrf;
pub mod error;
pub mod negotiate;
pub mod openapi;
pub mod ops;
pub mod reply;
pub mod router;
pub mod static_files;

mod cors;

use axum::extract::Request;
use axum::http::{header, HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use evo_billing_core::routes;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::state::Ctx;
use negotiate::strip_format_suffix;
use reply::SuffixFormat;

/// The whole application.
pub fn app(ctx: Ctx) -> Router {
    let cors_origins = ctx.config.cors_origins.clone();
    let routed = router::api_router()
        .fallback(static_files::fallback)
        .layer(middleware::from_fn_with_state(ctx.clone(), csrf::check))
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            admission::admit,
        ))
        .layer(middleware::from_fn(reply::render))
        .with_state(ctx);
    // The path must be normalized before routing, so that middleware wraps the whole router (a
    // `Router::layer` runs after the route was chosen).
    let normalized = tower::ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        // gzip for clients that ask (a 10,000-customer ListCustomers is 1.65 MB of JSON).
        .layer(CompressionLayer::new())
        // Every answer: no type sniffing, no framing, no referrer leaving the site; an answer
        // that sets no caching of its own (every API answer: billing data, errors, files) is
        // never stored. Dashboard files set theirs (immutable assets, no-cache HTML).
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(tower::layer::layer_fn(|s| cors::wrap(&cors_origins, s)))
        .layer(middleware::from_fn(normalize))
        .service(routed);
    Router::new().fallback_service(normalized)
}

/// Before routing: ServiceStack's pre-defined routes match case-insensitively (`/API/getbilling`
/// is `/api/GetBilling`), and an API path may carry a format suffix (`/billing.csv`), which is
/// stripped and remembered for negotiation.
async fn normalize(mut req: Request, next: Next) -> Response {
    if let Some(canonical) = canonical_operation_path(req.uri().path()) {
        set_path(&mut req, &canonical);
    }
    let path = req.uri().path();
    // Only API paths take a suffix: `/openapi.json` and dashboard files keep their names.
    let suffixed = strip_format_suffix(path).and_then(|(stripped, format)| {
        let canonical = canonical_operation_path(&stripped).unwrap_or(stripped);
        let is_api = canonical.starts_with("/api/")
            || canonical.starts_with("/json/reply/")
            || routes::matching(&canonical).next().is_some()
            || (routes::is_api_path(&canonical) && canonical != "/openapi");
        is_api.then_some((canonical, format))
    });
    if let Some((path, format)) = suffixed {
        set_path(&mut req, &path);
        req.extensions_mut().insert(SuffixFormat(format));
    }
    next.run(req).await
}

/// `/API/getBilling` → `/api/GetBilling`; `None` when the path is not a pre-defined operation
/// route, or already canonical.
fn canonical_operation_path(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    for prefix in ["/api/", "/json/reply/"] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let name = &path[prefix.len()..];
            // `NewBillable%5B%5D` is `NewBillable[]` as a client may percent-encode it.
            let decoded = rest.replace("%5b", "[").replace("%5d", "]");
            let op = routes::operation(&decoded).map_or(name, |r| r.name);
            let canonical = format!("{prefix}{op}");
            return (canonical != path).then_some(canonical);
        }
    }
    None
}

fn set_path(req: &mut Request, path: &str) {
    let pq = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    if let Ok(uri) = pq.parse::<Uri>() {
        *req.uri_mut() = uri;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_canonical() {
        assert_eq!(
            canonical_operation_path("/API/getbilling").as_deref(),
            Some("/api/GetBilling")
        );
        assert_eq!(
            canonical_operation_path("/json/reply/NEWBILLABLE[]").as_deref(),
            Some("/json/reply/NewBillable[]")
        );
        assert_eq!(canonical_operation_path("/api/GetBilling"), None);
        assert_eq!(
            canonical_operation_path("/api/NewBillable%5B%5D").as_deref(),
            Some("/api/NewBillable[]")
        );
        assert_eq!(
            canonical_operation_path("/Api/Nope").as_deref(),
            Some("/api/Nope")
        );
        assert_eq!(canonical_operation_path("/billing"), None);
    }
}
