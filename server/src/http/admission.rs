//! Admission: how many requests the server works on at once, and what it does with the rest.
//!
//! At most `max_in_flight` requests run; up to `max_queued` more wait for a slot (at most
//! `request_timeout`); beyond that a request is answered at once with 503 `ServerBusy` and
//! `Retry-After: 1` rather than joining a queue measured in seconds. So a burst of a thousand
//! connections costs the server the same work as a few hundred, and the requests it takes keep
//! their latency. `/healthz` skips the line (a load balancer must see a busy server as alive).
//! A request's answer must start within `request_timeout` (else 503 `Timeout`), and its body
//! must arrive within `body_timeout` ([`super::call::BodyDeadline`], else 408).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::call::BodyDeadline;
use super::error::ApiError;
use crate::config::Limits;
use crate::state::Ctx;

/// The admission state of one server.
pub struct Admission {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    limits: Limits,
}

impl Admission {
    pub fn new(limits: Limits) -> Admission {
        Admission {
            slots: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            waiting: AtomicUsize::new(0),
            limits,
        }
    }

    /// Requests waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }
}

/// Decrements the waiting count however the wait ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn timeout(limit: Duration) -> Response {
    ApiError::Timeout {
        message: format!("The server could not answer within {} s.", limit.as_secs()),
        body: false,
    }
    .into_response()
}

/// The middleware.
pub async fn admit(State(ctx): State<Ctx>, mut req: Request, next: Next) -> Response {
    let a = &ctx.admission;
    if req.uri().path() == "/healthz" {
        return next.run(req).await;
    }
    let limit = a.limits.request_timeout;
    let started = tokio::time::Instant::now();
    let permit = match a.slots.clone().try_acquire_owned() {
        Ok(p) => p,
        Err(_) => {
            if a.waiting.fetch_add(1, Ordering::Relaxed) >= a.limits.max_queued {
                a.waiting.fetch_sub(1, Ordering::Relaxed);
                return ApiError::Busy { retry_after: 1 }.into_response();
            }
            let _waiting = Waiting(&a.waiting);
            match tokio::time::timeout(limit, a.slots.clone().acquire_owned()).await {
                Ok(Ok(p)) => p,
                Ok(Err(_)) => return ApiError::Busy { retry_after: 1 }.into_response(),
                Err(_) => return timeout(limit),
            }
        }
    };
    req.extensions_mut()
        .insert(BodyDeadline(a.limits.body_timeout));
    let left = limit.saturating_sub(started.elapsed());
    let response = match tokio::time::timeout(left, next.run(req)).await {
        Ok(r) => r,
        Err(_) => timeout(limit),
    };
    drop(permit);
    response
}
