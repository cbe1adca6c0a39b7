//! `/openapi.json`: an OpenAPI 3.0 description of the whole API, built from core's route table
//! (paths, verbs, summaries, who may call) and one table of DTO fields here.
//!
//! It promises what the server does, so that a schema-based fuzzer finds nothing to report:
//! every status a route can answer (its success as the table's `Answer` says, and each error
//! with the ResponseStatus body, `Allow` on 405, `Retry-After` on 429 and 503), the media type
//! of every body, no security on public routes, and the constraints core's validation enforces
//! on each request field (lengths, date syntax, enums, bounds). What it cannot say (an end date
//! on or after the start, at most 3,660 days) is a 400 it documents.

use evo_billing_core::routes::{self, Access, Answer, Route, ROUTES};
use evo_billing_core::validation::{
    MAX_API_KEY_DAYS, MAX_EMAIL_LEN, MAX_ID_LEN, MAX_NAME_LEN, MAX_PAGE_SIZE, MAX_URL_LEN,
};
use serde_json::{json, Map, Value};

/// (field, kind, required, description). Kinds: the JSON types `string`, `integer`, `number`,
/// `boolean`; `#Name` (reference), `[Name` (array of reference), `[string`; and the request
/// values of [`kind_schema`] (`id`, `name`, `date`…), which carry core's constraints.
type Field = (&'static str, &'static str, bool, &'static str);

const SCHEMAS: &[(&str, &[Field])] = &[
    ("NewBillable", &[
        ("accountId", "id", false, "The account to associate the billable with"),
        ("customerId", "id", false, "The customer to associate the billable with"),
        ("sessionId", "id", false, "The session ID to associate the billable with. You must specify either this or (AccountId + CustomerId)"),
        ("callSid", "id", true, "The call SID to report"),
    ]),
    ("NewBillableResult", &[
        ("callSid", "string", false, "The item's call SID"),
        ("duplicate", "boolean", true, "The call had already been reported (billed once)"),
        ("responseStatus", "#ResponseStatus", false, "Set when this item was refused"),
    ]),
    ("GetBilling", &[
        ("accountId", "id", true, "Your Evo Voice Account ID"),
        ("startDate", "date", true, "Start of the range (YYYY-MM-DD or ISO date-time; only the date is used)"),
        ("endDate", "date", true, "End of the range, included (on or after startDate, at most 3660 days)"),
        ("customerId", "id", false, "Filter to a specific customer"),
    ]),
    ("BillingInfo", &[("customers", "[BillingCustomerInfo", true, "One entry per customer with billed calls, sorted by customerId")]),
    ("BillingCustomerInfo", &[
        ("customerId", "string", false, ""),
        ("internationalCosts", "number", true, "Cost of international calls in the range, rounded to the currency's precision"),
        ("hasCallRecording", "boolean", true, "Whether any billed call in the range was recorded"),
    ]),
    ("BillingReport", &[
        ("startDate", "date", true, "Start of the range"),
        ("endDate", "date", true, "End of the range, included (on or after startDate, at most 3660 days)"),
        ("includeCustomerIds", "boolean", false, "Add a CustomerId column"),
        ("accountId", "id", true, "The account ID this report should be run for"),
        ("emailAddressToNotify", "email", false, "The email address to notify after the report is run"),
        ("webhookUrl", "url", false, "The webhook to call after the report is complete with the data from the report (signed: X-Evo-Signature)"),
    ]),
    ("ReportInfo", &[
        ("id", "string", false, ""),
        ("name", "string", false, ""),
        ("status", "report-status", true, ""),
        ("statusMessage", "string", false, ""),
        ("dateCreated", "string", false, "ISO-8601 UTC"),
        ("dateUpdated", "string", false, "ISO-8601 UTC"),
        ("downloadLink", "string", false, "CSV download (replace .csv by .xlsx for Excel)"),
        ("jobId", "string", false, ""),
        ("emailAddressToNotify", "string", false, ""),
        ("server", "string", false, "The server process that ran it"),
    ]),
    ("ListUsageRecords", &[
        ("accountId", "id", true, "The account ID you are listing for"),
        ("startDate", "date", true, "The start date (YYYY-MM-DD)"),
        ("endDate", "date", true, "The end date (YYYY-MM-DD), included (at most 3660 days)"),
        ("granularity", "usage-granularity", false, "Extension: daily | weekly | monthly: one record per category per period (at most 1000 periods); all (the default): one record per category"),
    ]),
    ("UsageRecordInfo", &[
        ("accountSid", "string", false, ""),
        ("category", "category", false, "A usage category; parents contain their children (calls ⊇ calls-inbound), totalprice contains all"),
        ("count", "integer", true, ""),
        ("countUnit", "string", false, ""),
        ("description", "string", false, ""),
        ("endDate", "string", false, ""),
        ("price", "number", true, "Rounded to the currency's precision"),
        ("priceUnit", "string", false, "Lower-case ISO 4217"),
        ("startDate", "string", false, ""),
        ("usage", "string", false, "Decimal quantity"),
        ("usageUnit", "string", false, ""),
        ("uri", "string", false, ""),
    ]),
    ("Authenticate", &[
        ("provider", "provider", false, "credentials (the only provider)"),
        ("userName", "id", true, "The user's email address"),
        ("password", "password", true, ""),
        ("rememberMe", "boolean", false, "30-day session instead of 12 hours"),
    ]),
    ("AuthenticateResponse", &[
        ("userId", "string", false, ""),
        ("sessionId", "string", false, ""),
        ("userName", "string", false, ""),
        ("displayName", "string", false, ""),
        ("bearerToken", "string", false, "Send as Authorization: Bearer <token>"),
        ("roles", "[role", true, ""),
        ("permissions", "[string", true, ""),
    ]),
    ("UserInfo", &[
        ("id", "string", false, ""),
        ("isAuthenticated", "boolean", true, ""),
        ("name", "string", false, ""),
        ("emailAddress", "string", false, ""),
        ("roles", "[role", true, ""),
        ("accountIds", "[string", true, ""),
        ("accountNames", "[string", true, ""),
    ]),
    ("GetBillingSeries", &[
        ("accountId", "id", true, "The account"),
        ("startDate", "date", true, "Start of the range (YYYY-MM-DD or ISO date-time; only the date is used)"),
        ("endDate", "date", true, "End of the range, included (on or after startDate, at most 3660 days)"),
        ("granularity", "series-granularity", true, "daily | weekly (ISO weeks) | monthly | all (at most 1000 periods)"),
        ("customerId", "id", false, "Only this customer"),
    ]),
    ("BillingSeries", &[
        ("accountId", "string", false, ""),
        ("currency", "string", false, "ISO 4217 code of every amount"),
        ("granularity", "series-granularity", true, ""),
        ("periods", "[BillingPeriod", true, "Every period of the range, empty ones included"),
    ]),
    ("BillingPeriod", &[
        ("startDate", "string", false, ""),
        ("endDate", "string", false, ""),
        ("billedCalls", "integer", true, ""),
        ("internationalCalls", "integer", true, ""),
        ("internationalCosts", "number", true, "Rounded to the currency's precision"),
        ("recordedCalls", "integer", true, ""),
        ("customersBilled", "integer", true, "Customers with at least one billed call in the period"),
    ]),
    ("ListAccounts", &[]),
    ("AccountList", &[
        ("items", "[AccountInfo", true, ""),
        ("totalCount", "integer", true, ""),
    ]),
    ("AccountInfo", &[
        ("id", "string", false, ""),
        ("name", "string", false, ""),
        ("accountSid", "string", false, "AC + 32 hex digits"),
        ("currency", "string", false, "ISO 4217"),
        ("homeCountry", "string", false, "ISO 3166-1 alpha-2"),
    ]),
    ("CreateAccount", &[
        ("id", "id", false, "Generated when absent"),
        ("name", "name", true, ""),
        ("accountSid", "account-sid", false, "AC + 32 hex digits; generated when absent"),
        ("currency", "currency", true, "ISO 4217, e.g. USD"),
        ("homeCountry", "country", true, "ISO 3166-1 alpha-2, e.g. US"),
    ]),
    ("UpdateAccount", &[
        ("accountId", "id", true, ""),
        ("name", "name", true, "The new name"),
    ]),
    ("ListCustomers", &[
        ("accountId", "id", true, ""),
        ("parentId", "id", false, "Only the direct children of this customer"),
        ("nameFilter", "text", false, "Names containing this text, case-insensitively"),
        ("page", "page", false, "From 0"),
        ("countPerPage", "count-per-page", false, "1 to 10000 (default 10000)"),
        ("fields", "customer-fields", false, "Only these fields of each customer, comma-separated (id and depth always come); absent: all"),
    ]),
    ("CustomerList", &[
        ("items", "[CustomerInfo", true, "In tree order: parents before children"),
        ("totalCount", "integer", true, ""),
        ("totalPages", "integer", true, ""),
        ("hasMorePages", "boolean", true, ""),
    ]),
    ("CustomerInfo", &[
        ("id", "string", false, ""),
        ("accountId", "string", false, ""),
        ("name", "string", false, ""),
        ("parentId", "string", false, "Absent at the root"),
        ("breadcrumb", "string", false, "Root / Child / Self"),
        ("depth", "integer", true, "0 at the root"),
    ]),
    ("CreateCustomer", &[
        ("accountId", "id", true, ""),
        ("id", "id", false, "Generated when absent"),
        ("name", "name", true, ""),
        ("parentId", "id", false, "A customer of the same account; absent: a root"),
    ]),
    ("UpdateCustomer", &[
        ("customerId", "id", true, ""),
        ("name", "name", false, "A new name"),
        ("parentId", "id", false, "Move below this customer (same account, not in the moved subtree)"),
        ("makeRoot", "boolean", false, "Move to the root (not with parentId)"),
    ]),
    ("ListApiKeys", &[]),
    ("ApiKeyList", &[("items", "[ApiKeyInfo", true, "Newest first")]),
    ("ApiKeyInfo", &[
        ("id", "string", true, "key_…: names the key to revoke it"),
        ("name", "string", true, ""),
        ("userName", "string", true, "The owner's email"),
        ("createdAt", "string", true, "ISO 8601 UTC"),
        ("expiresAt", "string", false, "ISO 8601 UTC; absent: never"),
        ("revoked", "boolean", true, ""),
        ("active", "boolean", true, "Neither revoked nor expired"),
    ]),
    ("CreateApiKey", &[
        ("name", "name", true, "What the key is for"),
        ("expiresInDays", "key-days", false, "1 to 3660; absent: never expires"),
    ]),
    ("CreatedApiKey", &[
        ("key", "string", true, "The secret, shown only here: send it as a bearer token"),
        ("info", "#ApiKeyInfo", true, ""),
    ]),
    ("RevokeApiKey", &[("id", "id", true, "")]),
    ("Health", &[
        ("status", "health-status", true, "ok; unavailable (the database does not answer); degraded (writes are failing)"),
        ("database", "database", true, ""),
        ("writes", "writes", false, "Present while writes are failing"),
    ]),
    ("ErrorResponse", &[("responseStatus", "#ResponseStatus", true, "")]),
    ("ResponseStatus", &[
        ("errorCode", "string", false, "NotEmpty, InvalidDate, Unauthorized, Forbidden, NotFound, ..."),
        ("message", "string", false, ""),
        ("errors", "[ResponseError", true, "One per bad field"),
    ]),
    ("ResponseError", &[
        ("errorCode", "string", false, ""),
        ("fieldName", "string", false, "PascalCase"),
        ("message", "string", false, ""),
    ]),
];

/// Text core accepts as an identifier or a name: no control characters, not blank.
/// ListCustomers' `fields`: field names of a customer, comma-separated (the server also takes any
/// case and blanks around the names).
const CUSTOMER_FIELDS: &str = "^((id|accountId|name|parentId|breadcrumb|depth)(,(id|accountId|name|parentId|breadcrumb|depth))*)?$";
const TEXT: &str = r"^[^\x00-\x1f\x7f-\x9f]*$";
const NOT_BLANK: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";
/// An API date (`core::date_range::parse_api_date`): `YYYY-MM-DD`, or an ISO-8601 date-time
/// whose time and offset are checked and ignored.
pub const DATE: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,9})?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?$";

