//! Every route of the API in one table: the client builds its requests from it, the server builds
//! its router from it, and `/openapi.json` describes it. A route added anywhere else is a bug (the
//! server's tidy test compares its router with this table).
//!
//! An *operation* (ServiceStack's word for a request DTO) is served at its custom path and also at
//! ServiceStack's pre-defined routes `/api/{Name}` and `/json/reply/{Name}`, where its name matches
//! case-insensitively. There a read also answers POST (ServiceStack clients POST any request
//! there); a write answers only its own verbs, never GET.
//!
//! ```
//! use evo_billing_core::routes;
//! let r = routes::by_name("getbilling").unwrap();
//! assert_eq!((r.name, r.path), ("GetBilling", Some("/billing")));
//! assert_eq!(routes::GET_BILLING.api_path(), Some("/api/GetBilling".to_string()));
//! ```

use crate::dto::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (sign-in, health, the API description).
    Public,
    /// Any signed-in user, within their scope.
    SignedIn,
    /// Signed-in users with one of these roles, within their scope.
    Roles(&'static [Role]),
}

/// What a route answers on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 204 No Content.
    NoContent,
    /// 200 with a DTO (its name).
    Dto(&'static str),
    /// 200 with a bare JSON array of a DTO.
    List(&'static str),
    /// 200 with a file (its media type, e.g. `text/csv`).
    File(&'static str),
}

/// One route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The operation's name (`GetBilling`), unique in the table.
    pub name: &'static str,
    /// The custom path (`/billing`, `/reports/{id}`); `None` for an operation that exists only at
    /// the pre-defined routes (the auto-batched `NewBillable[]`).
    pub path: Option<&'static str>,
    /// HTTP methods of the custom path (GET also answers HEAD).
    pub verbs: &'static [&'static str],
    /// Also served at `/api/{name}` and `/json/reply/{name}`.
    pub operation: bool,
    /// Changes state (never answered to a GET).
    pub writes: bool,
    pub access: Access,
    /// The request DTO (bound from the query and body), if any.
    pub request: Option<&'static str>,
    pub answer: Answer,
    /// One line for people (the OpenAPI summary).
    pub summary: &'static str,
}

impl Route {
    /// `/api/{name}`, for operations.
    pub fn api_path(&self) -> Option<String> {
        self.operation.then(|| format!("/api/{}", self.name))
    }

    /// `/json/reply/{name}`, for operations.
    pub fn json_reply_path(&self) -> Option<String> {
        self.operation.then(|| format!("/json/reply/{}", self.name))
    }

    /// The methods answered at the pre-defined routes: a write's own verbs (a state change is
    /// never a GET, so a link or an image cannot make one); a read's verbs and POST
    /// (ServiceStack clients POST any request there).
    pub fn api_verbs(&self) -> Vec<&'static str> {
        let mut verbs = self.verbs.to_vec();
        if !self.writes && !verbs.contains(&"POST") {
            verbs.push("POST");
        }
        verbs
    }

    /// Every path this route is served at.
    pub fn paths(&self) -> Vec<String> {
        self.path
            .map(str::to_string)
            .into_iter()
            .chain(self.api_path())
            .chain(self.json_reply_path())
            .collect()
    }

    /// Does a request path (without query) match the custom path? `{param}` segments match any
    /// non-empty segment.
    pub fn matches(&self, path: &str) -> bool {
        self.path.is_some_and(|p| path_matches(p, path))
    }
}

fn path_matches(pattern: &str, path: &str) -> bool {
    let mut a = pattern.split('/');
    let mut b = path.split('/');
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(p), Some(s)) if p.starts_with('{') && p.ends_with('}') => {
                if s.is_empty() {
                    return false;
                }
            }
            (Some(p), Some(s)) if p == s => {}
            _ => return false,
        }
    }
}

const ADMIN_MANAGER: &[Role] = &[Role::SystemAdministrator, Role::Manager];
const ADMIN: &[Role] = &[Role::SystemAdministrator];
const ALL_ROLES: &[Role] = &[Role::SystemAdministrator, Role::Manager, Role::Customer];

pub const NEW_BILLABLE: Route = Route {
    name: "NewBillable",
    path: Some("/billables"),
    verbs: &["POST"],
    operation: true,
    writes: true,
    access: Access::SignedIn,
    request: Some("NewBillable"),
    answer: Answer::NoContent,
    summary: "Report/create a new billable (idempotent per account and call SID)",
};

