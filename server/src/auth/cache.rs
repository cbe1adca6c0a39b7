//! A short-lived cache of verified credentials.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::credentials::token_hash;
use super::Principal;

/// Recently verified credentials: a request's token is looked up in the database at most once
/// every few seconds (four queries saved per request). Logout in this process removes the entry at
/// once; a revocation made by another server process takes effect within [`CACHE_TTL`].
pub const CACHE_TTL: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct PrincipalCache {
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl PrincipalCache {
    pub fn get(&self, token: &str) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        let (p, at) = entries.get(&token_hash(token))?;
        (at.elapsed() < CACHE_TTL).then(|| p.clone())
    }

    pub fn put(&self, token: &str, p: &Principal) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            entries.insert(token_hash(token), (p.clone(), Instant::now()));
        }
    }

    /// Forgets everything (a change of the customer tree moves Customers' subtrees).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    /// Forgets every entry of a session (by its token hash).
    pub fn forget_hash(&self, hash: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(hash);
        }
    }
}
