//! The HTTP application: state, router, and the request context every handler gets.
//!
//! `app(state)` is the whole product behind one `Router`, so tests drive it with
//! `tower::ServiceExt::oneshot` and the binary serves it. Routes follow ServiceStack: custom
//! routes (`/billing`), `/api/{Operation}` and `/json/reply/{Operation}` (any verb, operation names
//! case-insensitive), format suffixes (`/billing.csv`), `?format=`, `?callback=` and Accept.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use serde::Serialize;

use crate::auth::{Principal, RateLimiter};
use crate::billables::BillableWriter;
use crate::binding::RawRequest;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::format::{strip_format_suffix, Format, Negotiated, XmlShape};
use crate::reports::ReportSettings;

/// Largest request body (a batch of billables fits comfortably).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// Options of the running server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Absolute base URL for links (download links in reports and emails).
    pub public_url: String,
    /// The built dashboard (index.html + assets); `None` or missing: a small placeholder page.
    pub static_dir: Option<PathBuf>,
    /// Add `Secure` to the session cookie (behind HTTPS).
    pub secure_cookies: bool,
}

/// Everything handlers share.
pub struct AppState {
    pub db: Db,
    pub config: Config,
    pub billables: BillableWriter,
    pub reports: Arc<ReportSettings>,
    pub signin_by_ip: RateLimiter,
    pub signin_by_user: RateLimiter,
    pub principals: crate::auth::PrincipalCache,
}

pub type Ctx = Arc<AppState>;

impl AppState {
    pub fn new(db: Db, config: Config, reports: Arc<ReportSettings>) -> AppState {
        AppState {
            billables: BillableWriter::start(db.clone()),
            db,
            config,
            reports,
            signin_by_ip: RateLimiter::new(30, Duration::from_secs(60)),
            signin_by_user: RateLimiter::new(10, Duration::from_secs(60)),
            principals: crate::auth::PrincipalCache::default(),
        }
    }
}

/// The request as every operation handler sees it: negotiated format, raw query and body, and the
/// caller (if signed in).
pub struct Call {
    pub method: Method,
    pub neg: Negotiated,
    pub query: Option<String>,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub headers: HeaderMap,
    pub client: String,
    pub principal: Option<Principal>,
    /// The path segment after `/api/` or `/json/reply/` (operation routes), or a route parameter.
    pub param: Option<String>,
    /// The second route parameter, if any.
    pub param2: Option<String>,
}

/// The format suffix stripped from the path by [`strip_suffix`], kept for negotiation.
#[derive(Clone, Copy)]
struct SuffixFormat(Format);

impl Call {
    pub fn raw(&self) -> RawRequest<'_> {
        RawRequest {
            query: self.query.as_deref(),
            content_type: self.content_type.as_deref(),
            body: &self.body,
        }
    }

    /// The signed-in caller, or 401.
    pub fn principal(&self) -> ApiResult<&Principal> {
        self.principal.as_ref().ok_or_else(|| {
            ApiError::Unauthorized(
                "You must be signed in: send a bearer token, an API key or the session cookie."
                    .into(),
            )
        })
    }

    /// A success in the negotiated format.
    pub fn ok<T: Serialize>(&self, status: StatusCode, value: &T, shape: &XmlShape) -> Response {
        match serde_json::to_value(value) {
            Ok(v) => self.neg.ok(status, &v, shape),
            Err(e) => self.neg.error(&ApiError::internal(e)),
        }
    }

    pub fn error(&self, err: &ApiError) -> Response {
        self.neg.error(err)
    }

    /// Success or error.
    pub fn reply<T: Serialize>(&self, result: ApiResult<T>, shape: &XmlShape) -> Response {
        match result {
            Ok(v) => self.ok(StatusCode::OK, &v, shape),
            Err(e) => self.error(&e),
        }
    }
}

impl FromRequest<Ctx> for Call {
    type Rejection = Response;

    async fn from_request(req: Request, ctx: &Ctx) -> Result<Call, Response> {
        let (mut parts, body) = req.into_parts();
        let params: Vec<String> = axum::extract::RawPathParams::from_request_parts(&mut parts, ctx)
            .await
            .map(|p| p.iter().map(|(_, v)| v.to_string()).collect())
            .unwrap_or_default();
        let suffix = parts.extensions.get::<SuffixFormat>().map(|s| s.0);
        let accept = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        let neg = Negotiated::new(parts.uri.query(), suffix, accept);
        let body = match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(_) => return Err(neg.error(&ApiError::PayloadTooLarge)),
        };
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "local".to_string(), |c| c.0.ip().to_string());
        let principal = match crate::auth::credential(&parts.headers) {
            None => None,
            Some(token) => match ctx.principals.get(&token) {
                Some(p) => Some(p),
                None => match ctx.db.authenticate_token(&token).await {
                    Ok(Some(p)) => {
                        ctx.principals.put(&token, &p);
                        Some(p)
                    }
                    Ok(None) => None,
                    Err(e) => return Err(neg.error(&ApiError::from(e))),
                },
            },
        };
        Ok(Call {
            method: parts.method,
            query: parts.uri.query().map(str::to_string),
            content_type: parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            headers: parts.headers,
            body,
            client,
            principal,
            neg,
            param: params.first().cloned(),
            param2: params.get(1).cloned(),
        })
    }
}

