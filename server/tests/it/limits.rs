//! The listener's limits over real sockets (`evo_billing_server::serve::run` on loopback): slow
//! headers and bodies are cut off, idle connections closed, connections over the cap refused
//! with 503, and requests beyond what the server takes at once shed with 503 + Retry-After
//! while /healthz and the others are still served. (Before: 1,100 connections sending a byte a
//! second exhausted the descriptors and others timed out; 1,024 connections queued for 4–6 s.)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::support::*;
use evo_billing_server::config::Limits;
use evo_billing_server::http::app;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The app served by the real listener with `limits`.
async fn serve_with(backend: Backend, limits: Limits, cap: usize) -> (TestApp, SocketAddr) {
    let mut opts = options();
    opts.limits = limits;
    opts.run_worker = false;
    let test_app = TestApp::with_options(backend, opts).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(test_app.ctx.clone());
    tokio::spawn(async move {
        evo_billing_server::serve::run(listener, router, limits, cap, std::future::pending())
            .await
            .unwrap();
    });
    (test_app, addr)
}

/// Reads what the server sends until it closes (or `within` passes): the text and whether it
/// closed.
async fn read_all(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), false),
        }
    }
}

/// One GET on a fresh connection; the status line.
async fn get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let (text, _) = read_all(&mut s, Duration::from_secs(10)).await;
    text.lines().next().unwrap_or("").to_string()
}

fn short() -> Limits {
    Limits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        ..Limits::default()
    }
}

/// Headers a byte at a time, and an idle keep-alive connection, are cut off after the header
/// timeout; a body that trickles gets 408; meanwhile everyone else is served at once.
async fn slow_clients_are_cut_off(backend: Backend) {
    let (app, addr) = serve_with(backend, short(), 1_000).await;
    let token = app.sign_in(MANAGER_A).await;
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
        slow.push(s);
    }
    // Others are served while 200 connections dawdle.
    assert_eq!(get(addr, "/healthz").await, "HTTP/1.1 200 OK");
    for s in &mut slow {
        let (_, closed) = read_all(s, Duration::from_secs(5)).await;
        assert!(closed, "a slow header is cut off");
    }
    assert!(started.elapsed() < Duration::from_secs(8));
    // An idle keep-alive connection is closed after the same timeout.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let t = Instant::now();
    let (text, closed) = read_all(&mut idle, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(closed && t.elapsed() < Duration::from_secs(4));
    // A body that does not arrive: 408 in the API's shape.
    let mut trickle = TcpStream::connect(addr).await.unwrap();
    trickle
        .write_all(format!("POST /billables HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"accountId\"").as_bytes())
        .await
        .unwrap();
    let (text, _) = read_all(&mut trickle, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"errorCode\":\"Timeout\""), "{text}");
}