pub const NEW_BILLABLE_BATCH: Route = Route {
    name: "NewBillable[]",
    path: None,
    verbs: &["POST"],
    operation: true,
    writes: true,
    access: Access::SignedIn,
    request: Some("NewBillable"),
    answer: Answer::List("NewBillableResult"),
    summary: "Auto-batched NewBillable: one result per item",
};

pub const GET_BILLING: Route = Route {
    name: "GetBilling",
    path: Some("/billing"),
    verbs: &["GET"],
    operation: true,
    writes: false,
    access: Access::SignedIn,
    request: Some("GetBilling"),
    answer: Answer::Dto("BillingInfo"),
    summary: "Billing totals per customer for a date range",
};

pub const GET_BILLING_SERIES: Route = Route {
    name: "GetBillingSeries",
    path: Some("/billing/series"),
    verbs: &["GET"],
    operation: true,
    writes: false,
    access: Access::SignedIn,
    request: Some("GetBillingSeries"),
    answer: Answer::Dto("BillingSeries"),
    summary: "Billing totals of the account (or one customer) per day, week or month",
};

pub const LIST_USAGE_RECORDS: Route = Route {
    name: "ListUsageRecords",
    path: Some("/billing/usage"),
    verbs: &["GET"],
    operation: true,
    writes: false,
    access: Access::Roles(ADMIN_MANAGER),
    request: Some("ListUsageRecords"),
    answer: Answer::List("UsageRecordInfo"),
    summary: "Usage records by category for a date range",
};

pub const BILLING_REPORT: Route = Route {
    name: "BillingReport",
    path: Some("/reports/billing"),
    verbs: &["POST"],
    operation: true,
    writes: true,
    access: Access::Roles(ALL_ROLES),
    request: Some("BillingReport"),
    answer: Answer::Dto("ReportInfo"),
    summary: "Queue a billing report (CSV and XLSX), with webhook and email when it ends",
};

pub const LIST_REPORTS: Route = Route {
    name: "ListReports",
    path: Some("/reports"),
    verbs: &["GET"],
    operation: false,
    writes: false,
    access: Access::SignedIn,
    request: None,
    answer: Answer::List("ReportInfo"),
    summary: "The caller's reports, newest first (every report for an administrator)",
};

pub const GET_REPORT: Route = Route {
    name: "GetReport",
    path: Some("/reports/{id}"),
    verbs: &["GET"],
    operation: false,
    writes: false,
    access: Access::SignedIn,
    request: None,
    answer: Answer::Dto("ReportInfo"),
    summary: "One report",
};

pub const DELETE_REPORT: Route = Route {
    name: "DeleteReport",
    path: Some("/reports/{id}"),
    verbs: &["DELETE"],
    operation: false,
    writes: true,
    access: Access::SignedIn,
    request: None,
    answer: Answer::NoContent,
    summary: "Delete a report (409 while it runs)",
};

pub const DOWNLOAD_REPORT: Route = Route {
    name: "DownloadReport",
    path: Some("/reports/{id}/{file}"),
    verbs: &["GET"],
    operation: false,
    writes: false,
    access: Access::SignedIn,
    request: None,
    answer: Answer::File("text/csv"),
    summary: "A finished report's file: download.csv or download.xlsx",
};

pub const LIST_ACCOUNTS: Route = Route {
    name: "ListAccounts",
    path: Some("/accounts"),
    verbs: &["GET"],
    operation: true,
    writes: false,
    access: Access::SignedIn,
    request: Some("ListAccounts"),
    answer: Answer::Dto("AccountList"),
    summary: "The accounts the caller may see",
};

pub const CREATE_ACCOUNT: Route = Route {
    name: "CreateAccount",
    path: Some("/accounts"),
    verbs: &["POST"],
    operation: true,
    writes: true,
    access: Access::Roles(ADMIN),
    request: Some("CreateAccount"),
    answer: Answer::Dto("AccountInfo"),
    summary: "Create an account (SystemAdministrator)",
};

