//! The listener: accepts connections and serves the app on each, with the limits a public server
//! needs (hyper's own connection builder; axum's `serve` sets none of them).
//!
//! - **Descriptors.** At start the soft `RLIMIT_NOFILE` is raised to the hard limit; the server
//!   keeps at most that many connections less a reserve for the database, files, webhooks and
//!   refusals (or `--max-connections`), so it never runs out of descriptors.
//! - **At the cap**, a new connection waits up to [`AT_CAP_WAIT`] for a place: it takes the place
//!   of a connection that is closed for it, or of one that ends. First to go are slow heads (a
//!   request head begun [`EVICT_SLOW_HEAD`] ago and still not complete: a client sends its head
//!   at once, slowloris a byte at a time), then idle keep-alives (nothing in flight or arriving
//!   for [`EVICT_IDLE`]), longest first. If no place comes free, the newcomer's request is read
//!   and answered `503 ServerBusy` with `Retry-After: 1` and `Connection: close`, so every client
//!   gets an answer.
//! - **Slow clients.** Request headers must arrive within `header_timeout` (10 s; also the
//!   longest an idle keep-alive connection stays open); a body within `body_timeout`
//!   ([`crate::http::call`]). One byte a second holds nothing for long.
//! - **Load.** How many requests run at once, and shedding the rest, is
//!   [`crate::http::admission`].
//! - **Memory.** After a burst, memory the allocator kept is given back (glibc `malloc_trim`),
//!   so the resident size falls back once the load is gone.
//! - **Shutdown.** On the signal: stop accepting, let open requests finish (10 s at most).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, Semaphore};
use tower::{Service, ServiceExt};

use crate::config::Limits;

/// Descriptors kept back from connections (database, files, webhooks, SMTP, refusals).
const RESERVE: u64 = 128 + MAX_REFUSALS as u64;
/// Connections over the cap handled at once (waiting for a place, or being refused); beyond,
/// accepting waits for one to end.
const MAX_REFUSALS: usize = 64;
/// A request head begun this long ago and not yet complete gives its connection's place to a new
/// one when the server is at its cap.
pub const EVICT_SLOW_HEAD: Duration = Duration::from_millis(500);
/// A connection with nothing in flight and nothing arriving for this long gives its place to a
/// new one when the server is at its cap (a keep-alive client between two requests is idle for
/// far less; closing a keep-alive races with the client's next request, so not too eagerly).
pub const EVICT_IDLE: Duration = Duration::from_secs(2);
/// How long a connection over the cap waits for a place before it is refused.
pub const AT_CAP_WAIT: Duration = Duration::from_secs(1);
/// How long open requests may run on after the shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 114\r\n\r\n{\"responseStatus\":{\"errorCode\":\"ServerBusy\",\"message\":\"Too many connections; try again in a moment.\",\"errors\":[]}}";

/// What the listener knows of one open connection.
struct Conn {
    /// Requests in flight on it.
    busy: AtomicUsize,
    /// When a request last started or ended (or the connection was accepted), in ms since the
    /// listener started.
    active_ms: AtomicU64,
    /// 1 + when the first byte of a request head not yet complete arrived (0: none).
    head_ms: AtomicU64,
    /// Told to give its place to a newcomer.
    evict: Notify,
}

