//! Rate limiting of sign-in attempts: fixed windows per key (a client address, or a user name
//! at an address).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Fixed-window counters for sign-in attempts.
pub struct RateLimiter {
    window: Duration,
    max: u32,
    hits: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            window,
            max,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt for `key`; `false` when over the limit.
    pub fn allow(&self, key: &str) -> bool {
        self.hit(key).is_none()
    }

    /// Counts an attempt for `key`; when that puts it over the limit, how long until its
    /// window ends.
    pub fn hit(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let Ok(mut hits) = self.hits.lock() else {
            return None;
        };
        if hits.len() > 100_000 {
            let window = self.window;
            hits.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = hits.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        (entry.1 > self.max).then(|| self.window.saturating_sub(now.duration_since(entry.0)))
    }

    /// Whether `key` is over the limit now (without counting), and for how long.
    pub fn blocked(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let hits = self.hits.lock().ok()?;
        let (start, n) = hits.get(key)?;
        let elapsed = now.duration_since(*start);
        (elapsed < self.window && *n >= self.max).then(|| self.window - elapsed)
    }

    /// Forgets `key` (a success ends a run of failures).
    pub fn clear(&self, key: &str) {
        if let Ok(mut hits) = self.hits.lock() {
            hits.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter() {
        let r = RateLimiter::new(3, Duration::from_secs(60));
        assert!(r.allow("k") && r.allow("k") && r.allow("k"));
        assert!(!r.allow("k"));
        assert!(r.allow("other"));
        let wait = r.hit("k").expect("still over");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert!(r.blocked("k").is_some());
        assert!(r.blocked("other").is_none());
        r.clear("k");
        assert!(r.blocked("k").is_none() && r.allow("k"));
    }
}
