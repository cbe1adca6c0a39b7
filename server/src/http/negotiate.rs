//! Content negotiation and the response encoders (JSON, JSV, XML, CSV, JSONP).
//!
//! ServiceStack picks a response format from, in order of precedence: `?callback=` (JSONP,
//! always JSON), `?format=`, a route suffix (`/billing.csv`), then the `Accept` header; JSON is
//! the default. [`Negotiated`] records that choice once per request and renders both success
//! values ([`Negotiated::ok`]) and errors ([`Negotiated::error`]) in it.
//!
//! XML is written DataContract style, as the seed samples show: the root element carries the
//! `i` (XMLSchema-instance) namespace and the type's DataContract namespace, members are
//! PascalCase elements in alphabetical (ordinal) order, nulls are omitted, lists get one child
//! per item named after the item type ([`XmlShape::item_names`]), and lists of scalars use the
//! `http://schemas.microsoft.com/2003/10/Serialization/Arrays` namespace (`d2p1:string`).

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use evo_billing_core::dto::ErrorResponse;
use serde_json::Value;

use super::error::ApiError;

/// A response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Jsv,
    Xml,
    Csv,
}

impl Format {
    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Jsv => "text/jsv; charset=utf-8",
            Format::Xml => "application/xml; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    /// `json`, `jsv`, `xml` or `csv`, in any case (surrounding whitespace ignored).
    pub fn from_name(s: &str) -> Option<Format> {
        let s = s.trim();
        [
            ("json", Format::Json),
            ("jsv", Format::Jsv),
            ("xml", Format::Xml),
            ("csv", Format::Csv),
        ]
        .into_iter()
        .find(|(name, _)| s.eq_ignore_ascii_case(name))
        .map(|(_, format)| format)
    }
}

/// The `Content-Type` of a JSONP response.
pub const JSONP_CONTENT_TYPE: &str = "text/javascript; charset=utf-8";

/// Strips a format suffix from the last path segment: `/billing.csv` → `("/billing", Csv)`,
/// `/billing/usage.jsv` → `("/billing/usage", Jsv)`.
///
/// `None` when the last segment has no known suffix, when nothing precedes the dot, and for
/// `…/download.csv` (a report download names its file type, not a response format).
pub fn strip_format_suffix(path: &str) -> Option<(String, Format)> {
    let segment_start = path.rfind('/').map_or(0, |i| i + 1);
    let segment = &path[segment_start..];
    let dot = segment.rfind('.')?;
    let (stem, ext) = (&segment[..dot], &segment[dot + 1..]);
    if stem.is_empty() || stem.eq_ignore_ascii_case("download") {
        return None;
    }
    let format = Format::from_name(ext)?;
    Some((path[..segment_start + dot].to_owned(), format))
}

/// Whether `cb` is a safe JSONP callback name: `^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$`.
fn valid_callback(cb: &str) -> bool {
    let bytes = cb.as_bytes();
    match bytes.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_' || *first == b'$')
                && rest.len() <= 63
                && rest
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.'))
        }
        None => false,
    }
}

/// The format an `Accept` header asks for, JSON when it names none we serve.
///
/// The acceptable media range with the highest q wins; at equal q a specific type beats a
/// wildcard, then the earlier one wins. `q=0` excludes a type. `text/html` (what a browser asks
/// for first) counts as JSON, so a browser gets JSON rather than the XML it accepts at q=0.9.
fn from_accept(accept: &str) -> Format {
    let mut best: Option<(f32, u8, Format)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for param in parts {
            if let Some((key, value)) = param.split_once('=') {
                if key.trim().eq_ignore_ascii_case("q") {
                    q = value
                        .trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| q.is_finite())
                        .map_or(1.0, |q| q.clamp(0.0, 1.0));
                }
            }
        }
        if q <= 0.0 {
            continue;
        }
        let (format, specificity) = match media.as_str() {
            "application/json" | "text/json" => (Format::Json, 3),
            "text/jsv" | "application/jsv" => (Format::Jsv, 3),
            "application/xml" | "text/xml" => (Format::Xml, 3),
            "text/csv" => (Format::Csv, 3),
            m if m.ends_with("+json") => (Format::Json, 3),
            "text/html" | "application/xhtml+xml" => (Format::Json, 2),
            "application/*" => (Format::Json, 1),
            "*/*" => (Format::Json, 0),
            _ => continue,
        };
        let better = match best {
            None => true,
            Some((best_q, best_spec, _)) => q > best_q || (q == best_q && specificity > best_spec),
        };
        if better {
            best = Some((q, specificity, format));
        }
    }
    best.map_or(Format::Json, |(_, _, format)| format)
}

/// The outcome of content negotiation for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub format: Format,
    /// A validated JSONP callback; when set the format is JSON.
    pub callback: Option<String>,
}