/// The open connections, for choosing one to close at the cap.
struct Registry {
    started: Instant,
    next: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Registry {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn add(&self) -> (u64, Arc<Conn>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            active_ms: AtomicU64::new(self.now_ms()),
            head_ms: AtomicU64::new(0),
            evict: Notify::new(),
        });
        if let Ok(mut m) = self.conns.lock() {
            m.insert(id, conn.clone());
        }
        (id, conn)
    }

    fn remove(&self, id: u64) {
        if let Ok(mut m) = self.conns.lock() {
            m.remove(&id);
        }
    }

    /// Tells one connection to give its place (the slowest head, else the keep-alive idle
    /// longest; see the module notes); whether there was one.
    fn evict_one(&self) -> bool {
        let now = self.now_ms();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let (slow_ms, idle_ms) = (ms(EVICT_SLOW_HEAD), ms(EVICT_IDLE));
        let Ok(mut m) = self.conns.lock() else {
            return false;
        };
        // (kind, how long): kind 0 is a slow head, 1 an idle keep-alive; smaller goes first.
        let candidate = m
            .iter()
            .filter(|(_, c)| c.busy.load(Ordering::Relaxed) == 0)
            .filter_map(|(id, c)| {
                let head = c.head_ms.load(Ordering::Relaxed);
                if head != 0 {
                    let age = now.saturating_sub(head - 1);
                    (age >= slow_ms).then_some((*id, 0u8, age))
                } else {
                    let age = now.saturating_sub(c.active_ms.load(Ordering::Relaxed));
                    (age >= idle_ms).then_some((*id, 1u8, age))
                }
            })
            .min_by_key(|(_, kind, age)| (*kind, std::cmp::Reverse(*age)));
        match candidate.and_then(|(id, _, _)| m.remove(&id)) {
            Some(c) => {
                c.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// One request in flight on a connection; dropped when its answer's body is sent (or given up).
struct InFlight {
    state: Arc<Conn>,
    registry: Arc<Registry>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.state.busy.fetch_sub(1, Ordering::Relaxed);
        self.state
            .active_ms
            .store(self.registry.now_ms(), Ordering::Relaxed);
    }
}

/// An answer's body that keeps its request counted in flight until it ends.
struct Counted {
    body: axum::body::Body,
    _done: InFlight,
}

impl http_body::Body for Counted {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The connection's stream, noting when a new request head starts to arrive.
struct Watched {
    stream: TcpStream,
    conn: Arc<Conn>,
    registry: Arc<Registry>,
}

impl tokio::io::AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before
            && self.conn.busy.load(Ordering::Relaxed) == 0
            && self.conn.head_ms.load(Ordering::Relaxed) == 0
        {
            let now = self.registry.now_ms();
            self.conn.head_ms.store(now + 1, Ordering::Relaxed);
        }
        polled
    }
}

impl tokio::io::AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

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
    let registry = Arc::new(Registry {
        started: Instant::now(),
        next: AtomicU64::new(0),
        conns: Mutex::new(HashMap::new()),
    });
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
        let serve = {
            let (make, stopped, registry) = (make.clone(), stopped.clone(), registry.clone());
            move |stream, permit| async move {
                let (id, conn) = registry.add();
                serve_connection(stream, addr, make, limits, stopped, &registry, conn).await;
                registry.remove(id);
                drop(permit);
            }
        };
        if let Ok(permit) = connections.clone().try_acquire_owned() {
            tokio::spawn(serve(stream, permit));
            continue;
        }
        // At the cap: wait for a place apart from the accept loop (at most MAX_REFUSALS at once;
        // beyond, accepting waits, and new clients wait in the listen backlog).
        let Ok(slot) = refusals.clone().acquire_owned().await else {
            continue;
        };
        let (connections, registry) = (connections.clone(), registry.clone());
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + AT_CAP_WAIT;
            let permit = loop {
                if let Ok(p) = connections.clone().try_acquire_owned() {
                    break Some(p);
                }
                if tokio::time::Instant::now() >= deadline {
                    break None;
                }
                let wait = if registry.evict_one() {
                    Duration::from_millis(100)
                } else {
                    Duration::from_millis(50)
                };
                if let Ok(Ok(p)) =
                    tokio::time::timeout(wait, connections.clone().acquire_owned()).await
                {
                    break Some(p);
                }
            };
            match permit {
                Some(p) => {
                    drop(slot);
                    serve(stream, p).await;
                }
                None => {
                    refuse(stream).await;
                    drop(slot);
                }
            }
        });
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
    registry: &Arc<Registry>,
    conn_state: Arc<Conn>,
) {
    let Ok(app) = make.call(addr).await;
    // Count the requests in flight on this connection (until their answer's body is sent) and
    // when it was last active.
    let counted = {
        let (state, registry) = (conn_state.clone(), registry.clone());
        tower::service_fn(move |req: axum::extract::Request<hyper::body::Incoming>| {
            let (state, registry, app) = (state.clone(), registry.clone(), app.clone());
            state.busy.fetch_add(1, Ordering::Relaxed);
            state.head_ms.store(0, Ordering::Relaxed);
            state.active_ms.store(registry.now_ms(), Ordering::Relaxed);
            let done = InFlight { state, registry };
            async move {
                let answer = app.oneshot(req).await;
                answer.map(|resp| {
                    resp.map(|body| axum::body::Body::new(Counted { body, _done: done }))
                })
            }
        })
    };
    let service = TowerToHyperService::new(counted);
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
    let watched = Watched {
        stream,
        conn: conn_state.clone(),
        registry: registry.clone(),
    };
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(watched), service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(client = %addr, error = %e, "connection ended");
                }
                return;
            }
            _ = conn_state.evict.notified(), if !closing => {
                if conn_state.busy.load(Ordering::Relaxed) == 0 {
                    // Nothing in flight: close now (a slow header is dropped with it).
                    return;
                }
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            changed = stopped.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
                if changed.is_err() {
                    let _ = conn.as_mut().await;
                    return;
                }
            }
        }
    }
}

/// Answers an over-cap connection: reads its request head (so closing does not reset the
/// connection under the client's feet), writes 503 with `Connection: close`, half-closes, and
/// drains what the client still sends until it closes (at most a few seconds).
async fn refuse(mut stream: TcpStream) {
    let mut buf = [0u8; 8192];
    let mut seen: Vec<u8> = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") && seen.len() < 64 * 1024 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        stream.write_all(BUSY).await?;
        stream.shutdown().await?;
        while stream.read(&mut buf).await? > 0 {}
        Ok::<_, io::Error>(())
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
        assert_eq!(connection_cap(&limits, 1024), 832);
        assert_eq!(connection_cap(&limits, 100), 16);
        let set = Limits {
            max_connections: Some(5),
            ..limits
        };
        assert_eq!(connection_cap(&set, 1024), 5);
        assert!(raise_fd_limit() >= 1024);
    }
}
