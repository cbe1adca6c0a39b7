//! The router, the session context and the view-state hooks every page shares.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use evo_billing_core::client::ApiError;
use evo_billing_core::dto::{CustomerInfo, Role, UserInfo};
use evo_billing_core::money::Currency;
use leptos::prelude::*;

use crate::api;
use crate::components::fetch::spawn_now;
use crate::components::layout::Shell;
use crate::pages;
use crate::query::{decode_component, ViewState};
use crate::router::{navigate, provide_router, use_location};

/// An account the user may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// From ListAccounts; `None` until it answered (or when the server lacks it).
    pub currency: Option<Currency>,
}

/// Who is signed in, and what they may see. Provided once, at the root.
#[derive(Clone, Copy)]
pub struct Session {
    /// `None`: not signed in (or not known yet, see `checked`).
    pub user: RwSignal<Option<UserInfo>>,
    /// `/auth/status` has answered at least once.
    pub checked: RwSignal<bool>,
    pub accounts: RwSignal<Vec<Account>>,
    /// ListCustomers per account, read once per session (tree order).
    pub customers: RwSignal<HashMap<String, Arc<Vec<CustomerInfo>>>>,
    /// Why the session could not be checked (server down...).
    pub error: RwSignal<Option<ApiError>>,
}

impl Session {
    fn new() -> Session {
        Session {
            user: RwSignal::new(None),
            checked: RwSignal::new(false),
            accounts: RwSignal::new(Vec::new()),
            customers: RwSignal::new(HashMap::new()),
            error: RwSignal::new(None),
        }
    }

    /// The user's role (the most powerful one listed).
    pub fn role(&self) -> Option<Role> {
        self.user.with(|u| {
            u.as_ref()
                .and_then(|u| u.roles.iter().filter_map(|r| Role::parse(r)).min())
        })
    }

    /// ListUsageRecords is for SystemAdministrator and Manager.
    pub fn can_see_usage(&self) -> bool {
        matches!(
            self.role(),
            Some(Role::SystemAdministrator) | Some(Role::Manager)
        )
    }

    /// Reads `/auth/status`, then ListAccounts: names from the status, names and currencies from
    /// ListAccounts (which wins whenever it answers). `early`: both at once, for a page that
    /// loads before the check (its currency is then known before its data, and a table is not
    /// drawn twice); otherwise a signed-out visit would see ListAccounts' 401.
    pub fn refresh(self, early: bool) {
        if early {
            self.load_account_details();
        }
        spawn_now(Box::pin(async move {
            match api::auth_status().await {
                Ok(user) if user.is_authenticated => {
                    let accounts: Vec<Account> = user
                        .account_ids
                        .iter()
                        .enumerate()
                        .map(|(i, id)| Account {
                            id: id.clone(),
                            name: user
                                .account_names
                                .get(i)
                                .filter(|n| !n.is_empty())
                                .cloned()
                                .unwrap_or_else(|| id.clone()),
                            currency: None,
                        })
                        .collect();
                    if self.accounts.with_untracked(Vec::is_empty) {
                        self.accounts.set(accounts);
                    }
                    self.user.set(Some(user));
                    self.error.set(None);
                    self.checked.set(true);
                    if !early {
                        self.load_account_details();
                    }
                }
                Ok(_) => {
                    self.user.set(None);
                    self.error.set(None);
                    self.checked.set(true);
                }
                Err(e) => {
                    self.user.set(None);
                    self.error.set(Some(e));
                    self.checked.set(true);
                }
            }
        }));
    }

    /// ListAccounts, when the server has it: names and currencies (the order is the server's).
    /// Its 401 (not signed in, when asked early) is left to `/auth/status`.
    fn load_account_details(self) {
        spawn_now(Box::pin(async move {
            let Ok(list) = api::accounts().await else {
                return;
            };
            if list.items.is_empty() {
                return;
            }
            self.accounts.set(
                list.items
                    .into_iter()
                    .map(|info| {
                        let id = info.id.unwrap_or_default();
                        Account {
                            name: info
                                .name
                                .filter(|n| !n.is_empty())
                                .unwrap_or_else(|| id.clone()),
                            currency: info.currency.as_deref().and_then(|c| c.parse().ok()),
                            id,
                        }
                    })
                    .collect(),
            );
        }));
    }

    /// Signed out: forget everything the session had read.
    pub fn clear(self) {
        self.user.set(None);
        self.accounts.set(Vec::new());
        self.customers.set(HashMap::new());
    }

