//! Cross-site request forgery: a browser sends the session cookie with any request to this
//! server, whoever's page made it. So a state-changing request (any method but GET, HEAD and
//! OPTIONS; the route table keeps every write off GET) that is authenticated by the cookie alone
//! must come from this server's own pages: its `Origin` (or, without one, its `Referer`) must be
//! this server, as the request's `Host` names it or as `--public-url` says. Sign-in likewise, when
//! a browser sends it (login CSRF); a client that sends no `Origin` and no cookie (curl, a
//! ServiceStack client, a server) is not a browser page and is not checked. Requests with an
//! `Authorization` header carry their credential explicitly and cannot be forged by a page.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use evo_billing_core::routes;

use super::error::ApiError;
use crate::auth::credentials::cookie;
use crate::auth::SESSION_COOKIE;
use crate::state::Ctx;

/// `scheme://host[:port]` of a URL (the origin a browser would send), lower-cased.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{}://{}", scheme, authority).to_ascii_lowercase())
}

/// Is this request's page this server's own?
fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(origin) = text(header::ORIGIN)
        .filter(|o| *o != "null")
        .and_then(origin_of)
        .or_else(|| text(header::REFERER).and_then(origin_of))
    else {
        return false;
    };
    let host = text(header::HOST).map(str::to_ascii_lowercase);
    let authority = origin.split_once("://").map(|(_, a)| a.to_string());
    host.is_some() && authority == host || origin_of(public_url).as_deref() == Some(&origin)
}

/// Is the request's page on an origin of `--cors-origin`? Those apps may read every answer with
/// credentials anyway (see `http::cors`), so they are trusted like this server's own pages.
fn cors_listed(headers: &HeaderMap, config: &crate::config::Config) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    origin.is_some_and(|o| config.cors_origins.iter().any(|listed| listed == o))
}

/// Is this a sign-in request?
fn is_sign_in(method: &Method, path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    method == Method::POST
        && (routes::AUTHENTICATE.matches(path)
            || routes::AUTH.matches(path)
            || lower == "/api/authenticate"
            || lower == "/json/reply/authenticate")
}

/// The check, before routing (after the path is normalized).
pub(super) async fn check(State(ctx): State<Ctx>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let headers = req.headers();
    let safe = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let by_cookie =
        cookie(headers, SESSION_COOKIE).is_some() && !headers.contains_key(header::AUTHORIZATION);
    let from_a_page = headers.contains_key(header::ORIGIN) || headers.contains_key(header::REFERER);
    let sign_in = is_sign_in(&method, req.uri().path());
    let checked = !safe && (by_cookie || (sign_in && from_a_page));
    if checked && !same_origin(headers, &ctx.public_url) && !cors_listed(headers, &ctx.config) {
        return ApiError::Forbidden(
            "Cross-site request refused: a request signed in by the session cookie must come \
             from this server's own pages (its Origin must be this server)."
                .into(),
        )
        .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://Billing.Example.com:8443/x?y").as_deref(),
            Some("https://billing.example.com:8443")
        );
        let public = "http://127.0.0.1:8080";
        assert!(same_origin(
            &headers(&[
                ("origin", "http://localhost:8080"),
                ("host", "localhost:8080")
            ]),
            public
        ));
        assert!(same_origin(
            &headers(&[("origin", "http://127.0.0.1:8080")]),
            public
        ));
        assert!(same_origin(
            &headers(&[
                ("referer", "http://billing.test/app/reports"),
                ("host", "billing.test")
            ]),
            public
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.example"), ("host", "billing.test")]),
            public
        ));
        assert!(!same_origin(
            &headers(&[("origin", "null"), ("host", "billing.test")]),
            public
        ));
        assert!(!same_origin(&headers(&[("host", "billing.test")]), public));
        assert!(is_sign_in(&Method::POST, "/auth/credentials"));
        assert!(is_sign_in(&Method::POST, "/api/Authenticate"));
        assert!(!is_sign_in(&Method::GET, "/auth"));
    }
}
