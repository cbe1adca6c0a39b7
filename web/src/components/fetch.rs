//! Loading data for a key (account, range…): the previous answer stays on screen while the next
//! one loads, a stale answer never overwrites a newer one, and the failure of the latest request
//! is kept beside the old data.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Waker};

use evo_billing_core::client::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The state of one loaded value.
pub struct Fetched<T: Send + Sync + 'static> {
    pub data: RwSignal<Option<Arc<T>>>,
    pub loading: RwSignal<bool>,
    pub error: RwSignal<Option<ApiError>>,
    /// Bumped to load again with the same key (after a write, or a poll).
    pub version: RwSignal<u64>,
}

impl<T: Send + Sync + 'static> Clone for Fetched<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for Fetched<T> {}

impl<T: Send + Sync + 'static> Fetched<T> {
    pub fn reload(&self) {
        self.version.update(|v| *v += 1);
    }
}

/// Runs `task` now up to its first wait (so a request it makes leaves at once), then on the
/// task queue. `spawn_local` alone would first poll it after the page is drawn.
pub fn spawn_now(mut task: Pin<Box<dyn Future<Output = ()>>>) {
    let mut cx = Context::from_waker(Waker::noop());
    if task.as_mut().poll(&mut cx).is_pending() {
        // Polled again there, with a waker that wakes it.
        spawn_local(task);
    }
}

/// Loads `fetch(key)` whenever `key()` changes (or `reload` is called). `None` keys load
/// nothing (not enough known yet). The first load starts when this is called, not after the
/// component's view is built.
pub fn fetch_on<K, T, Fut>(
    key: impl Fn() -> Option<K> + 'static,
    fetch: impl Fn(K) -> Fut + 'static,
) -> Fetched<T>
where
    K: PartialEq + Clone + 'static,
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let f = Fetched {
        data: RwSignal::new(None),
        loading: RwSignal::new(false),
        error: RwSignal::new(None),
        version: RwSignal::new(0),
    };
    let generation = StoredValue::new(0u64);
    let start = move |k: K| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        f.loading.set(true);
        let load = fetch(k);
        spawn_now(Box::pin(async move {
            let result = load.await;
            if generation.try_get_value() != Some(mine) {
                return;
            }
            match result {
                Ok(v) => {
                    f.data.set(Some(Arc::new(v)));
                    f.error.set(None);
                }
                Err(e) => f.error.set(Some(e)),
            }
            f.loading.set(false);
        }));
    };
    let first = untrack(&key);
    if let Some(k) = first.clone() {
        start(k);
    }
    let mut first = Some((first, 0));
    // Loads when the key or the version changes, not whenever a signal the key reads changes.
    Effect::new(move |previous: Option<(Option<K>, u64)>| {
        let version = f.version.get();
        let k = key();
        let current = (k.clone(), version);
        if previous.or_else(|| first.take()).as_ref() == Some(&current) {
            return current;
        }
        if let Some(k) = k {
            start(k);
        }
        current
    });
    f
}