pub const UPDATE_ACCOUNT: Route = Route {
    name: "UpdateAccount",
    path: Some("/accounts/{accountId}"),
    verbs: &["POST"],
    operation: true,
    writes: true,
    access: Access::Roles(ADMIN),
    request: Some("UpdateAccount"),
    answer: Answer::Dto("AccountInfo"),
    summary: "Rename an account (SystemAdministrator)",
};

pub const LIST_CUSTOMERS: Route = Route {
    name: "ListCustomers",
    path: Some("/customers"),
    verbs: &["GET"],
    operation: true,
    writes: false,
    access: Access::SignedIn,
    request: Some("ListCustomers"),
    answer: Answer::Dto("CustomerList"),
    summary: "The customers of an account in tree order (a Customer sees its subtree)",
};

pub const CREATE_CUSTOMER: Route = Route {
    name: "CreateCustomer",
    path: Some("/customers"),
    verbs: &["POST"],
    operation: true,
    writes: true,
    access: Access::Roles(ADMIN_MANAGER),
    request: Some("CreateCustomer"),
    answer: Answer::Dto("CustomerInfo"),
    summary: "Create a customer, at the root or below a parent",
};

pub const UPDATE_CUSTOMER: Route = Route {
    name: "UpdateCustomer",
    path: Some("/customers/{customerId}"),
    verbs: &["POST"],
    operation: true,
    writes: true,
    access: Access::Roles(ADMIN_MANAGER),
    request: Some("UpdateCustomer"),
    answer: Answer::Dto("CustomerInfo"),
    summary: "Rename a customer or move it (with its subtree) in the tree",
};

pub const AUTHENTICATE: Route = Route {
    name: "Authenticate",
    path: Some("/auth/credentials"),
    verbs: &["POST"],
    operation: true,
    writes: true,
    access: Access::Public,
    request: Some("Authenticate"),
    answer: Answer::Dto("AuthenticateResponse"),
    summary: "Sign in: a bearer token, and the HttpOnly session cookie",
};

pub const AUTH: Route = Route {
    name: "Auth",
    path: Some("/auth"),
    verbs: &["GET", "POST", "DELETE"],
    operation: false,
    writes: true,
    access: Access::Public,
    request: Some("Authenticate"),
    answer: Answer::Dto("AuthenticateResponse"),
    summary: "ServiceStack's /auth: GET is the status, POST signs in, DELETE signs out",
};

pub const AUTH_STATUS: Route = Route {
    name: "AuthStatus",
    path: Some("/auth/status"),
    verbs: &["GET"],
    operation: false,
    writes: false,
    access: Access::Public,
    request: None,
    answer: Answer::Dto("UserInfo"),
    summary: "Who the caller is (isAuthenticated false when not signed in)",
};

pub const LOGOUT: Route = Route {
    name: "Logout",
    path: Some("/auth/logout"),
    verbs: &["POST"],
    operation: false,
    writes: true,
    access: Access::Public,
    request: None,
    answer: Answer::NoContent,
    summary: "End the session and clear the cookie",
};

pub const LIST_API_KEYS: Route = Route {
    name: "ListApiKeys",
    path: Some("/auth/apikeys"),
    verbs: &["GET"],
    operation: true,
    writes: false,
    access: Access::SignedIn,
    request: Some("ListApiKeys"),
    answer: Answer::Dto("ApiKeyList"),
    summary: "The caller's API keys (an administrator's: everyone's), never the secrets",
};

pub const CREATE_API_KEY: Route = Route {
    name: "CreateApiKey",
    path: Some("/auth/apikeys"),
    verbs: &["POST"],
    operation: true,
    writes: true,
    access: Access::SignedIn,
    request: Some("CreateApiKey"),
    answer: Answer::Dto("CreatedApiKey"),
    summary: "A new API key for the caller (from a session, not a key), optionally expiring",
};

pub const REVOKE_API_KEY: Route = Route {
    name: "RevokeApiKey",
    path: Some("/auth/apikeys/{id}"),
    verbs: &["DELETE"],
    operation: true,
    writes: true,
    access: Access::SignedIn,
    request: Some("RevokeApiKey"),
    answer: Answer::NoContent,
    summary: "Revoke an API key (the caller's own; an administrator's: any) at once",
};

pub const HEALTH: Route = Route {
    name: "Health",
    path: Some("/healthz"),
    verbs: &["GET"],
    operation: false,
    writes: false,
    access: Access::Public,
    request: None,
    answer: Answer::Dto("Health"),
    summary: "Liveness and the database's state",
};