/// The schema of a field's kind.
fn kind_schema(kind: &str) -> Value {
    let one_of = |values: &[&str]| json!({"type": "string", "enum": values});
    match kind {
        "id" => {
            json!({"type": "string", "minLength": 1, "maxLength": MAX_ID_LEN, "pattern": NOT_BLANK})
        }
        "name" => {
            json!({"type": "string", "minLength": 1, "maxLength": MAX_NAME_LEN, "pattern": NOT_BLANK})
        }
        "text" => json!({"type": "string", "maxLength": MAX_NAME_LEN, "pattern": TEXT}),
        "password" => json!({"type": "string", "minLength": 1, "maxLength": 1024}),
        "date" => json!({"type": "string", "pattern": DATE}),
        "email" => json!({"type": "string", "format": "email", "maxLength": MAX_EMAIL_LEN}),
        "url" => {
            json!({"type": "string", "maxLength": MAX_URL_LEN, "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s@/?#]+([/?#]\S*)?$"})
        }
        "currency" => json!({"type": "string", "pattern": "^[A-Za-z]{3}$"}),
        "country" => json!({"type": "string", "pattern": "^[A-Za-z]{2}$"}),
        "account-sid" => json!({"type": "string", "pattern": "^AC[0-9A-Fa-f]{32}$"}),
        // page × countPerPage must stay within 10,000,000: any page up to 1000 does.
        "page" => json!({"type": "integer", "minimum": 0, "maximum": 1000}),
        "customer-fields" => json!({"type": "string", "pattern": CUSTOMER_FIELDS}),
        "count-per-page" => json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}),
        "key-days" => json!({"type": "integer", "minimum": 1, "maximum": MAX_API_KEY_DAYS}),
        "usage-granularity" | "series-granularity" => {
            one_of(&["daily", "weekly", "monthly", "all"])
        }
        "provider" => one_of(&["credentials"]),
        "report-status" => one_of(&["Queued", "Running", "Completed", "Error"]),
        "role" => one_of(&["SystemAdministrator", "Manager", "Customer"]),
        "health-status" => one_of(&["ok", "unavailable", "degraded"]),
        "database" => one_of(&["sqlite", "postgres"]),
        "writes" => one_of(&["failing"]),
        "category" => {
            let names: Vec<&str> = evo_billing_core::usage::CATEGORIES
                .iter()
                .map(|c| c.name)
                .collect();
            one_of(&names)
        }
        t => {
            if let Some(r) = t.strip_prefix('#') {
                json!({"$ref": format!("#/components/schemas/{r}")})
            } else if let Some(item) = t.strip_prefix('[') {
                let items = match item {
                    "string" => json!({"type": "string"}),
                    "role" => kind_schema("role"),
                    _ => json!({"$ref": format!("#/components/schemas/{item}")}),
                };
                json!({"type": "array", "items": items})
            } else {
                json!({"type": t})
            }
        }
    }
}

