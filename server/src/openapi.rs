//! `/openapi.json`: an OpenAPI 3.0 description of the whole API, built from one table of routes
//! and one of DTO fields so it stays next to what it describes.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// (schema, [(field, type, required, description)]). Types: string, integer, number, boolean,
/// `#Name` (reference), `[Name` (array of reference), `[string`.
/// (field, type, required, description).
type Field = (&'static str, &'static str, bool, &'static str);
/// (method, path, operation, summary, request schema, response schema, query parameters?).
type Route = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    bool,
);

const SCHEMAS: &[(&str, &[Field])] = &[
    ("NewBillable", &[
        ("accountId", "string", false, "The account to associate the billable with"),
        ("customerId", "string", false, "The customer to associate the billable with"),
        ("sessionId", "string", false, "The session ID to associate the billable with. You must specify either this or (AccountId + CustomerId)"),
        ("callSid", "string", true, "The call SID to report"),
    ]),
    ("NewBillableResult", &[
        ("callSid", "string", false, "The item's call SID"),
        ("duplicate", "boolean", true, "The call had already been reported (billed once)"),
        ("responseStatus", "#ResponseStatus", false, "Set when this item was refused"),
    ]),
    ("GetBilling", &[
        ("accountId", "string", true, "Your Evo Voice Account ID"),
        ("startDate", "string", true, "Start of the range (YYYY-MM-DD or ISO date-time; only the date is used)"),
        ("endDate", "string", true, "End of the range, included"),
        ("customerId", "string", false, "Filter to a specific customer"),
    ]),
    ("BillingInfo", &[("customers", "[BillingCustomerInfo", true, "One entry per customer with billed calls, sorted by customerId")]),
    ("BillingCustomerInfo", &[
        ("customerId", "string", false, ""),
        ("internationalCosts", "number", true, "Cost of international calls in the range, rounded to the currency's precision"),
        ("hasCallRecording", "boolean", true, "Whether any billed call in the range was recorded"),
    ]),
    ("BillingReport", &[
        ("startDate", "string", true, "Start of the range"),
        ("endDate", "string", true, "End of the range, included (at most 731 days)"),
        ("includeCustomerIds", "boolean", false, "Add a CustomerId column"),
        ("accountId", "string", true, "The account ID this report should be run for"),
        ("emailAddressToNotify", "string", false, "The email address to notify after the report is run"),
        ("webhookUrl", "string", false, "The webhook to call after the report is complete with the data from the report (signed: X-Evo-Signature)"),
    ]),
    ("ReportInfo", &[
        ("id", "string", false, ""),
        ("name", "string", false, ""),
        ("status", "string", true, "Queued | Running | Completed | Error"),
        ("statusMessage", "string", false, ""),
        ("dateCreated", "string", false, "ISO-8601 UTC"),
        ("dateUpdated", "string", false, "ISO-8601 UTC"),
        ("downloadLink", "string", false, "CSV download (replace .csv by .xlsx for Excel)"),
        ("jobId", "string", false, ""),
        ("emailAddressToNotify", "string", false, ""),
        ("server", "string", false, "The server process that ran it"),
    ]),
    ("ListUsageRecords", &[
        ("accountId", "string", true, "The account ID you are listing for"),
        ("startDate", "string", true, "The start date (YYYY-MM-DD)"),
        ("endDate", "string", true, "The end date (YYYY-MM-DD), included"),
        ("granularity", "string", false, "Extension: daily | weekly | monthly: one record per category per period"),
    ]),
    ("UsageRecordInfo", &[
        ("accountSid", "string", false, ""),
        ("category", "string", false, "calls, calls-inbound, calls-outbound, recordings, sms, sms-inbound, sms-outbound, phonenumbers, phonenumbers-local, phonenumbers-mobile, phonenumbers-tollfree, totalprice"),
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
        ("provider", "string", false, "credentials"),
        ("userName", "string", true, ""),
        ("password", "string", true, ""),
        ("rememberMe", "boolean", false, "30-day session instead of 12 hours"),
    ]),
    ("AuthenticateResponse", &[
        ("userId", "string", false, ""),
        ("sessionId", "string", false, ""),
        ("userName", "string", false, ""),
        ("displayName", "string", false, ""),
        ("bearerToken", "string", false, "Send as Authorization: Bearer <token>"),
        ("roles", "[string", true, ""),
        ("permissions", "[string", true, ""),
    ]),
    ("UserInfo", &[
        ("id", "string", false, ""),
        ("isAuthenticated", "boolean", true, ""),
        ("name", "string", false, ""),
        ("emailAddress", "string", false, ""),
        ("roles", "[string", true, ""),
        ("accountIds", "[string", true, ""),
        ("accountNames", "[string", true, ""),
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

/// (method, path, operation, summary, request schema, response schema, query params?)
const ROUTES: &[Route] = &[
    (
        "post",
        "/billables",
        "NewBillable",
        "Report/create a new billable (204; idempotent per account and call SID)",
        Some("NewBillable"),
        None,
        false,
    ),
    (
        "post",
        "/api/NewBillable[]",
        "NewBillableBatch",
        "Auto-batched NewBillable: one result per item",
        Some("NewBillable"),
        Some("[NewBillableResult"),
        false,
    ),
    (
        "get",
        "/billing",
        "GetBilling",
        "Billing totals per customer for a date range",
        None,
        Some("#BillingInfo"),
        true,
    ),
    (
        "get",
        "/billing/usage",
        "ListUsageRecords",
        "Usage records by category (SystemAdministrator, Manager)",
        None,
        Some("[UsageRecordInfo"),
        true,
    ),
    (
        "post",
        "/reports/billing",
        "BillingReport",
        "Queue a billing report (any verb)",
        Some("BillingReport"),
        Some("#ReportInfo"),
        false,
    ),
    (
        "get",
        "/reports",
        "ListReports",
        "The caller's reports, newest first",
        None,
        Some("[ReportInfo"),
        false,
    ),
    (
        "get",
        "/reports/{id}",
        "GetReport",
        "One report",
        None,
        Some("#ReportInfo"),
        false,
    ),
    (
        "delete",
        "/reports/{id}",
        "DeleteReport",
        "Delete a report (409 while running)",
        None,
        None,
        false,
    ),
    (
        "get",
        "/reports/{id}/download.csv",
        "DownloadReportCsv",
        "The report as CSV",
        None,
        None,
        false,
    ),
    (
        "get",
        "/reports/{id}/download.xlsx",
        "DownloadReportXlsx",
        "The report as XLSX",
        None,
        None,
        false,
    ),
    (
        "post",
        "/auth/credentials",
        "Authenticate",
        "Sign in; returns a bearer token and sets the HttpOnly session cookie",
        Some("Authenticate"),
        Some("#AuthenticateResponse"),
        false,
    ),
    (
        "get",
        "/auth/status",
        "AuthStatus",
        "Who the caller is",
        None,
        Some("#UserInfo"),
        false,
    ),
    (
        "post",
        "/auth/logout",
        "Logout",
        "End the session",
        None,
        None,
        false,
    ),
    (
        "get",
        "/healthz",
        "Health",
        "Liveness and database check",
        None,
        None,
        false,
    ),
];

fn type_of(t: &str) -> Value {
    if let Some(r) = t.strip_prefix('#') {
        json!({"$ref": format!("#/components/schemas/{r}")})
    } else if let Some(item) = t.strip_prefix('[') {
        let items = if item == "string" {
            json!({"type": "string"})
        } else {
            json!({"$ref": format!("#/components/schemas/{item}")})
        };
        json!({"type": "array", "items": items})
    } else {
        json!({"type": t})
    }
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut schemas = Map::new();
    for (name, fields) in SCHEMAS {
        let mut props = Map::new();
        let mut required = Vec::new();
        for (f, t, req, desc) in fields.iter() {
            let mut v = type_of(t);
            if !desc.is_empty() {
                if let Some(o) = v.as_object_mut() {
                    o.insert("description".into(), json!(desc));
                }
            }
            props.insert(f.to_string(), v);
            if *req {
                required.push(json!(f));
            }
        }
        schemas.insert(
            name.to_string(),
            json!({"type": "object", "properties": props, "required": required}),
        );
    }
    let mut paths = Map::new();
    for (method, path, op, summary, req, resp, query) in ROUTES {
        let mut o = json!({
            "operationId": op,
            "summary": summary,
            "responses": {
                "400": {"description": "Validation error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
                "401": {"description": "Not signed in"},
                "403": {"description": "Outside the caller's scope or role"},
            },
        });
        let ok = match resp {
            Some(r) => {
                json!({"description": "OK", "content": {"application/json": {"schema": type_of(r)}}})
            }
            None => json!({"description": "OK / No Content"}),
        };
        o["responses"][if resp.is_some() { "200" } else { "204" }] = ok;
        if let Some(r) = req {
            let schema = if op.ends_with("Batch") {
                json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{r}")}})
            } else {
                json!({"$ref": format!("#/components/schemas/{r}")})
            };
            o["requestBody"] = json!({"content": {
                "application/json": {"schema": schema},
                "text/jsv": {"schema": {"type": "string"}},
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
            }});
        }
        if *query {
            let fields = SCHEMAS
                .iter()
                .find(|(n, _)| n == op)
                .map(|(_, f)| *f)
                .unwrap_or(&[]);
            o["parameters"] = Value::Array(
                fields
                    .iter()
                    .map(|(f, _, req, desc)| json!({"name": f, "in": "query", "required": req, "description": desc, "schema": {"type": "string"}}))
                    .collect(),
            );
        }
        if path.contains("{id}") {
            let params = o
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut params = params;
            params.push(
                json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}),
            );
            o["parameters"] = Value::Array(params);
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = o;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "evo-billing",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The Evo Voice billing API (ServiceStack-compatible). Every operation is also served, with any verb, at /api/{Operation} and /json/reply/{Operation}. Formats: ?format=json|jsv|xml|csv, a .json/.jsv/.xml/.csv suffix, or Accept; JSONP with ?callback=. Errors: {responseStatus: {errorCode, message, errors[]}}.",
        },
        "components": {
            "schemas": schemas,
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

pub async fn openapi(method: axum::http::Method) -> Response {
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        return crate::format::Negotiated::default()
            .error(&crate::error::ApiError::MethodNotAllowed);
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        document().to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(
            doc["paths"]["/billing"]["get"]["parameters"]
                .as_array()
                .unwrap()
                .len()
                == 4
        );
        assert_eq!(doc["paths"]["/reports/{id}"].as_object().unwrap().len(), 2);
    }
}