pub const OPENAPI: Route = Route {
    name: "OpenApi",
    path: Some("/openapi.json"),
    verbs: &["GET"],
    operation: false,
    writes: false,
    access: Access::Public,
    request: None,
    answer: Answer::File("application/json"),
    summary: "This description",
};

/// Every route, in the order the API documentation lists them.
pub const ROUTES: &[Route] = &[
    NEW_BILLABLE,
    NEW_BILLABLE_BATCH,
    GET_BILLING,
    GET_BILLING_SERIES,
    LIST_USAGE_RECORDS,
    BILLING_REPORT,
    LIST_REPORTS,
    GET_REPORT,
    DELETE_REPORT,
    DOWNLOAD_REPORT,
    LIST_ACCOUNTS,
    CREATE_ACCOUNT,
    UPDATE_ACCOUNT,
    LIST_CUSTOMERS,
    CREATE_CUSTOMER,
    UPDATE_CUSTOMER,
    AUTHENTICATE,
    AUTH,
    AUTH_STATUS,
    LOGOUT,
    LIST_API_KEYS,
    CREATE_API_KEY,
    REVOKE_API_KEY,
    HEALTH,
    OPENAPI,
];

/// The route of an operation name, case-insensitively (`getbilling` → GetBilling).
pub fn by_name(name: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.name.eq_ignore_ascii_case(name))
}

/// The operation served at `/api/{name}` / `/json/reply/{name}`, case-insensitively.
pub fn operation(name: &str) -> Option<&'static Route> {
    by_name(name).filter(|r| r.operation)
}

/// The routes whose custom path matches a request path.
pub fn matching(path: &str) -> impl Iterator<Item = &'static Route> + '_ {
    ROUTES.iter().filter(move |r| r.matches(path))
}

/// Is this request path one of the API's (a custom path, or a pre-defined operation route)?
/// Everything else belongs to the dashboard.
pub fn is_api_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.starts_with("/api/")
        || lower.starts_with("/json/")
        || ROUTES.iter().any(|r| {
            r.path.is_some_and(|p| {
                path_matches(p, path)
                    || p.split('/').nth(1).is_some_and(|first| {
                        first != "healthz"
                            && first != "openapi.json"
                            && path.split('/').nth(1) == Some(first)
                    })
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn names_are_unique_and_paths_are_unique_per_verb() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(!a.name.eq_ignore_ascii_case(b.name), "{}", a.name);
                if a.path == b.path {
                    assert!(
                        a.verbs.iter().all(|v| !b.verbs.contains(v)),
                        "{} and {} share a path and a verb",
                        a.name,
                        b.name
                    );
                }
            }
        }
    }

    #[test]
    fn writes_are_never_gets() {
        for r in ROUTES.iter().filter(|r| r.writes && r.name != "Auth") {
            assert!(!r.verbs.contains(&"GET"), "{}", r.name);
            assert!(!r.api_verbs().contains(&"GET"), "{}", r.name);
        }
        assert_eq!(GET_BILLING.api_verbs(), ["GET", "POST"]);
        assert_eq!(NEW_BILLABLE.api_verbs(), ["POST"]);
        assert_eq!(BILLING_REPORT.api_verbs(), ["POST"]);
    }

    #[test]
    fn lookups() {
        assert_eq!(
            operation("NEWBILLABLE[]").map(|r| r.name),
            Some("NewBillable[]")
        );
        assert!(operation("ListReports").is_none());
        assert!(GET_REPORT.matches("/reports/rep_1"));
        assert!(!GET_REPORT.matches("/reports/"));
        assert!(!GET_REPORT.matches("/reports/a/b"));
        assert_eq!(
            matching("/reports/rep_1")
                .map(|r| r.name)
                .collect::<Vec<_>>(),
            ["GetReport", "DeleteReport"]
        );
        assert!(is_api_path("/billing"));
        assert!(is_api_path("/billing/nope"));
        assert!(is_api_path("/API/GetBilling"));
        assert!(is_api_path("/reports/x/y/z"));
        assert!(!is_api_path("/"));
        assert!(!is_api_path("/app/customers"));
        assert!(!is_api_path("/assets/app-1234.js"));
        assert!(!is_api_path("/healthz/x"));
    }
}