/// Over the connection cap, with every connection busy, a newcomer waits its second and gets
/// 503 + Retry-After (never a reset); once the busy ones end, new ones are served.
async fn connections_over_the_cap_are_refused(backend: Backend) {
    let limits = Limits {
        body_timeout: Duration::from_secs(4),
        ..Limits::default()
    };
    let (app, addr) = serve_with(backend, limits, 5).await;
    let token = app.sign_in(MANAGER_A).await;
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("POST /billables HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{").as_bytes())
            .await
            .unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    let mut over = TcpStream::connect(addr).await.unwrap();
    over.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (text, closed) = read_all(&mut over, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(
        text.contains("Retry-After: 1") && text.contains("ServerBusy"),
        "{text}"
    );
    assert!(closed);
    let waited = t.elapsed();
    assert!(
        waited >= evo_billing_server::serve::AT_CAP_WAIT && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    // The busy ones end (408); the server serves again.
    for s in &mut held {
        let (text, _) = read_all(s, Duration::from_secs(8)).await;
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(get(addr, "/healthz").await, "HTTP/1.1 200 OK");
}

/// At the cap, a connection whose request head has been arriving for a while and is still not
/// complete (slowloris) gives its place to a new one, which is served at once.
async fn slow_heads_give_way(backend: Backend) {
    let limits = Limits {
        header_timeout: Duration::from_secs(30),
        ..Limits::default()
    };
    let (_app, addr) = serve_with(backend, limits, 5).await;
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(evo_billing_server::serve::EVICT_SLOW_HEAD + Duration::from_millis(300))
        .await;
    let t = Instant::now();
    assert_eq!(get(addr, "/healthz").await, "HTTP/1.1 200 OK");
    assert!(t.elapsed() < Duration::from_secs(1));
    // One of the slow ones was closed to make room.
    let mut closed = 0;
    for s in &mut held {
        if read_all(s, Duration::from_millis(300)).await.1 {
            closed += 1;
        }
    }
    assert!(closed >= 1, "a slow head gave way");
}

/// A keep-alive connection between two requests keeps its place at the cap until it has been
/// idle for EVICT_IDLE (closing it sooner races with the client's next request); a slow head
/// goes before it; an idle one goes after EVICT_IDLE.
async fn idle_keep_alives_give_way_later(backend: Backend) {
    let limits = Limits {
        header_timeout: Duration::from_secs(30),
        ..Limits::default()
    };
    let (_app, addr) = serve_with(backend, limits, 2).await;
    // One keep-alive connection that was answered and stays open.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), kept.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // One slow head.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    tokio::time::sleep(evo_billing_server::serve::EVICT_SLOW_HEAD + Duration::from_millis(300))
        .await;
    // A newcomer takes the slow head's place, not the keep-alive's.
    assert_eq!(get(addr, "/healthz").await, "HTTP/1.1 200 OK");
    assert!(read_all(&mut slow, Duration::from_millis(500)).await.1);
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let n = tokio::time::timeout(Duration::from_secs(5), kept.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "the keep-alive kept its place"
    );
    // Both places held by keep-alives idle for less than EVICT_IDLE - AT_CAP_WAIT: a newcomer
    // waits its second and is refused; neither keep-alive is closed.
    let mut other = TcpStream::connect(addr).await.unwrap();
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let n = tokio::time::timeout(Duration::from_secs(5), other.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let status = get(addr, "/healthz").await;
    assert!(status.starts_with("HTTP/1.1 503"), "{status}");
    for s in [&mut kept, &mut other] {
        assert!(!read_all(s, Duration::from_millis(50)).await.1, "closed");
    }
    // Idle for longer than EVICT_IDLE, a keep-alive gives its place.
    let (_app2, addr2) = serve_with(backend, limits, 1).await;
    let mut kept = TcpStream::connect(addr2).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), kept.read(&mut buf)).await;
    tokio::time::sleep(evo_billing_server::serve::EVICT_IDLE + Duration::from_millis(300)).await;
    let t = Instant::now();
    assert_eq!(get(addr2, "/healthz").await, "HTTP/1.1 200 OK");
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(read_all(&mut kept, Duration::from_millis(500)).await.1);
}

/// With one request in flight and one waiting, the next is shed at once with 503 ServerBusy
/// and Retry-After; /healthz is still answered; once the slots free up, requests are served.
async fn excess_requests_are_shed(backend: Backend) {
    let limits = Limits {
        max_in_flight: 1,
        max_queued: 1,
        body_timeout: Duration::from_secs(2),
        header_timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    let (app, addr) = serve_with(backend, limits, 1_000).await;
    let token = app.sign_in(MANAGER_A).await;
    // Two requests whose bodies trickle: one holds the slot, one waits.
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("POST /billables HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{").as_bytes())
            .await
            .unwrap();
        holders.push(s);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let t = Instant::now();
    let line = get(addr, &format!("/billing?{OCT_A}")).await;
    assert_eq!(line, "HTTP/1.1 503 Service Unavailable");
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "shed at once, not queued"
    );
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET /billing?{OCT_A} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let (text, _) = read_all(&mut s, Duration::from_secs(5)).await;
    assert!(
        text.contains("retry-after: 1") && text.contains("ServerBusy"),
        "{text}"
    );
    assert_eq!(get(addr, "/healthz").await, "HTTP/1.1 200 OK");
    // The holders get their 408s; then the server takes requests again.
    for s in &mut holders {
        let (text, _) = read_all(s, Duration::from_secs(6)).await;
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    }
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET /billing?{OCT_A} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let (text, _) = read_all(&mut s, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

on_both_backends!(
    slow_clients_are_cut_off,
    connections_over_the_cap_are_refused,
    slow_heads_give_way,
    idle_keep_alives_give_way_later,
    excess_requests_are_shed,
);