impl Default for Negotiated {
    fn default() -> Negotiated {
        Negotiated {
            format: Format::Json,
            callback: None,
        }
    }
}

impl Negotiated {
    /// Precedence: `?callback=` (JSONP, forces JSON inside `cb(...)`), then `?format=`, then a
    /// suffix format already stripped from the path (`suffix`), then the `Accept` header
    /// (`*/*` or missing → JSON). An unknown `?format=` value gives JSON; an empty one counts as
    /// absent. Query keys are case-insensitive. A callback that is not
    /// `^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$` is ignored (no script injection through JSONP).
    pub fn new(query: Option<&str>, suffix: Option<Format>, accept: Option<&str>) -> Negotiated {
        let mut callback: Option<String> = None;
        let mut format_param: Option<String> = None;
        if let Some(query) = query {
            for (key, value) in form_urlencoded::parse(query.as_bytes()) {
                if value.is_empty() {
                    continue;
                }
                if key.eq_ignore_ascii_case("callback") {
                    if callback.is_none() && valid_callback(&value) {
                        callback = Some(value.into_owned());
                    }
                } else if key.eq_ignore_ascii_case("format") && format_param.is_none() {
                    format_param = Some(value.into_owned());
                }
            }
        }
        if callback.is_some() {
            return Negotiated {
                format: Format::Json,
                callback,
            };
        }
        let format = if let Some(name) = format_param {
            Format::from_name(&name).unwrap_or(Format::Json)
        } else if let Some(format) = suffix {
            format
        } else {
            accept.map_or(Format::Json, from_accept)
        };
        Negotiated {
            format,
            callback: None,
        }
    }

    /// A success response: `value` rendered in the negotiated format with `status`.
    /// JSONP: `cb(<json>)` as `text/javascript`, status 200.
    pub fn ok(&self, status: StatusCode, value: &Value, shape: &XmlShape) -> Response {
        if let Some(cb) = &self.callback {
            return respond(StatusCode::OK, JSONP_CONTENT_TYPE, jsonp(cb, value));
        }
        if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = status;
            return response;
        }
        respond(
            status,
            self.format.content_type(),
            render(self.format, value, shape),
        )
    }

    /// A success response in plain JSON (no callback), from the answer's JSON text: what
    /// [`Negotiated::ok`] writes for JSON, without a `Value` in between.
    pub fn ok_json(&self, status: StatusCode, json: String) -> Response {
        if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = status;
            return response;
        }
        respond(status, Format::Json.content_type(), json)
    }

    /// An error response: `{responseStatus: …}` from [`ApiError::response_status`] with
    /// [`ApiError::status`]. JSONP errors are status 200 with the body inside the callback (as
    /// ServiceStack does, so a script tag can read them). XML root `ErrorResponse`; CSV is the
    /// responseStatus as one row.
    pub fn error(&self, err: &ApiError) -> Response {
        let body = ErrorResponse {
            response_status: err.response_status(),
        };
        let value = serde_json::to_value(&body).unwrap_or(Value::Null);
        if let Some(cb) = &self.callback {
            return respond(StatusCode::OK, JSONP_CONTENT_TYPE, jsonp(cb, &value));
        }
        let text = match self.format {
            Format::Csv => {
                let status = value.get("responseStatus").unwrap_or(&Value::Null);
                evo_billing_core::csv::value_to_csv(status)
            }
            format => render(format, &value, error_shape()),
        };
        respond(err.status(), self.format.content_type(), text)
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `cb(<json>)`. U+2028/U+2029 are valid in JSON strings but were line terminators in older
/// JavaScript, so they are escaped.
fn jsonp(cb: &str, value: &Value) -> String {
    let json = serde_json::to_string(value)
        .unwrap_or_default()
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    format!("{cb}({json})")
}

/// `value` as text in `format` (JSONP aside).
pub fn render(format: Format, value: &Value, shape: &XmlShape) -> String {
    match format {
        Format::Json => serde_json::to_string(value).unwrap_or_default(),
        Format::Jsv => evo_billing_core::jsv::value_to_jsv(value),
        Format::Csv => {
            let csv = evo_billing_core::csv::value_to_csv(value);
            // An empty list still gets its header row (a spreadsheet shows the columns).
            if csv.trim().is_empty() && !shape.csv_header.is_empty() {
                format!("{}\r\n", shape.csv_header)
            } else {
                csv
            }
        }
        Format::Xml => to_xml(value, shape),
    }
}

// ---------------------------------------------------------------------------------------------
// XML
// ---------------------------------------------------------------------------------------------

/// Names for XML (DataContract style).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlShape {
    /// The root element, e.g. `BillingInfo` or `ArrayOfUsageRecordInfo`.
    pub root: &'static str,
    /// Appended to `http://schemas.datacontract.org/2004/07/`, e.g. `Voice.Api.Billing`.
    pub namespace: &'static str,
    /// Item element names by the camelCase name of the list member (`("customers",
    /// "BillingCustomerInfo")`); the key `""` names the items of a top-level list. Lists not
    /// named here use `item`.
    pub item_names: &'static [(&'static str, &'static str)],
    /// The CSV header row written when the answer's list is empty (`""`: none).
    pub csv_header: &'static str,
}

