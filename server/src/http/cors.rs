//! Cross-origin requests from browser apps on other origins (`--cors-origin`), with tower-http's
//! `CorsLayer`. Off by default: with no origin configured the application has no CORS layer at
//! all. With origins, a request whose `Origin` is one of them (exactly, as a browser writes it)
//! goes through the layer: a preflight (`OPTIONS`) is answered there and never reaches the
//! router; other requests get `Access-Control-Allow-Origin: <that origin>`,
//! `Access-Control-Allow-Credentials: true` and `Access-Control-Expose-Headers: Retry-After`.
//! Any other request (no `Origin`, or one not listed) bypasses the layer and gets no CORS header
//! at all, only `Vary: Origin`, so that a cache never serves one origin's answer to another.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::response::Response;
use tower::util::Either;
use tower::{Layer, Service, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight's answer.
pub const MAX_AGE: Duration = Duration::from_secs(600);

/// The layer for these origins (checked by [`crate::config::cors_origin`]; one that is not a
/// valid header value is logged and left out).
fn layer(origins: &[HeaderValue]) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::HEAD])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([header::RETRY_AFTER])
        .max_age(MAX_AGE)
}

/// `inner`, answering the listed origins' cross-origin requests; `inner` itself when `origins`
/// is empty.
pub fn wrap<S>(
    origins: &[String],
    inner: S,
) -> impl Service<Request, Response = Response, Error = Infallible, Future = impl Send + 'static>
       + Clone
       + Send
       + Sync
       + 'static
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    let listed: Arc<[HeaderValue]> = origins
        .iter()
        .filter_map(|o| match HeaderValue::from_str(o) {
            Ok(v) => Some(v),
            Err(_) => {
                tracing::error!(origin = %o, "not a valid origin; left out of CORS");
                None
            }
        })
        .collect();
    if listed.is_empty() {
        return Either::Left(inner);
    }
    let with_cors = layer(&listed).layer(inner.clone());
    // Only the service a request goes to is cloned for it.
    Either::Right(tower::service_fn(move |req: Request| {
        let from_listed = req
            .headers()
            .get(header::ORIGIN)
            .is_some_and(|o| listed.contains(o));
        let to = if from_listed {
            Either::Left(with_cors.clone())
        } else {
            Either::Right(inner.clone())
        };
        async move {
            match to {
                Either::Left(with_cors) => with_cors.oneshot(req).await,
                Either::Right(plain) => {
                    let mut resp = plain.oneshot(req).await?;
                    resp.headers_mut()
                        .append(header::VARY, HeaderValue::from_static("origin"));
                    Ok(resp)
                }
            }
        }
    }))
}
