//! The extractors operations take, in the order their checks run: who is calling ([`Caller`]:
//! 401 first), then the request itself ([`Bind`]: 400/413/415), then the handler's own role and
//! scope checks (403/404). axum runs the `FromRequestParts` extractors before the one that reads
//! the body, so the order holds whatever the handler's argument list.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;

use super::binding::{bind, bind_list, RawRequest};
use super::error::{ApiError, ApiResult};
use crate::auth::{self, Principal};
use crate::state::Ctx;

/// Largest request body (a batch of billables fits comfortably).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The signed-in caller, if any. A credential that is not valid counts as none.
pub struct MaybeCaller(pub Option<Principal>);

/// The signed-in caller; 401 otherwise.
pub struct Caller(pub Principal);

impl FromRequestParts<Ctx> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> ApiResult<MaybeCaller> {
        if let Some(p) = parts.extensions.get::<Resolved>() {
            return Ok(MaybeCaller(p.0.clone()));
        }
        let principal = match auth::credential(&parts.headers) {
            None => None,
            Some(token) => match ctx.principals.get(&token) {
                Some(p) => Some(p),
                None => {
                    let p = auth::authenticate_token(&ctx.db, &token).await?;
                    if let Some(p) = &p {
                        ctx.principals.put(&token, p);
                    }
                    p
                }
            },
        };
        parts.extensions.insert(Resolved(principal.clone()));
        Ok(MaybeCaller(principal))
    }
}

/// The caller once resolved, so a second extractor does not look it up again.
#[derive(Clone)]
struct Resolved(Option<Principal>);

impl FromRequestParts<Ctx> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> ApiResult<Caller> {
        match MaybeCaller::from_request_parts(parts, ctx).await?.0 {
            Some(p) => Ok(Caller(p)),
            None => Err(ApiError::Unauthorized(
                "You must be signed in: send a bearer token, an API key or the session cookie."
                    .into(),
            )),
        }
    }
}

/// The client's address (`local` when there is no socket, as in tests).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<ClientAddr> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "local".to_string(), |c| c.0.ip().to_string()),
        ))
    }
}

/// The route's path parameters, by name.
pub struct PathParams(pub Vec<(String, String)>);

impl PathParams {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<PathParams> {
        Ok(PathParams(
            RawPathParams::from_request_parts(parts, state)
                .await
                .map(|p| {
                    p.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                })
                .unwrap_or_default(),
        ))
    }
}

/// How long a request's body may take to arrive, set per request by the admission layer
/// ([`super::admission`]).
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub std::time::Duration);

const DEFAULT_BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// The raw material of binding: query, content type, body (at most [`MAX_BODY`]) and path
/// parameters.
struct Raw {
    query: Option<String>,
    content_type: Option<String>,
    body: Bytes,
    params: Vec<(String, String)>,
}

impl Raw {
    async fn read<S: Send + Sync>(req: Request, state: &S) -> ApiResult<Raw> {
        let (mut parts, body) = req.into_parts();
        let params = PathParams::from_request_parts(&mut parts, state).await?.0;
        // The whole body within its deadline: a client trickling a byte at a time does not
        // hold a request (and its admission slot) open.
        let within = parts
            .extensions
            .get::<BodyDeadline>()
            .map_or(DEFAULT_BODY_DEADLINE, |d| d.0);
        let body = match tokio::time::timeout(within, axum::body::to_bytes(body, MAX_BODY)).await {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => {
                let too_large = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
                return Err(if too_large {
                    ApiError::PayloadTooLarge(format!(
                        "The request body is larger than this server accepts ({} MiB).",
                        MAX_BODY / (1024 * 1024)
                    ))
                } else {
                    ApiError::BadRequest {
                        code: "SerializationException",
                        field: None,
                        message: "The request body could not be read to its end.".into(),
                    }
                });
            }
            Err(_) => {
                return Err(ApiError::Timeout {
                    message: format!(
                        "The request body did not arrive within {} s.",
                        within.as_secs()
                    ),
                    body: true,
                })
            }
        };
        Ok(Raw {
            query: parts.uri.query().map(str::to_string),
            content_type: content_type(&parts.headers),
            body,
            params,
        })
    }

    fn request(&self) -> RawRequest<'_> {
        RawRequest {
            query: self.query.as_deref(),
            content_type: self.content_type.as_deref(),
            body: &self.body,
            params: &self.params,
        }
    }
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A request DTO bound from the query, the body (JSON, JSV or form) and the path, with
/// ServiceStack's lenient rules ([`super::binding`]).
pub struct Bind<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Bind<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Bind<T>> {
        let raw = Raw::read(req, state).await?;
        Ok(Bind(bind(&raw.request())?))
    }
}

/// The items of an auto-batched request (`POST /api/NewBillable[]`), each bound on its own.
pub struct BindList<T>(pub Vec<ApiResult<T>>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for BindList<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<BindList<T>> {
        let raw = Raw::read(req, state).await?;
        Ok(BindList(bind_list(&raw.request())?))
    }
}