const DATACONTRACT_NS: &str = "http://schemas.datacontract.org/2004/07/";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const ARRAYS_NS: &str = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";

/// Item elements of the error body's `errors` list.
const ERROR_ITEMS: &[(&str, &str)] = &[("errors", "ResponseError")];

pub const BILLING_INFO: XmlShape = XmlShape {
    root: "BillingInfo",
    namespace: "Voice.Api.Billing",
    item_names: &[("customers", "BillingCustomerInfo")],
    csv_header: "CustomerId,InternationalCosts,HasCallRecording",
};

pub const USAGE_RECORDS: XmlShape = XmlShape {
    root: "ArrayOfUsageRecordInfo",
    namespace: "Voice.Api.Dashboard",
    item_names: &[("", "UsageRecordInfo")],
    csv_header: "AccountSid,Category,Count,CountUnit,Description,EndDate,Price,PriceUnit,StartDate,Usage,UsageUnit,Uri",
};

pub const REPORT_INFO: XmlShape = XmlShape {
    root: "ReportInfo",
    namespace: "Voice.Api.Reports",
    item_names: &[],
    csv_header: "",
};

pub const REPORT_LIST: XmlShape = XmlShape {
    root: "ArrayOfReportInfo",
    namespace: "Voice.Api.Reports",
    item_names: &[("", "ReportInfo")],
    csv_header: "Id,Name,Status,StatusMessage,DateCreated,DateUpdated,DownloadLink,JobId,EmailAddressToNotify,Server",
};

pub const AUTH_RESPONSE: XmlShape = XmlShape {
    root: "AuthenticateResponse",
    namespace: "ServiceStack",
    item_names: ERROR_ITEMS,
    csv_header: "",
};

pub const USER_INFO: XmlShape = XmlShape {
    root: "UserInfo",
    namespace: "Voice.Api.Billing",
    item_names: &[],
    csv_header: "",
};

pub const BILLABLE_RESULTS: XmlShape = XmlShape {
    root: "ArrayOfNewBillableResult",
    namespace: "Voice.Api.Billing",
    item_names: &[("", "NewBillableResult"), ("errors", "ResponseError")],
    csv_header: "CallSid,Duplicate,ResponseStatus",
};

pub const BILLING_SERIES: XmlShape = XmlShape {
    root: "BillingSeries",
    namespace: "Voice.Api.Billing",
    item_names: &[("periods", "BillingPeriod")],
    csv_header: "",
};

pub const ACCOUNT_LIST: XmlShape = XmlShape {
    root: "AccountList",
    namespace: "Voice.Api.Accounts",
    item_names: &[("items", "AccountInfo")],
    csv_header: "",
};

pub const ACCOUNT_INFO: XmlShape = XmlShape {
    root: "AccountInfo",
    namespace: "Voice.Api.Accounts",
    item_names: &[],
    csv_header: "",
};

pub const API_KEY_LIST: XmlShape = XmlShape {
    root: "ApiKeyList",
    namespace: "Voice.Api.Auth",
    item_names: &[("items", "ApiKeyInfo")],
    csv_header: "",
};

pub const CREATED_API_KEY: XmlShape = XmlShape {
    root: "CreatedApiKey",
    namespace: "Voice.Api.Auth",
    item_names: &[],
    csv_header: "",
};

pub const CUSTOMER_LIST: XmlShape = XmlShape {
    root: "CustomerList",
    namespace: "Voice.Api.Customers",
    item_names: &[("items", "CustomerInfo")],
    csv_header: "",
};

pub const CUSTOMER_INFO: XmlShape = XmlShape {
    root: "CustomerInfo",
    namespace: "Voice.Api.Customers",
    item_names: &[],
    csv_header: "",
};

const ERROR_SHAPE: XmlShape = XmlShape {
    root: "ErrorResponse",
    namespace: "Voice.Api.Billing",
    item_names: ERROR_ITEMS,
    csv_header: "",
};

/// The shape of ServiceStack's `ErrorResponse`.
pub fn error_shape() -> &'static XmlShape {
    &ERROR_SHAPE
}

/// Values nested deeper than this are written as escaped JSON text (server-built values never
/// come close; this only keeps the recursion bounded).
const MAX_XML_DEPTH: usize = 64;