/// A field's schema with its description and, for the demo data, an example.
fn field_schema((name, kind, _, desc): &Field) -> Value {
    let mut v = kind_schema(kind);
    if let Some(o) = v.as_object_mut() {
        if !desc.is_empty() {
            o.insert("description".into(), json!(desc));
        }
        let example = match (*name, *kind) {
            ("accountId", "id") => Some("acc-northwind"),
            ("customerId", "id") => Some("cus-0001"),
            ("startDate", _) => Some("2026-10-01"),
            ("endDate", _) => Some("2026-10-31"),
            _ => None,
        };
        if let Some(e) = example {
            o.insert("example".into(), json!(e));
        }
    }
    v
}

fn fields_of(dto: &str) -> &'static [Field] {
    SCHEMAS
        .iter()
        .find(|(n, _)| *n == dto)
        .map(|(_, f)| *f)
        .unwrap_or(&[])
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// An error answer: the ResponseStatus body, in JSON (the negotiated format's, on request).
fn error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": reference("ErrorResponse")}}})
}

fn with_header(mut response: Value, name: &str, schema: Value, description: &str) -> Value {
    response["headers"][name] =
        json!({"required": true, "schema": schema, "description": description});
    response
}

fn retry_after(response: Value) -> Value {
    with_header(
        response,
        "Retry-After",
        json!({"type": "integer", "minimum": 0}),
        "Seconds to wait before trying again",
    )
}

