//! A small client-side router: the location as signals, `history.pushState` navigation, and
//! same-origin `<a>` clicks handled in the page. (leptos_router's general machinery cost the
//! wasm about a fifth of its size; the dashboard needs a flat table of seven routes.)

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Where the app is.
#[derive(Clone, Copy)]
pub struct Location {
    /// `/app/customers`.
    pub pathname: RwSignal<String>,
    /// `?account=…` or empty.
    pub search: RwSignal<String>,
}

fn read_location() -> (String, String) {
    let Some(loc) = web_sys::window().map(|w| w.location()) else {
        return ("/".into(), String::new());
    };
    (
        loc.pathname().unwrap_or_else(|_| "/".into()),
        loc.search().unwrap_or_default(),
    )
}

impl Location {
    fn sync(&self) {
        let (path, search) = read_location();
        if self.pathname.get_untracked() != path {
            self.pathname.set(path);
        }
        if self.search.get_untracked() != search {
            self.search.set(search);
        }
    }
}

/// Provides the location and starts listening to back/forward and link clicks.
pub fn provide_router() -> Location {
    let (path, search) = read_location();
    let location = Location {
        pathname: RwSignal::new(path),
        search: RwSignal::new(search),
    };
    provide_context(location);
    ROUTER.with(|r| *r.borrow_mut() = Some(location));
    if let Some(window) = web_sys::window() {
        let on_pop = Closure::<dyn Fn()>::new(move || location.sync());
        let _ =
            window.add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
        on_pop.forget();
        let on_click =
            Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
                if ev.default_prevented()
                    || ev.button() != 0
                    || ev.meta_key()
                    || ev.ctrl_key()
                    || ev.shift_key()
                    || ev.alt_key()
                {
                    return;
                }
                let Some(anchor) = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .and_then(|e| e.closest("a[href]").ok().flatten())
                    .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
                else {
                    return;
                };
                if anchor.has_attribute("download") || !anchor.target().is_empty() {
                    return;
                }
                let own_origin = web_sys::window()
                    .and_then(|w| w.location().origin().ok())
                    .is_some_and(|o| o == anchor.origin());
                let path = anchor.pathname();
                if !own_origin || !(path == "/" || path.starts_with("/app")) {
                    return;
                }
                // An in-page link (the skip link): the browser moves focus and scroll itself.
                if !anchor.hash().is_empty() && location.pathname.get_untracked() == path {
                    return;
                }
                ev.prevent_default();
                navigate(&format!("{path}{}", anchor.search()), false);
            });
        if let Some(doc) = window.document() {
            let _ =
                doc.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        }
        on_click.forget();
    }
    location
}

pub fn use_location() -> Location {
    expect_context::<Location>()
}

/// Goes to `url` (a path and query of this app): a new history entry, or (`replace`) the
/// current one changed.
pub fn navigate(url: &str, replace: bool) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(history) = window.history() {
        let _ = if replace {
            history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url))
        } else {
            history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url))
        };
    }
    if let Some(location) = ROUTER.with(|r| *r.borrow()) {
        location.sync();
    }
}

thread_local! {
    /// The app's location, for navigations from anywhere (a 401 in a task included).
    static ROUTER: std::cell::RefCell<Option<Location>> = const { std::cell::RefCell::new(None) };
}