/// `value` as DataContract-style XML (see the module docs).
pub fn to_xml(value: &Value, shape: &XmlShape) -> String {
    let root = xml_name(shape.root);
    let mut out = String::new();
    out.push('<');
    out.push_str(&root);
    out.push_str(" xmlns:i=\"");
    out.push_str(XSI_NS);
    out.push_str("\" xmlns=\"");
    push_escaped(&mut out, &format!("{DATACONTRACT_NS}{}", shape.namespace));
    out.push('"');
    if let Value::Array(items) = value {
        if needs_arrays_ns(items) {
            push_arrays_ns(&mut out);
        }
    }
    match value {
        Value::Null => {
            out.push_str(" i:nil=\"true\" />");
            return out;
        }
        Value::Array(items) if items.is_empty() => {
            out.push_str(" />");
            return out;
        }
        Value::Object(map) if map.values().all(Value::is_null) => {
            out.push_str(" />");
            return out;
        }
        _ => out.push('>'),
    }
    write_content(&mut out, value, "", shape, 0);
    out.push_str("</");
    out.push_str(&root);
    out.push('>');
    out
}

/// Writes the inside of an element holding `value`; `member` is the camelCase name of the
/// member holding it (`""` at the top), used to name list items.
fn write_content(out: &mut String, value: &Value, member: &str, shape: &XmlShape, depth: usize) {
    if depth > MAX_XML_DEPTH && (value.is_array() || value.is_object()) {
        push_escaped(out, &serde_json::to_string(value).unwrap_or_default());
        return;
    }
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => push_escaped(out, s),
        Value::Object(map) => {
            let mut members: Vec<(String, &String, &Value)> = map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (xml_name(&pascal_case(k)), k, v))
                .collect();
            members.sort_by(|a, b| a.0.cmp(&b.0));
            for (name, key, member_value) in members {
                write_element(out, &name, member_value, key, shape, depth + 1);
            }
        }
        Value::Array(items) => {
            let item_name = shape
                .item_names
                .iter()
                .find(|(key, _)| *key == member)
                .map_or_else(|| "item".to_owned(), |(_, name)| xml_name(name));
            for item in items {
                match item {
                    Value::String(_) => write_scalar_item(out, "string", item),
                    Value::Bool(_) => write_scalar_item(out, "boolean", item),
                    Value::Number(n) if n.is_f64() => write_scalar_item(out, "decimal", item),
                    Value::Number(_) => write_scalar_item(out, "long", item),
                    // Items of a list of lists inherit the list's item names.
                    _ => write_element(out, &item_name, item, member, shape, depth + 1),
                }
            }
        }
    }
}

/// `<name>…</name>`, `<name />` when empty, `<name i:nil="true" />` for null.
fn write_element(
    out: &mut String,
    name: &str,
    value: &Value,
    member: &str,
    shape: &XmlShape,
    depth: usize,
) {
    out.push('<');
    out.push_str(name);
    match value {
        Value::Null => {
            out.push_str(" i:nil=\"true\" />");
            return;
        }
        Value::Array(items) => {
            if needs_arrays_ns(items) {
                push_arrays_ns(out);
            }
            if items.is_empty() {
                out.push_str(" />");
                return;
            }
        }
        Value::Object(map) if map.values().all(Value::is_null) => {
            out.push_str(" />");
            return;
        }
        _ => {}
    }
    out.push('>');
    write_content(out, value, member, shape, depth);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// `<d2p1:string>text</d2p1:string>` (the `d2p1` prefix is declared on the list element).
fn write_scalar_item(out: &mut String, type_name: &str, value: &Value) {
    out.push_str("<d2p1:");
    out.push_str(type_name);
    out.push('>');
    write_content(out, value, "", &ERROR_SHAPE, 0);
    out.push_str("</d2p1:");
    out.push_str(type_name);
    out.push('>');
}

fn needs_arrays_ns(items: &[Value]) -> bool {
    items
        .iter()
        .any(|v| matches!(v, Value::String(_) | Value::Bool(_) | Value::Number(_)))
}

fn push_arrays_ns(out: &mut String) {
    out.push_str(" xmlns:d2p1=\"");
    out.push_str(ARRAYS_NS);
    out.push('"');
}

/// `customerId` → `CustomerId`.
fn pascal_case(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Makes `name` a valid XML element name: characters outside ASCII letters, digits, `_`, `-`
/// and `.` (and non-ASCII letters) become `_`, and a name that cannot start an element gets a
/// leading `_`. DTO member names pass through unchanged.
fn xml_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') || c.is_alphabetic() {
                c
            } else {
                '_'
            }
        })
        .collect();
    let starts_ok = out
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    if !starts_ok {
        out.insert(0, '_');
    }
    out
}