/// The XLSX media type of a report download.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What a verb of a route does: the route whose handler answers it (ServiceStack's `/auth`
/// answers GET as AuthStatus, POST as Authenticate and DELETE as Logout; every other route is
/// itself).
fn behaviour(route: &'static Route, verb: &str) -> &'static Route {
    match (route.name, verb) {
        ("Auth", "GET") => &routes::AUTH_STATUS,
        ("Auth", "POST") => &routes::AUTHENTICATE,
        ("Auth", "DELETE") => &routes::LOGOUT,
        _ => route,
    }
}

/// Does this route look something up by an id that may not exist (404)?
fn looks_up(route: &Route, doc_path: &str) -> bool {
    let lookup_field = route.request.is_some_and(|r| {
        fields_of(r)
            .iter()
            .any(|(f, ..)| matches!(*f, "accountId" | "customerId" | "sessionId"))
    });
    route.name != routes::NEW_BILLABLE_BATCH.name && (doc_path.contains('{') || lookup_field)
}

/// Every status a verb of a route answers, with its body and headers.
fn responses(route: &'static Route, verb: &str, doc_path: &str, success_mime: &str) -> Value {
    let b = behaviour(route, verb);
    let mut r = Map::new();
    let ok = |schema: Value| json!({"description": "OK", "content": {"application/json": {"schema": schema}}});
    match b.answer {
        Answer::NoContent => {
            r.insert("204".into(), json!({"description": "No Content"}));
        }
        Answer::Dto(name) => {
            r.insert("200".into(), ok(reference(name)));
        }
        Answer::List(name) => {
            r.insert(
                "200".into(),
                ok(json!({"type": "array", "items": reference(name)})),
            );
        }
        Answer::File("application/json") => {
            r.insert("200".into(), ok(json!({"type": "object"})));
        }
        Answer::File(_) => {
            r.insert(
                "200".into(),
                json!({"description": "OK: the file", "content": {success_mime: {"schema": {"type": "string", "format": "binary"}}}}),
            );
        }
    }
    let sign_in = b.name == routes::AUTHENTICATE.name;
    if b.request.is_some() {
        r.insert(
            "400".into(),
            error("Validation error: one entry per bad field; or a body that cannot be read"),
        );
    }
    if b.access != Access::Public || sign_in {
        let d = if sign_in {
            "Invalid user name or password"
        } else {
            "Not signed in"
        };
        r.insert("401".into(), error(d));
    }
    if b.access != Access::Public || b.writes {
        r.insert(
            "403".into(),
            error("Forbidden: outside the caller's role or scope, or a cross-site request refused"),
        );
    }
    if looks_up(b, doc_path) {
        r.insert("404".into(), error("Not found: an unknown id (an unknown account: 404 for administrators, 403 for others)"));
    }
    r.insert(
        "405".into(),
        with_header(
            error("Method not allowed on this path"),
            "Allow",
            json!({"type": "string"}),
            "The methods this path answers",
        ),
    );
    if matches!(b.name, "DeleteReport" | "CreateAccount" | "CreateCustomer") {
        let d = if b.name == "DeleteReport" {
            "Conflict: the report is running"
        } else {
            "Conflict: the id is taken"
        };
        r.insert("409".into(), error(d));
    }
    if b.request.is_some() {
        r.insert(
            "408".into(),
            error("The request body did not arrive in time (30 s)"),
        );
        r.insert(
            "413".into(),
            error("The request body is over 4 MiB, or a batch over its item or value limits"),
        );
        r.insert(
            "415".into(),
            error("A Content-Type the server does not read (JSON, JSV, form)"),
        );
    }
    if sign_in {
        r.insert(
            "429".into(),
            retry_after(error("Too many sign-in attempts")),
        );
    }
    if b.name == routes::HEALTH.name {
        // Health's own 503, or the server's when it sheds load.
        let schema = json!({"anyOf": [reference("Health"), reference("ErrorResponse")]});
        r.insert(
            "503".into(),
            retry_after(json!({"description": "The database does not answer, or writes are failing", "content": {"application/json": {"schema": schema}}})),
        );
    } else {
        r.insert(
            "503".into(),
            retry_after(error(
                "The store cannot take the request now, or the server is busy",
            )),
        );
    }
    Value::Object(r)
}

/// The body a verb of a route reads, with every format the server binds.
fn request_body(dto: &str) -> Value {
    json!({"content": {
        "application/json": {"schema": reference(dto)},
        "application/x-www-form-urlencoded": {"schema": reference(dto)},
        "text/jsv": {"schema": {"type": "string"}},
    }})
}

/// One operation of the document.
fn operation(
    route: &'static Route,
    verb: &'static str,
    doc_path: &str,
    id: String,
    success_mime: &str,
) -> Value {
    let b = behaviour(route, verb);
    let mut o = json!({
        "operationId": id,
        "summary": if b.name == route.name { route.summary } else { b.summary },
        "responses": responses(route, verb, doc_path, success_mime),
    });
    let mut params: Vec<Value> = Vec::new();
    if let Some(dto) = b.request {
        if verb == "GET" {
            params.extend(fields_of(dto).iter().map(
                |f| json!({"name": f.0, "in": "query", "required": f.2, "schema": field_schema(f)}),
            ));
        } else {
            o["requestBody"] = request_body(dto);
        }
    }
    for seg in doc_path.split('/') {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let schema = match name {
                "accountId" | "customerId" => kind_schema("id"),
                _ => json!({"type": "string", "minLength": 1}),
            };
            params.push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
        }
    }
    if !params.is_empty() {
        o["parameters"] = Value::Array(params);
    }
    if b.access == Access::Public {
        o["security"] = json!([]);
    }
    o
}

