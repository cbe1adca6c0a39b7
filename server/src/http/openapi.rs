//! `/openapi.json`: an OpenAPI 3.0 description of the whole API, built from core's route table
//! (paths, verbs, summaries, who may call) and one table of DTO fields here.

use evo_billing_core::routes::{Access, Answer, ROUTES};
use serde_json::{json, Map, Value};

/// (field, type, required, description). Types: string, integer, number, boolean, `#Name`
/// (reference), `[Name` (array of reference), `[string`.
type Field = (&'static str, &'static str, bool, &'static str);

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
        ("endDate", "string", true, "End of the range, included (at most 3660 days)"),
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
        ("category", "string", false, "A usage category; parents contain their children (calls ⊇ calls-inbound), totalprice contains all"),
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
    ("GetBillingSeries", &[
        ("accountId", "string", true, "The account"),
        ("startDate", "string", true, "Start of the range (YYYY-MM-DD or ISO date-time; only the date is used)"),
        ("endDate", "string", true, "End of the range, included"),
        ("granularity", "string", true, "daily | weekly (ISO weeks) | monthly | all"),
        ("customerId", "string", false, "Only this customer"),
    ]),
    ("BillingSeries", &[
        ("accountId", "string", false, ""),
        ("currency", "string", false, "ISO 4217 code of every amount"),
        ("granularity", "string", true, ""),
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
        ("id", "string", false, "Generated when absent"),
        ("name", "string", true, ""),
        ("accountSid", "string", false, "AC + 32 hex digits; generated when absent"),
        ("currency", "string", true, "ISO 4217, e.g. USD"),
        ("homeCountry", "string", true, "ISO 3166-1 alpha-2, e.g. US"),
    ]),
    ("UpdateAccount", &[
        ("accountId", "string", true, ""),
        ("name", "string", true, "The new name"),
    ]),
    ("ListCustomers", &[
        ("accountId", "string", true, ""),
        ("parentId", "string", false, "Only the direct children of this customer"),
        ("nameFilter", "string", false, "Names containing this text, case-insensitively"),
        ("page", "integer", false, "From 0"),
        ("countPerPage", "integer", false, "1 to 10000 (default 10000)"),
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
        ("accountId", "string", true, ""),
        ("id", "string", false, "Generated when absent"),
        ("name", "string", true, ""),
        ("parentId", "string", false, "A customer of the same account; absent: a root"),
    ]),
    ("UpdateCustomer", &[
        ("customerId", "string", true, ""),
        ("name", "string", false, "A new name"),
        ("parentId", "string", false, "Move below this customer (same account, not in the moved subtree)"),
        ("makeRoot", "boolean", false, "Move to the root"),
    ]),
    ("Health", &[
        ("status", "string", true, "ok | unavailable"),
        ("database", "string", true, "sqlite | postgres"),
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
    if let Some(category) = schemas
        .get_mut("UsageRecordInfo")
        .and_then(|s| s.pointer_mut("/properties/category"))
    {
        category["enum"] = evo_billing_core::usage::CATEGORIES
            .iter()
            .map(|c| json!(c.name))
            .collect();
    }
    let mut paths = Map::new();
    for route in ROUTES {
        let Some(path) = route.path else {
            continue;
        };
        let query = route.verbs == ["GET"] && route.request.is_some();
        let mut o = json!({
            "operationId": route.name,
            "summary": route.summary,
            "responses": {
                "400": {"description": "Validation error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
            },
        });
        if route.access != Access::Public {
            o["responses"]["401"] = json!({"description": "Not signed in"});
            o["responses"]["403"] = json!({"description": "Outside the caller's scope or role"});
        }
        match route.answer {
            Answer::NoContent => o["responses"]["204"] = json!({"description": "No Content"}),
            Answer::Dto(name) => {
                o["responses"]["200"] = json!({"description": "OK", "content": {"application/json": {"schema": type_of(&format!("#{name}"))}}})
            }
            Answer::List(name) => {
                o["responses"]["200"] = json!({"description": "OK", "content": {"application/json": {"schema": type_of(&format!("[{name}"))}}})
            }
            Answer::File(mime) => {
                o["responses"]["200"] = json!({"description": "OK", "content": {mime: {"schema": {"type": "string", "format": "binary"}}}})
            }
        }
        if let (Some(r), false) = (route.request, query) {
            o["requestBody"] = json!({"content": {
                "application/json": {"schema": {"$ref": format!("#/components/schemas/{r}")}},
                "text/jsv": {"schema": {"type": "string"}},
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
            }});
        }
        let mut params: Vec<Value> = Vec::new();
        if query {
            let fields = SCHEMAS
                .iter()
                .find(|(n, _)| Some(*n) == route.request)
                .map(|(_, f)| *f)
                .unwrap_or(&[]);
            params.extend(fields.iter().map(|(f, t, req, desc)| {
                json!({"name": f, "in": "query", "required": req, "description": desc, "schema": {"type": if *t == "integer" { "integer" } else { "string" }}})
            }));
        }
        for seg in path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        if !params.is_empty() {
            o["parameters"] = Value::Array(params);
        }
        if route.access == Access::Public {
            o["security"] = json!([]);
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        for verb in route.verbs {
            entry[verb.to_ascii_lowercase()] = o.clone();
        }
    }
    // The auto-batched NewBillable exists only at the pre-defined routes.
    paths.insert(
        "/api/NewBillable[]".to_string(),
        json!({"post": {
            "operationId": "NewBillableBatch",
            "summary": evo_billing_core::routes::NEW_BILLABLE_BATCH.summary,
            "requestBody": {"content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/NewBillable"}}}}},
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": type_of("[NewBillableResult")}}},
                "400": {"description": "Validation error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
                "401": {"description": "Not signed in"},
            },
        }}),
    );
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
