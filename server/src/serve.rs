//! The listener: accepts connections and serves the app on each, with the limits a public server
//! needs (hyper's own connection builder; axum's `serve` sets none of them).
//!
//! - **Descriptors.** At start the soft `RLIMIT_NOFILE` is raised to the hard limit; the server
//!   keeps at most that many connections less a reserve for the database, files and webhooks
//!   (or `--max-connections`). A connection over the cap gets `503` + `Retry-After: 1` and is
//!   closed, so the server never runs out of descriptors (and never stops accepting).
//! - **Slow clients.** Request headers must arrive within `header_timeout` (10 s; also the
//!   longest an idle keep-alive connection stays open); a body within `body_timeout`
//!   ([`crate::http::call`]). One byte a second holds nothing for long.
//! - **Load.** How many requests run at once, and shedding the rest, is
//!   [`crate::http::admission`].
//! - **Memory.** After a burst, memory the allocator kept is given back (glibc `malloc_trim`),
//!   so the resident size falls back once the load is gone.
//! - **Shutdown.** On the signal: stop accepting, let open requests finish (10 s at most).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::Service;

use crate::config::Limits;

/// Descriptors kept back from connections (database, files, webhooks, SMTP).
const RESERVE: u64 = 256;
/// Refusals written at once; beyond, an over-cap connection is just closed.
const MAX_REFUSALS: usize = 64;
/// How long open requests may run on after the shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 114\r\n\r\n{\"responseStatus\":{\"errorCode\":\"ServerBusy\",\"message\":\"Too many connections; try again in a moment.\",\"errors\":[]}}";

/// Raises the soft limit of open files to the hard limit; answers the soft limit now.
pub fn raise_fd_limit() -> u64 {
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) != 0 {
            return 1024;
        }
        let wanted = l.rlim_max.min(1 << 20);
        if l.rlim_cur < wanted {
            let raised = libc::rlimit {
                rlim_cur: wanted,
                rlim_max: l.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                l.rlim_cur = wanted;
            }
        }
        l.rlim_cur
    }
}

/// The connection cap: `--max-connections`, or the descriptor limit less [`RESERVE`].
pub fn connection_cap(limits: &Limits, fd_limit: u64) -> usize {
    limits.max_connections.unwrap_or_else(|| {
        usize::try_from(fd_limit.saturating_sub(RESERVE).max(16)).unwrap_or(usize::MAX)
    })
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    max_connections: usize,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let connections = Arc::new(Semaphore::new(max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let (stop, stopped) = watch::channel(false);
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    let trim = tokio::spawn(give_back_memory());
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let (stream, addr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                if !matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                ) {
                    // EMFILE/ENFILE: wait for descriptors to come back instead of spinning.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match connections.clone().try_acquire_owned() {
            Ok(permit) => {
                let (make, stopped) = (make.clone(), stopped.clone());
                tokio::spawn(async move {
                    serve_connection(stream, addr, make, limits, stopped).await;
                    drop(permit);
                });
            }
            Err(_) => {
                if let Ok(permit) = refusals.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(stream).await;
                        drop(permit);
                    });
                }
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    // Wait for open connections to end, at most DRAIN.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN, connections.acquire_many(all)).await;
    trim.abort();
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    addr: SocketAddr,
    mut make: IntoMakeServiceWithConnectInfo<Router, SocketAddr>,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
) {
    let Ok(service) = make.call(addr).await;
    let service = TowerToHyperService::new(service);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .keep_alive_interval(limits.header_timeout)
        .keep_alive_timeout(limits.header_timeout);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(conn);
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(client = %addr, error = %e, "connection ended");
                }
                return;
            }
            changed = stopped.changed() => {
                conn.as_mut().graceful_shutdown();
                if changed.is_err() {
                    // The server is gone; finish this connection's graceful end.
                    let _ = conn.as_mut().await;
                    return;
                }
            }
        }
    }
}

/// Answers an over-cap connection with 503 and closes it.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(BUSY).await?;
        stream.shutdown().await
    })
    .await;
}

/// Gives memory the allocator keeps back to the system, every few seconds (glibc keeps freed
/// memory of every thread's arena; after a burst the resident size would stay at its peak).
async fn give_back_memory() {
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only walks the allocator's own free lists.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_answer_is_well_formed() {
        let text = std::str::from_utf8(BUSY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body.len());
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["responseStatus"]["errorCode"], "ServerBusy");
    }

    #[test]
    fn connection_cap_keeps_a_reserve() {
        let limits = Limits::default();
        assert_eq!(connection_cap(&limits, 1024), 768);
        assert_eq!(connection_cap(&limits, 100), 16);
        let set = Limits {
            max_connections: Some(5),
            ..limits
        };
        assert_eq!(connection_cap(&set, 1024), 5);
        assert!(raise_fd_limit() >= 1024);
    }
}