/// Whether XML 1.0 allows `c` at all (`#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
/// [#x10000-#x10FFFF]`; Rust chars are never surrogates).
fn xml_char_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Escapes text for element content or a quoted attribute, dropping characters XML 1.0
/// forbids. CR is written `&#xD;` so parsers do not normalise it away.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c if xml_char_allowed(c) => out.push(c),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evo_billing_core::dto::GetBilling;
    use evo_billing_core::validation::Validate;
    use serde_json::json;

    fn billing_value() -> Value {
        json!({"customers":[{"customerId":"c1","internationalCosts":1.5,"hasCallRecording":true}]})
    }

    fn body_text(response: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = rt
            .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn content_type(response: &Response) -> &str {
        response
            .headers()
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
    }

    /// A tiny well-formedness checker: tags balance, names are sane, attributes are quoted,
    /// only the five predefined entities and character references appear, and no forbidden
    /// character does.
    fn assert_well_formed(xml: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = xml;
        let mut roots = 0;
        let check_text = |text: &str| {
            let mut t = text;
            while let Some(i) = t.find('&') {
                let end = t[i..].find(';').expect("unterminated entity") + i;
                let entity = &t[i + 1..end];
                assert!(
                    matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
                        || entity.starts_with("#x")
                        || entity.starts_with('#'),
                    "bad entity {entity}"
                );
                t = &t[end + 1..];
            }
            assert!(
                text.chars().all(xml_char_allowed),
                "forbidden char in {text:?}"
            );
        };
        while !rest.is_empty() {
            let lt = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..lt];
            if stack.is_empty() {
                assert!(text.trim().is_empty(), "text outside the root: {text:?}");
            }
            check_text(text);
            if lt == rest.len() {
                break;
            }
            let gt = rest[lt..].find('>').expect("unclosed tag") + lt;
            let tag = &rest[lt + 1..gt];
            assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().expect("closing tag without opening");
                assert_eq!(open, name.trim(), "mismatched tags");
            } else {
                let self_closing = tag.ends_with('/');
                let inner = tag.trim_end_matches('/');
                let name = inner.split_whitespace().next().expect("empty tag");
                assert!(
                    name.chars().next().unwrap().is_alphabetic() || name.starts_with('_'),
                    "bad name {name}"
                );
                // Attributes: name="value" pairs.
                let attrs = inner[name.len()..].trim();
                let mut a = attrs;
                while !a.is_empty() {
                    let eq = a.find('=').expect("attribute without =");
                    assert!(a[eq + 1..].starts_with('"'), "unquoted attribute");
                    let close = a[eq + 2..].find('"').expect("unterminated attribute") + eq + 2;
                    check_text(&a[eq + 2..close]);
                    a = a[close + 1..].trim_start();
                }
                if stack.is_empty() {
                    roots += 1;
                }
                if !self_closing {
                    stack.push(name.to_owned());
                }
            }
            rest = &rest[gt + 1..];
        }
        assert!(stack.is_empty(), "unclosed elements {stack:?}");
        assert_eq!(roots, 1, "exactly one root");
    }

    #[test]
    fn format_names_and_content_types() {
        assert_eq!(Format::from_name("JSV"), Some(Format::Jsv));
        assert_eq!(Format::from_name("Xml"), Some(Format::Xml));
        assert_eq!(Format::from_name("csv"), Some(Format::Csv));
        assert_eq!(Format::from_name("json"), Some(Format::Json));
        assert_eq!(Format::from_name("html"), None);
        assert_eq!(Format::Csv.content_type(), "text/csv; charset=utf-8");
        assert_eq!(Format::Jsv.content_type(), "text/jsv; charset=utf-8");
    }

    #[test]
    fn suffix_stripping() {
        assert_eq!(
            strip_format_suffix("/billing.csv"),
            Some(("/billing".into(), Format::Csv))
        );
        assert_eq!(
            strip_format_suffix("/billing/usage.jsv"),
            Some(("/billing/usage".into(), Format::Jsv))
        );
        assert_eq!(
            strip_format_suffix("/reports/billing.XML"),
            Some(("/reports/billing".into(), Format::Xml))
        );
        assert_eq!(
            strip_format_suffix("/api/GetBilling.json"),
            Some(("/api/GetBilling".into(), Format::Json))
        );
        assert_eq!(strip_format_suffix("/reports/r1/download.csv"), None);
        assert_eq!(strip_format_suffix("/reports/r1/Download.CSV"), None);
        assert_eq!(strip_format_suffix("/billing"), None);
        assert_eq!(strip_format_suffix("/billing.xlsx"), None);
        assert_eq!(strip_format_suffix("/v1.2/billing"), None);
        assert_eq!(strip_format_suffix("/.csv"), None);
        assert_eq!(strip_format_suffix(""), None);
        assert_eq!(
            strip_format_suffix("billing.csv"),
            Some(("billing".into(), Format::Csv))
        );
    }

    #[test]
    fn negotiation_precedence() {
        let n = |q: Option<&str>, s: Option<Format>, a: Option<&str>| Negotiated::new(q, s, a);
        // Defaults.
        assert_eq!(n(None, None, None), Negotiated::default());
        assert_eq!(n(None, None, Some("*/*")).format, Format::Json);
        // Accept alone.
        assert_eq!(n(None, None, Some("application/xml")).format, Format::Xml);
        assert_eq!(n(None, None, Some("text/xml")).format, Format::Xml);
        assert_eq!(n(None, None, Some("text/jsv")).format, Format::Jsv);
        assert_eq!(n(None, None, Some("application/jsv")).format, Format::Jsv);
        assert_eq!(n(None, None, Some("text/csv")).format, Format::Csv);
        assert_eq!(n(None, None, Some("image/png")).format, Format::Json);
        // Suffix beats Accept.
        assert_eq!(
            n(None, Some(Format::Csv), Some("application/xml")).format,
            Format::Csv
        );
        // ?format beats suffix, any case, keys too.
        assert_eq!(
            n(
                Some("FORMAT=Jsv"),
                Some(Format::Csv),
                Some("application/xml")
            )
            .format,
            Format::Jsv
        );
        // Unknown ?format gives JSON; an empty one is absent.
        assert_eq!(
            n(Some("format=html"), Some(Format::Csv), None).format,
            Format::Json
        );
        assert_eq!(
            n(Some("format="), Some(Format::Csv), None).format,
            Format::Csv
        );
        // Callback beats everything and forces JSON.
        let jsonp = n(
            Some("format=xml&callback=cb"),
            Some(Format::Csv),
            Some("text/csv"),
        );
        assert_eq!(jsonp.format, Format::Json);
        assert_eq!(jsonp.callback.as_deref(), Some("cb"));
        assert_eq!(
            n(Some("Callback=my.ns.$cb_1"), None, None)
                .callback
                .as_deref(),
            Some("my.ns.$cb_1")
        );
        // Invalid callbacks are ignored; the rest of the negotiation still applies.
        let bad = n(Some("callback=alert(1)//&format=xml"), None, None);
        assert_eq!(bad.callback, None);
        assert_eq!(bad.format, Format::Xml);
        for cb in ["1cb", "a b", "cb;", "", "<script>", &"a".repeat(65)] {
            let query = format!("callback={cb}");
            assert_eq!(n(Some(&query), None, None).callback, None, "{cb}");
        }
        assert!(n(Some(&format!("callback={}", "a".repeat(64))), None, None)
            .callback
            .is_some());
    }

    #[test]
    fn accept_q_values() {
        let f = |a: &str| Negotiated::new(None, None, Some(a)).format;
        assert_eq!(f("application/xml;q=0.5, text/csv;q=0.8"), Format::Csv);
        assert_eq!(f("text/csv;q=0.1, application/json"), Format::Json);
        assert_eq!(f("application/xml, */*"), Format::Xml);
        assert_eq!(f("*/*;q=0.9, text/jsv;q=0.8"), Format::Json);
        assert_eq!(f("text/jsv;q=0, */*;q=0.1"), Format::Json);
        assert_eq!(f("text/csv;q=0"), Format::Json);
        assert_eq!(f("application/xml ; Q=1, text/csv ; q=0.9"), Format::Xml);
        assert_eq!(f("application/json; charset=utf-8"), Format::Json);
        assert_eq!(f("garbage;;;,=,q=2"), Format::Json);
        assert_eq!(f("text/csv;q=nonsense"), Format::Csv);
        // What browsers send: JSON, not the XML they accept at q=0.9.
        assert_eq!(
            f("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Format::Json
        );
    }

    #[test]
    fn json_output() {
        let r = Negotiated::default().ok(StatusCode::OK, &billing_value(), &BILLING_INFO);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(content_type(&r), "application/json; charset=utf-8");
        assert_eq!(
            body_text(r),
            r#"{"customers":[{"customerId":"c1","internationalCosts":1.5,"hasCallRecording":true}]}"#
        );
    }

    #[test]
    fn jsv_output() {
        let neg = Negotiated::new(Some("format=jsv"), None, None);
        let r = neg.ok(StatusCode::OK, &billing_value(), &BILLING_INFO);
        assert_eq!(content_type(&r), "text/jsv; charset=utf-8");
        assert_eq!(
            body_text(r),
            "{customers:[{customerId:c1,internationalCosts:1.5,hasCallRecording:True}]}"
        );
    }

    #[test]
    fn csv_output() {
        let neg = Negotiated::new(None, Some(Format::Csv), None);
        let r = neg.ok(StatusCode::OK, &billing_value(), &BILLING_INFO);
        assert_eq!(content_type(&r), "text/csv; charset=utf-8");
        assert_eq!(
            body_text(r),
            "CustomerId,InternationalCosts,HasCallRecording\r\nc1,1.5,True\r\n"
        );
    }

    #[test]
    fn xml_output_follows_the_seed() {
        let neg = Negotiated::new(None, None, Some("application/xml"));
        let r = neg.ok(StatusCode::OK, &billing_value(), &BILLING_INFO);
        assert_eq!(content_type(&r), "application/xml; charset=utf-8");
        let xml = body_text(r);
        assert_eq!(
            xml,
            concat!(
                r#"<BillingInfo xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Voice.Api.Billing">"#,
                "<Customers><BillingCustomerInfo><CustomerId>c1</CustomerId>",
                "<HasCallRecording>true</HasCallRecording>",
                "<InternationalCosts>1.5</InternationalCosts>",
                "</BillingCustomerInfo></Customers></BillingInfo>"
            )
        );
        assert_well_formed(&xml);

        // The seed sample itself.
        let seed = json!({"customers":[{"customerId":"c1","internationalCosts":0,"hasCallRecording":false}]});
        assert_eq!(
            to_xml(&seed, &BILLING_INFO),
            r#"<BillingInfo xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Voice.Api.Billing"><Customers><BillingCustomerInfo><CustomerId>c1</CustomerId><HasCallRecording>false</HasCallRecording><InternationalCosts>0</InternationalCosts></BillingCustomerInfo></Customers></BillingInfo>"#
        );
        assert_eq!(
            to_xml(&json!({"customers": []}), &BILLING_INFO),
            r#"<BillingInfo xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Voice.Api.Billing"><Customers /></BillingInfo>"#
        );
    }

    #[test]
    fn xml_top_level_lists_nulls_and_string_arrays() {
        let records = json!([
            {"accountSid":"AC1","category":"calls","count":3,"price":0.25,"usage":"12","uri":null},
            {"accountSid":"AC1","category":"sms","count":0,"price":0}
        ]);
        let xml = to_xml(&records, &USAGE_RECORDS);
        assert_eq!(
            xml,
            concat!(
                r#"<ArrayOfUsageRecordInfo xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Voice.Api.Dashboard">"#,
                "<UsageRecordInfo><AccountSid>AC1</AccountSid><Category>calls</Category><Count>3</Count><Price>0.25</Price><Usage>12</Usage></UsageRecordInfo>",
                "<UsageRecordInfo><AccountSid>AC1</AccountSid><Category>sms</Category><Count>0</Count><Price>0</Price></UsageRecordInfo>",
                "</ArrayOfUsageRecordInfo>"
            )
        );
        assert_well_formed(&xml);
        assert_eq!(
            to_xml(&json!([]), &USAGE_RECORDS),
            r#"<ArrayOfUsageRecordInfo xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Voice.Api.Dashboard" />"#
        );

        let user = json!({"id":"u1","isAuthenticated":true,"roles":["Manager","Customer"],"accountIds":[]});
        let xml = to_xml(&user, &USER_INFO);
        assert_eq!(
            xml,
            concat!(
                r#"<UserInfo xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Voice.Api.Billing">"#,
                "<AccountIds /><Id>u1</Id><IsAuthenticated>true</IsAuthenticated>",
                r#"<Roles xmlns:d2p1="http://schemas.microsoft.com/2003/10/Serialization/Arrays"><d2p1:string>Manager</d2p1:string><d2p1:string>Customer</d2p1:string></Roles>"#,
                "</UserInfo>"
            )
        );
        assert_well_formed(&xml);

        // Nested objects, lists of lists, nulls in lists, odd keys: still well-formed.
        let odd =
            json!({"a b":{"x":[1,2.5,true,null,"s"]},"1st":[[{"k":"v"}],[]],"":"e","empty":{}});
        let xml = to_xml(&odd, &REPORT_INFO);
        assert_well_formed(&xml);
        assert!(xml.contains("<A_b><X xmlns:d2p1="), "{xml}");
        assert!(xml.contains("<d2p1:long>1</d2p1:long><d2p1:decimal>2.5</d2p1:decimal><d2p1:boolean>true</d2p1:boolean><item i:nil=\"true\" />"), "{xml}");
        assert_well_formed(&to_xml(&json!(null), &REPORT_INFO));
        assert_well_formed(&to_xml(&json!("top"), &REPORT_INFO));
        assert_well_formed(&to_xml(&json!({"status":"Queued"}), &REPORT_INFO));
    }

    #[test]
    fn xml_escaping() {
        let value = json!({"customers":[{"customerId":"<&>\"'\u{0}\u{1}\u{8}\u{b}\u{1f}\tok\r\n\u{FFFE}é😀"}]});
        let xml = to_xml(&value, &BILLING_INFO);
        assert!(
            xml.contains("<CustomerId>&lt;&amp;&gt;&quot;&apos;\tok&#xD;\né😀</CustomerId>"),
            "{xml}"
        );
        assert_well_formed(&xml);
        // Deep values stay bounded and well-formed.
        let mut deep = json!("x");
        for _ in 0..200 {
            deep = json!({ "a": [deep] });
        }
        assert_well_formed(&to_xml(&deep, &REPORT_INFO));
    }

    #[test]
    fn jsonp_wrapping() {
        let neg = Negotiated::new(Some("callback=cb"), None, Some("application/xml"));
        let r = neg.ok(StatusCode::CREATED, &billing_value(), &BILLING_INFO);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(content_type(&r), "text/javascript; charset=utf-8");
        assert_eq!(
            body_text(r),
            r#"cb({"customers":[{"customerId":"c1","internationalCosts":1.5,"hasCallRecording":true}]})"#
        );
        let neg = Negotiated::new(Some("callback=alert(1)//"), None, None);
        let r = neg.ok(StatusCode::OK, &billing_value(), &BILLING_INFO);
        assert_eq!(content_type(&r), "application/json; charset=utf-8");
        assert!(body_text(r).starts_with("{\"customers\""));
        // Line separators cannot break out of the JavaScript.
        let neg = Negotiated::new(Some("callback=cb"), None, None);
        let r = neg.ok(StatusCode::OK, &json!({"a": "x\u{2028}y"}), &REPORT_INFO);
        assert_eq!(body_text(r), r#"cb({"a":"x\u2028y"})"#);
    }

    fn validation_error() -> ApiError {
        ApiError::Validation(GetBilling::default().validate().unwrap_err())
    }

    #[test]
    fn error_json() {
        let r = Negotiated::default().error(&validation_error());
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(content_type(&r), "application/json; charset=utf-8");
        let body: Value = serde_json::from_str(&body_text(r)).unwrap();
        let status = &body["responseStatus"];
        assert_eq!(status["errorCode"], "NotEmpty");
        assert_eq!(status["message"], "'Account Id' must not be empty.");
        assert_eq!(status["errors"][0]["fieldName"], "AccountId");
        assert_eq!(status["errors"][0]["errorCode"], "NotEmpty");
        assert!(status["errors"].as_array().unwrap().len() >= 3);

        let r = Negotiated::default().error(&ApiError::NotFound("No such report.".into()));
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            body_text(r),
            r#"{"responseStatus":{"errorCode":"NotFound","message":"No such report.","errors":[]}}"#
        );
        // Internal details never leak.
        let r = Negotiated::default().error(&ApiError::internal("SELECT * FROM secrets"));
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body_text(r).contains("SELECT"));
    }

    #[test]
    fn error_xml() {
        let neg = Negotiated::new(Some("format=xml"), None, None);
        let r = neg.error(&validation_error());
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(content_type(&r), "application/xml; charset=utf-8");
        let xml = body_text(r);
        assert!(xml.starts_with(
            r#"<ErrorResponse xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Voice.Api.Billing"><ResponseStatus><ErrorCode>NotEmpty</ErrorCode><Errors><ResponseError><ErrorCode>NotEmpty</ErrorCode><FieldName>AccountId</FieldName><Message>&apos;Account Id&apos; must not be empty.</Message></ResponseError>"#
        ), "{xml}");
        assert!(xml.ends_with(
            "</Errors><Message>&apos;Account Id&apos; must not be empty.</Message></ResponseStatus></ErrorResponse>"
        ), "{xml}");
        assert_well_formed(&xml);
    }

    #[test]
    fn error_jsv_csv_and_jsonp() {
        let err = ApiError::Forbidden("Not your account.".into());
        let r = Negotiated::new(Some("format=jsv"), None, None).error(&err);
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            body_text(r),
            "{responseStatus:{errorCode:Forbidden,message:Not your account.,errors:[]}}"
        );
        let r = Negotiated::new(None, Some(Format::Csv), None).error(&err);
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(content_type(&r), "text/csv; charset=utf-8");
        assert_eq!(
            body_text(r),
            "ErrorCode,Message,Errors\r\nForbidden,Not your account.,[]\r\n"
        );
        let r = Negotiated::new(Some("callback=handle"), None, None).error(&err);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(content_type(&r), "text/javascript; charset=utf-8");
        assert_eq!(
            body_text(r),
            r#"handle({"responseStatus":{"errorCode":"Forbidden","message":"Not your account.","errors":[]}})"#
        );
    }

    #[test]
    fn no_content_has_no_body() {
        let r = Negotiated::default().ok(StatusCode::NO_CONTENT, &Value::Null, &BILLING_INFO);
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(body_text(r), "");
    }
}