/// The paths a route is documented at, with the media type of a file answer: downloads are
/// documented as their two files.
fn doc_paths(route: &Route) -> Vec<(String, &'static str)> {
    let Some(path) = route.path else {
        return Vec::new();
    };
    match route.answer {
        Answer::File(_) if path.ends_with("/{file}") => {
            let base = path.trim_end_matches("{file}");
            vec![
                (format!("{base}download.csv"), "text/csv"),
                (format!("{base}download.xlsx"), XLSX),
            ]
        }
        Answer::File(mime) => vec![(path.to_string(), mime)],
        _ => vec![(path.to_string(), "application/json")],
    }
}

fn verb_suffix(verb: &str) -> String {
    let lower = verb.to_ascii_lowercase();
    let mut c = lower.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The schemas of the components, from [`SCHEMAS`].
fn schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    for (name, fields) in SCHEMAS {
        let mut props = Map::new();
        let mut required = Vec::new();
        for f in fields.iter() {
            props.insert(f.0.to_string(), field_schema(f));
            if f.2 {
                required.push(json!(f.0));
            }
        }
        let mut s = json!({"type": "object", "properties": props, "required": required});
        match *name {
            // Without a session, both the account and the customer.
            "NewBillable" => {
                s["anyOf"] =
                    json!([{"required": ["sessionId"]}, {"required": ["accountId", "customerId"]}]);
            }
            // Something to change.
            "UpdateCustomer" => {
                s["anyOf"] = json!([
                    {"required": ["name"]},
                    {"required": ["parentId"]},
                    {"required": ["makeRoot"], "properties": {"makeRoot": {"enum": [true]}}},
                ]);
            }
            _ => {}
        }
        schemas.insert(name.to_string(), s);
    }
    schemas
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        for (doc_path, mime) in doc_paths(route) {
            let suffix = match mime {
                "text/csv" => "Csv",
                XLSX => "Xlsx",
                _ => "",
            };
            let entry = paths.entry(doc_path.clone()).or_insert_with(|| json!({}));
            for verb in route.verbs {
                let id = if route.verbs.len() == 1 {
                    format!("{}{suffix}", route.name)
                } else {
                    format!("{}{}{suffix}", route.name, verb_suffix(verb))
                };
                entry[verb.to_ascii_lowercase()] = operation(route, verb, &doc_path, id, mime);
            }
        }
    }
    // The auto-batched NewBillable exists only at the pre-defined routes (with their verbs).
    let batch = &routes::NEW_BILLABLE_BATCH;
    let path = format!("/api/{}", batch.name);
    let verbs = batch.api_verbs();
    let mut item = Map::new();
    for verb in &verbs {
        let id = if verbs.len() == 1 {
            "NewBillableBatch".to_string()
        } else {
            format!("NewBillableBatch{}", verb_suffix(verb))
        };
        let mut op = operation(batch, verb, &path, id, "application/json");
        // The items are the body (the query string is ignored): a GET has none to send.
        if let Some(o) = op.as_object_mut() {
            o.remove("parameters");
            o.remove("requestBody");
        }
        if *verb != "GET" {
            op["requestBody"] = json!({"content": {
                "application/json": {"schema": {"type": "array", "items": reference("NewBillable")}},
                "text/jsv": {"schema": {"type": "string"}},
            }});
        }
        item.insert(verb.to_ascii_lowercase(), op);
    }
    paths.insert(path, Value::Object(item));
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "evo-billing",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The Evo Voice billing API (ServiceStack-compatible). Every operation is also served at /api/{Operation} and /json/reply/{Operation}. Formats: ?format=json|jsv|xml|csv, a .json/.jsv/.xml/.csv suffix, or Accept (this document describes JSON); JSONP with ?callback=. Errors: {responseStatus: {errorCode, message, errors[]}}, with Allow on 405 and Retry-After on 429 and 503.",
        },
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "http", "scheme": "basic", "description": "API key as the user name, empty password"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE},
            },
        },
        "security": [{"bearer": []}, {"apiKey": []}, {"cookie": []}],
        "paths": paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(doc: &Value) -> Vec<(String, String, &Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (verb, op) in item.as_object().unwrap() {
                out.push((path.clone(), verb.clone(), op));
            }
        }
        out
    }

    #[test]
    fn document_references_resolve() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for (i, _) in text.match_indices("#/components/schemas/") {
            let rest = &text[i + "#/components/schemas/".len()..];
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "dangling $ref {name}");
        }
        assert_eq!(
            doc["paths"]["/billing"]["get"]["parameters"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        assert_eq!(doc["paths"]["/reports/{id}"].as_object().unwrap().len(), 2);
    }

    #[test]
    fn operation_ids_are_unique_and_every_route_is_described() {
        let doc = document();
        let mut ids: Vec<String> = ops(&doc)
            .iter()
            .map(|(_, _, o)| o["operationId"].as_str().unwrap().to_string())
            .collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate operationIds");
        for route in ROUTES {
            for (path, _) in doc_paths(route) {
                for verb in route.verbs {
                    assert!(
                        doc["paths"][&path][verb.to_ascii_lowercase()].is_object(),
                        "{verb} {path}"
                    );
                }
            }
        }
        assert!(doc["paths"]["/api/NewBillable[]"]["post"].is_object());
        // `cargo xtask fuzz-api` leaves out the two operations that end its session, by id.
        assert_eq!(
            doc["paths"]["/auth/logout"]["post"]["operationId"],
            "Logout"
        );
        assert_eq!(doc["paths"]["/auth"]["delete"]["operationId"], "AuthDelete");
    }

    /// The statuses the server answers, each with its body's media type.
    #[test]
    fn statuses_are_honest() {
        let doc = document();
        let p = &doc["paths"];
        let codes = |path: &str, verb: &str| -> Vec<String> {
            p[path][verb]["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{verb} {path}"))
                .keys()
                .cloned()
                .collect()
        };
        // The answers the issue found misdocumented.
        let health = &p["/healthz"]["get"]["responses"];
        assert_eq!(
            health["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Health"
        );
        assert_eq!(
            health["503"]["content"]["application/json"]["schema"]["anyOf"][0]["$ref"],
            "#/components/schemas/Health"
        );
        assert!(health["503"]["headers"]["Retry-After"]["required"] == true);
        assert!(health.get("204").is_none() && health.get("401").is_none());
        for (path, mime) in [
            ("/reports/{id}/download.csv", "text/csv"),
            ("/reports/{id}/download.xlsx", XLSX),
        ] {
            let r = &p[path]["get"]["responses"];
            assert!(r["200"]["content"][mime].is_object(), "{path}");
            assert!(r.get("204").is_none(), "{path}");
            assert!(r["404"].is_object(), "{path}");
        }
        assert_eq!(
            codes("/billables", "post"),
            ["204", "400", "401", "403", "404", "405", "408", "413", "415", "503"]
        );
        assert_eq!(
            codes("/auth/credentials", "post"),
            ["200", "400", "401", "403", "405", "408", "413", "415", "429", "503"]
        );
        assert_eq!(
            codes("/reports/{id}", "delete"),
            ["204", "401", "403", "404", "405", "409", "503"]
        );
        assert_eq!(
            codes("/api/NewBillable[]", "post"),
            ["200", "400", "401", "403", "405", "408", "413", "415", "503"]
        );
        assert_eq!(codes("/openapi.json", "get"), ["200", "405", "503"]);
        assert!(codes("/accounts", "post").contains(&"409".to_string()));
        assert!(codes("/customers", "post").contains(&"409".to_string()));
        // /auth: a handler per verb.
        assert!(
            p["/auth"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap()
                .ends_with("/UserInfo")
        );
        assert!(p["/auth"]["get"].get("requestBody").is_none());
        assert!(p["/auth"]["delete"]["responses"]["204"].is_object());
        assert!(p["/auth"]["post"]["responses"]["429"].is_object());
        for (path, verb, o) in ops(&doc) {
            let r = o["responses"].as_object().unwrap();
            assert_eq!(
                r["405"]["headers"]["Allow"]["required"], true,
                "{verb} {path}"
            );
            for (code, resp) in r {
                if code != "204" {
                    assert!(
                        resp["content"].as_object().is_some_and(|c| !c.is_empty()),
                        "{verb} {path} {code}: no media type"
                    );
                }
                if code.starts_with('4') || (code.starts_with('5') && path != "/healthz") {
                    assert_eq!(
                        resp["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorResponse",
                        "{verb} {path} {code}"
                    );
                }
            }
            if code_list_has(r, "503") {
                assert_eq!(r["503"]["headers"]["Retry-After"]["required"], true);
            }
            // Security: none on public routes, the global one elsewhere.
            let public = ROUTES
                .iter()
                .any(|r| r.access == Access::Public && r.path == Some(path.as_str()));
            if public {
                assert_eq!(o["security"], json!([]), "{verb} {path}");
            } else {
                assert!(o.get("security").is_none(), "{verb} {path}");
            }
        }
    }

    fn code_list_has(r: &Map<String, Value>, code: &str) -> bool {
        r.contains_key(code)
    }

    #[test]
    fn request_fields_carry_cores_constraints() {
        let doc = document();
        let s = &doc["components"]["schemas"];
        let id = &s["GetBilling"]["properties"]["accountId"];
        assert_eq!(
            (id["minLength"].as_u64(), id["maxLength"].as_u64()),
            (Some(1), Some(128))
        );
        assert_eq!(s["CreateAccount"]["properties"]["name"]["maxLength"], 200);
        assert_eq!(
            s["BillingReport"]["properties"]["emailAddressToNotify"]["maxLength"],
            254
        );
        assert_eq!(
            s["BillingReport"]["properties"]["webhookUrl"]["maxLength"],
            2048
        );
        let cpp = &s["ListCustomers"]["properties"]["countPerPage"];
        assert_eq!(
            (cpp["minimum"].as_u64(), cpp["maximum"].as_u64()),
            (Some(1), Some(10_000))
        );
        assert_eq!(
            s["GetBillingSeries"]["properties"]["granularity"]["enum"],
            json!(["daily", "weekly", "monthly", "all"])
        );
        assert_eq!(
            s["UsageRecordInfo"]["properties"]["category"]["enum"]
                .as_array()
                .unwrap()
                .len(),
            evo_billing_core::usage::CATEGORIES.len()
        );
        assert_eq!(
            s["ReportInfo"]["properties"]["status"]["enum"],
            json!(["Queued", "Running", "Completed", "Error"])
        );
        // Query parameters carry the same schemas.
        let params = doc["paths"]["/billing"]["get"]["parameters"]
            .as_array()
            .unwrap();
        let start = params.iter().find(|p| p["name"] == "startDate").unwrap();
        assert_eq!(start["schema"]["pattern"], DATE);
        assert_eq!(start["required"], true);
    }

    fn pattern(p: &str) -> regex_automata::meta::Regex {
        regex_automata::meta::Regex::new(p).unwrap()
    }

    /// The date pattern accepts what `parse_api_date` accepts, and refuses the shapes it
    /// refuses.
    #[test]
    fn the_date_pattern_is_the_servers() {
        let date = pattern(DATE);
        let accepted = [
            "2026-03-01",
            "2026-03-01T17:45",
            "2026-03-01T17:45:00",
            "2026-03-01T17:45:00.123",
            "2026-03-01T17:45:00Z",
            "2026-03-01T17:45:00+05:30",
            "2026-03-01T17:45-0800",
            "2026-03-01T17:45:00+14",
            "2026-03-01 17:45",
            "2026-03-01t17:45:00,5z",
        ];
        for d in accepted {
            assert!(
                evo_billing_core::date_range::parse_api_date(d).is_ok(),
                "{d}"
            );
            assert!(date.is_match(d), "the pattern refuses {d}");
        }
        for d in [
            "2026-3-01",
            "20260301",
            "2026-03-01T",
            "2026-03-01T17",
            "2026-03-01Z",
            "2026-03-01T17:45:00.",
            "2026-03-01T17:45+1",
            "٢٠٢٦-03-01",
        ] {
            assert!(
                evo_billing_core::date_range::parse_api_date(d).is_err(),
                "{d}"
            );
            assert!(!date.is_match(d), "the pattern accepts {d}");
        }
    }

    /// Identifiers and names: what the pattern accepts, core accepts.
    #[test]
    fn the_text_patterns_are_cores() {
        use evo_billing_core::dto::GetBilling;
        use evo_billing_core::validation::Validate;
        let (not_blank, text) = (pattern(NOT_BLANK), pattern(TEXT));
        let billing = |id: &str| GetBilling {
            account_id: Some(id.to_string()),
            start_date: Some("2026-10-01".into()),
            end_date: Some("2026-10-31".into()),
            customer_id: None,
        };
        for id in ["acc-a", " a ", "ü", "a b", "x\u{a0}y"] {
            assert!(not_blank.is_match(id) && text.is_match(id), "{id:?}");
            assert!(billing(id).validate().is_ok(), "{id:?}");
        }
        for id in ["", " ", "\u{3000}", "a\u{0}b", "a\nb", "a\u{85}b", "\u{7f}"] {
            assert!(!not_blank.is_match(id), "{id:?}");
            assert!(billing(id).validate().is_err(), "{id:?}");
        }
        assert!(text.is_match("") && text.is_match(" ") && !text.is_match("a\tb"));
    }
}