    /// The account a view shows: the URL's, else the first the user may see.
    pub fn account_for(&self, state: &ViewState) -> Option<Account> {
        let accounts = self.accounts.get();
        match &state.account {
            Some(id) => Some(
                accounts
                    .iter()
                    .find(|a| &a.id == id)
                    .cloned()
                    .unwrap_or(Account {
                        id: id.clone(),
                        name: id.clone(),
                        currency: None,
                    }),
            ),
            None => accounts.first().cloned(),
        }
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// Today's date and the seconds into it, in UTC (the API's days are UTC days).
pub fn today_utc() -> (NaiveDate, i64) {
    let now = js_sys::Date::new_0();
    let day = NaiveDate::from_ymd_opt(
        now.get_utc_full_year() as i32,
        now.get_utc_month() + 1,
        now.get_utc_date(),
    )
    .unwrap_or_default();
    let secs = i64::from(now.get_utc_hours()) * 3600
        + i64::from(now.get_utc_minutes()) * 60
        + i64::from(now.get_utc_seconds());
    (day, secs)
}

/// The view state of the current URL.
pub fn use_view_state() -> Memo<ViewState> {
    let location = use_location();
    Memo::new(move |_| ViewState::from_query(&location.search.get()))
}

/// Moves to `state` on the current page: a new history entry (back returns), or a replaced one
/// (typing in a filter).
pub fn use_set_view_state() -> impl Fn(ViewState, bool) + Clone + Send + Sync + 'static {
    let location = use_location();
    move |state: ViewState, replace: bool| {
        let path = location.pathname.get_untracked();
        navigate(&format!("{path}{}", state.to_query()), replace);
    }
}

/// The current path and query, for coming back after signing in.
pub fn current_location() -> String {
    let Some(window) = web_sys::window() else {
        return "/app/overview".into();
    };
    let loc = window.location();
    format!(
        "{}{}",
        loc.pathname().unwrap_or_default(),
        loc.search().unwrap_or_default()
    )
}

/// Marks that a view's data is on screen (after the browser painted it), for the benchmarks and
/// the end-to-end tests: `performance.mark("evo:painted:<view>")`.
pub fn mark_painted(view: &'static str) {
    request_animation_frame(move || {
        set_timeout(
            move || {
                if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                    let _ = p.mark(&format!("evo:painted:{view}"));
                }
            },
            std::time::Duration::ZERO,
        );
    });
}

/// Sends a 401 from any call to the sign-in page, with the way back.
fn handle_unauthorized(session: Session) {
    api::set_on_unauthorized(move || {
        let here = current_location();
        session.clear();
        if !here.starts_with("/app/sign-in") {
            navigate(
                &format!(
                    "/app/sign-in?next={}",
                    evo_billing_core::client::encode_component(&here)
                ),
                false,
            );
        }
    });
}

/// The pages, by path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Page {
    Root,
    SignIn,
    Overview,
    Customers,
    Customer(String),
    Usage,
    Reports,
    ReportCall,
    NotFound,
}

fn route(path: &str) -> Page {
    let path = path.trim_end_matches('/');
    match path {
        "" | "/app" => Page::Root,
        "/app/sign-in" => Page::SignIn,
        "/app/overview" => Page::Overview,
        "/app/customers" => Page::Customers,
        "/app/usage" => Page::Usage,
        "/app/reports" => Page::Reports,
        "/app/report-call" => Page::ReportCall,
        other => match other.strip_prefix("/app/customers/") {
            Some(id) if !id.is_empty() && !id.contains('/') => Page::Customer(decode_component(id)),
            _ => Page::NotFound,
        },
    }
}

#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    provide_context(session);
    let location = provide_router();
    handle_unauthorized(session);
    let page = Memo::new(move |_| route(&location.pathname.get()));
    session.refresh(page.get_untracked() == Page::Customers);
    // A new page: its name in the title, and focus at the top of its content (after the first
    // load), so keyboard and screen-reader users start there.
    Effect::new(move |first: Option<()>| {
        let title = match page.get() {
            Page::SignIn => "Sign in",
            Page::Overview | Page::Root => "Overview",
            Page::Customers => "Customers",
            Page::Customer(_) => "Customer",
            Page::Usage => "Usage",
            Page::Reports => "Reports",
            Page::ReportCall => "Report a call",
            Page::NotFound => "Page not found",
        };
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&format!("{title} · evo-billing"));
        }
        if first.is_some() {
            request_animation_frame(|| {
                if let Some(main) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id("main"))
                    .and_then(|m| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(m).ok())
                {
                    let _ = main.focus();
                }
            });
        }
    });
    move || match page.get() {
        Page::Root => {
            // After this render: a navigation inside it would re-enter the router's signal.
            request_animation_frame(|| navigate("/app/overview", true));
            ().into_any()
        }
        Page::SignIn => view! { <pages::sign_in::SignIn /> }.into_any(),
        Page::Overview => view! { <Shell><pages::overview::Overview /></Shell> }.into_any(),
        // The biggest answers of the dashboard: asked for without waiting for the session check.
        Page::Customers => {
            view! { <Shell early=true><pages::customers::Customers /></Shell> }.into_any()
        }
        Page::Customer(id) => {
            view! { <Shell><pages::customer::CustomerPage id=id.clone() /></Shell> }.into_any()
        }
        Page::Usage => view! { <Shell><pages::usage::Usage /></Shell> }.into_any(),
        Page::Reports => view! { <Shell><pages::reports::Reports /></Shell> }.into_any(),
        Page::ReportCall => view! { <Shell><pages::report_call::ReportCall /></Shell> }.into_any(),
        Page::NotFound => view! { <Shell><pages::NotFound /></Shell> }.into_any(),
    }
}

pub fn mount() {
    leptos::mount::mount_to_body(App);
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn routes_by_path() {
        assert_eq!(route("/"), Page::Root);
        assert_eq!(route("/app/"), Page::Root);
        assert_eq!(route("/app/customers/"), Page::Customers);
        assert_eq!(
            route("/app/customers/cus%2F1"),
            Page::Customer("cus/1".into())
        );
        assert_eq!(route("/app/customers/a/b"), Page::NotFound);
        assert_eq!(route("/app/nothing"), Page::NotFound);
        assert_eq!(route("/app/sign-in"), Page::SignIn);
    }
}