/// Strips a format suffix (`/billing.csv`) before routing and remembers the format.
async fn strip_suffix(mut req: Request, next: axum::middleware::Next) -> Response {
    // ServiceStack matches its pre-defined routes case-insensitively: `/API/GetBilling` too.
    let path = req.uri().path();
    let lower = path.to_ascii_lowercase();
    for prefix in ["/api/", "/json/reply/"] {
        if lower.starts_with(prefix) && !path.starts_with(prefix) {
            let rest = &path[prefix.len()..];
            let pq = match req.uri().query() {
                Some(q) => format!("{prefix}{rest}?{q}"),
                None => format!("{prefix}{rest}"),
            };
            if let Ok(uri) = pq.parse::<Uri>() {
                *req.uri_mut() = uri;
            }
            break;
        }
    }
    // Only API routes take a format suffix: `/openapi.json` and dashboard files keep their names.
    let suffixed = strip_format_suffix(req.uri().path()).filter(|(path, _)| {
        [
            "/billing",
            "/billables",
            "/reports",
            "/api/",
            "/json/reply/",
            "/auth",
        ]
        .iter()
        .any(|p| path.starts_with(p))
    });
    if let Some((path, format)) = suffixed {
        let pq = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        if let Ok(uri) = pq.parse::<Uri>() {
            *req.uri_mut() = uri;
            req.extensions_mut().insert(SuffixFormat(format));
        }
    }
    next.run(req).await
}

/// The whole application.
pub fn app(ctx: Ctx) -> Router {
    use crate::api;
    let router = Router::new()
        .route("/billables", any(api::new_billable_route))
        .route("/billing", any(api::get_billing_route))
        .route("/billing/usage", any(api::list_usage_route))
        .route("/reports/billing", any(api::billing_report))
        .route("/reports", any(api::list_reports))
        .route("/reports/{id}", any(api::report_by_id))
        .route("/reports/{id}/{file}", any(api::download_report))
        .route("/api/{op}", any(api::operation))
        .route("/json/reply/{op}", any(api::operation))
        .route("/auth", any(api::auth_root))
        .route("/auth/credentials", any(api::authenticate))
        .route("/auth/status", any(api::auth_status))
        .route("/auth/logout", any(api::logout))
        .route("/healthz", any(healthz))
        .route("/openapi.json", any(crate::openapi::openapi))
        .fallback(static_files)
        .with_state(ctx);
    // The suffix must be stripped before routing, so the middleware wraps the whole router
    // (a `Router::layer` would run after the route was chosen).
    let stripped = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn(strip_suffix))
        .service(router);
    Router::new().fallback_service(stripped)
}

async fn healthz(State(ctx): State<Ctx>, method: Method) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return Negotiated::default().error(&ApiError::MethodNotAllowed);
    }
    let ok = sqlx::query("SELECT 1").execute(&ctx.db.pool).await.is_ok();
    let backend = match ctx.db.backend {
        crate::db::Backend::Sqlite => "sqlite",
        crate::db::Backend::Postgres => "postgres",
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        format!(
            r#"{{"status":"{}","database":"{backend}"}}"#,
            if ok { "ok" } else { "unavailable" }
        ),
    )
        .into_response()
}

/// The dashboard: files from `static_dir`, `index.html` for client-side routes; API-looking
/// paths that matched no route get a ResponseStatus 404.
async fn static_files(
    State(ctx): State<Ctx>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    suffix: Option<axum::Extension<SuffixFormat>>,
) -> Response {
    let path = uri.path();
    let api_like = ["/api/", "/json/", "/auth/", "/reports/", "/billing/"]
        .iter()
        .any(|p| path.starts_with(p));
    if api_like || (method != Method::GET && method != Method::HEAD) {
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
        let neg = Negotiated::new(uri.query(), suffix.map(|s| s.0 .0), accept);
        let shown: String = path.chars().take(120).collect();
        return neg.error(&ApiError::NotFound(format!(
            "No route matches {method} {shown}."
        )));
    }
    let Some(dir) = ctx
        .config
        .static_dir
        .as_ref()
        .filter(|d| d.join("index.html").exists())
    else {
        return placeholder_page();
    };
    let rel = path.trim_start_matches('/');
    let safe = !rel
        .split('/')
        .any(|seg| seg == ".." || seg.starts_with('.'));
    let file = dir.join(if rel.is_empty() { "index.html" } else { rel });
    let target = if safe && file.is_file() {
        file
    } else {
        dir.join("index.html")
    };
    match tokio::fs::read(&target).await {
        Ok(bytes) => {
            let mime = match target.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
                Some("wasm") => "application/wasm",
                Some("css") => "text/css; charset=utf-8",
                Some("svg") => "image/svg+xml",
                Some("json") => "application/json",
                Some("png") => "image/png",
                Some("ico") => "image/x-icon",
                _ => "application/octet-stream",
            };
            ([(header::CONTENT_TYPE, mime)], Body::from(bytes)).into_response()
        }
        Err(_) => placeholder_page(),
    }
}

fn placeholder_page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><html><head><title>evo-billing</title></head><body>\
         <h1>evo-billing API</h1><p>The API is running. The dashboard has not been built; \
         see <a href=\"/openapi.json\">/openapi.json</a> for the API and <code>/healthz</code> for health.</p>\
         </body></html>",
    )
        .into_response()
}
