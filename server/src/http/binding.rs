//! ServiceStack-style request binding: a request DTO from the query string and the body.
//!
//! * Sources: the query string, then the body (JSON object, JSV object, or
//!   `application/x-www-form-urlencoded`), then the route's path parameters; a later source
//!   overrides an earlier one.
//! * Property names match case-insensitively (`AccountId`, `accountId`, `accountid`); unknown
//!   keys are ignored. Enum values match their variant names case-insensitively too
//!   (`granularity=Daily`).
//! * A member whose value is empty text (`?customerId=`, `customerId=` in a form, `""` in JSON
//!   or JSV) or JSON `null` counts as absent, so the field keeps its default.
//! * Values are read leniently, as ServiceStack does: everything is turned into JSV's untyped
//!   text ([`JsvValue`]) and decoded with core's lenient deserializer (`"1"`, `1`, `true`,
//!   `True` are all a boolean; a JSON number is fine for a string field).
//!
//! The target's field names are learnt by introspection: a probe [`Deserializer`] records the
//! `fields` serde's derive passes to `deserialize_struct`. A second probe finds which fields are
//! enums and their variant names.
//!
//! Errors are [`ApiError::BadRequest`] (400): `SerializationException` for a body that cannot be
//! read, `InvalidValue` naming the PascalCase field for a value of the wrong type; and
//! [`ApiError::UnsupportedMediaType`] (415) for a body in a format we do not read. Nothing here
//! panics on any input: JSON nesting is capped by serde_json (128), JSV nesting by core (128).

use evo_billing_core::jsv::{self, JsvValue};
use evo_billing_core::validation::display_name;
use serde::de::value::{Error as ProbeError, MapAccessDeserializer, StrDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::error::ApiError;

/// The parts of an HTTP request binding reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawRequest<'a> {
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// The route's path parameters (`/customers/{customerId}`): they win over query and body.
    pub params: &'a [(String, String)],
}

/// Binds a request DTO from the query string and the body; body members override query
/// members (see the module docs for the rules).
pub fn bind<T: DeserializeOwned>(req: &RawRequest) -> Result<T, ApiError> {
    let schema = Schema::of::<T>();
    let mut members = Members::default();
    if let Some(query) = req.query {
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            members.set(&schema, &key, JsvValue::Str(value.into_owned()));
        }
    }
    if let Some(kind) = body_kind(req.content_type, req.body)? {
        match parse_body(kind, req.body)? {
            JsvValue::Map(entries) => {
                for (key, value) in entries {
                    members.set(&schema, &key, value);
                }
            }
            _ => {
                return Err(serialization(format!(
                    "The request body must be a {} object.",
                    kind.name()
                )))
            }
        }
    }
    for (key, value) in req.params {
        members.set(&schema, key, JsvValue::Str(value.clone()));
    }
    members.decode()
}

/// The most requests one batch may hold (`POST /api/NewBillable[]`); more is 413.
pub const MAX_BATCH: usize = 5_000;

/// The most values (scalars, lists and objects) a body may hold: a batch of [`MAX_BATCH`]
/// requests of a dozen members fits many times over; a 4 MiB body of `[1,1,…]` (two million
/// values) is refused before it is built.
pub const MAX_VALUES: usize = 64 * MAX_BATCH;

/// The shape of a JSON text, from one pass over its bytes without building it: the items of
/// its top-level list (0 if it is not a list) and an upper bound of its values (commas outside
/// strings, plus containers, plus one). Exact for valid JSON, whose strings end at the first
/// `"` not escaped by `\`; serde_json rejects whatever else before it has built more.
fn json_shape(body: &[u8]) -> (usize, usize) {
    let mut depth = 0usize;
    let mut in_string = false;
    let (mut commas, mut top_commas, mut containers) = (0usize, 0usize, 0usize);
    let mut top_nonempty = false;
    let mut top_is_list = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                top_nonempty |= depth == 1;
            }
            b'[' | b'{' => {
                if depth == 0 {
                    top_is_list = b == b'[';
                }
                top_nonempty |= depth == 1;
                containers += 1;
                depth += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => {
                commas += 1;
                if depth == 1 {
                    top_commas += 1;
                }
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => top_nonempty |= depth == 1,
        }
    }
    let items = if top_is_list && top_nonempty {
        top_commas + 1
    } else {
        0
    };
    (items, commas + containers + 1)
}

fn too_many_values() -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "The request body holds more than {MAX_VALUES} values."
    ))
}

fn too_many_items() -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "A batch holds at most {MAX_BATCH} requests; send more in several batches."
    ))
}

/// Binds the items of ServiceStack's auto-batched form (`POST /api/NewBillable[]`): the body
/// is a JSON or JSV list of objects, each bound like [`bind`] (the query string is ignored).
/// One bad item does not sink the others: each gets its own result. A body that is not a list
/// is an error.
pub fn bind_list<T: DeserializeOwned>(
    req: &RawRequest,
) -> Result<Vec<Result<T, ApiError>>, ApiError> {
    let kind = body_kind(req.content_type, req.body)?.ok_or_else(|| {
        serialization("The request body must be a list of requests; it is empty.".to_owned())
    })?;
    if kind == BodyKind::Form {
        return Err(ApiError::UnsupportedMediaType(
            "A batch request needs a JSON or JSV list body (application/json or text/jsv)."
                .to_owned(),
        ));
    }
    // Counted before it is built: two million `1,` in 4 MiB must not become two million values.
    if kind == BodyKind::Json && json_shape(req.body).0 > MAX_BATCH {
        return Err(too_many_items());
    }
    let JsvValue::List(items) = parse_body(kind, req.body)? else {
        return Err(serialization(format!(
            "The request body must be a {} list of requests.",
            kind.name()
        )));
    };
    if items.len() > MAX_BATCH {
        return Err(too_many_items());
    }
    let schema = Schema::of::<T>();
    Ok(items
        .into_iter()
        .map(|item| match item {
            JsvValue::Map(entries) => {
                let mut members = Members::default();
                for (key, value) in entries {
                    members.set(&schema, &key, value);
                }
                members.decode()
            }
            _ => Err(serialization(
                "Each item of the list must be an object.".to_owned(),
            )),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    Jsv,
    Form,
}

impl BodyKind {
    fn name(self) -> &'static str {
        match self {
            BodyKind::Json => "JSON",
            BodyKind::Jsv => "JSV",
            BodyKind::Form => "form",
        }
    }
}

fn serialization(message: String) -> ApiError {
    ApiError::BadRequest {
        code: "SerializationException",
        field: None,
        message,
    }
}

/// At most `max` characters of `text` (hostile input must not make huge messages).
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Which reader a body needs; `None` for an empty (or all-whitespace) body.
fn body_kind(content_type: Option<&str>, body: &[u8]) -> Result<Option<BodyKind>, ApiError> {
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    let Some(first) = first else {
        return Ok(None);
    };
    let media = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let kind = match media.as_str() {
        "application/json" | "text/json" => BodyKind::Json,
        m if m.ends_with("+json") => BodyKind::Json,
        "text/jsv" | "application/jsv" => BodyKind::Jsv,
        "application/x-www-form-urlencoded" => BodyKind::Form,
        "" if matches!(first, b'{' | b'[') || body.starts_with(BOM) => BodyKind::Json,
        "" => {
            return Err(ApiError::UnsupportedMediaType(
                "A request body needs a Content-Type: application/json, text/jsv or \
                 application/x-www-form-urlencoded."
                    .to_owned(),
            ))
        }
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type '{}' is not supported; send application/json, text/jsv or \
                 application/x-www-form-urlencoded.",
                shorten(other, 80)
            )))
        }
    };
    Ok(Some(kind))
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a body into JSV's untyped tree (JSON scalars become their text; nulls in objects
/// are dropped, nulls in lists become empty text as JSV writes them).
fn parse_body(kind: BodyKind, body: &[u8]) -> Result<JsvValue, ApiError> {
    let body = body.strip_prefix(BOM).unwrap_or(body);
    match kind {
        BodyKind::Json if json_shape(body).1 > MAX_VALUES => Err(too_many_values()),
        BodyKind::Json => match serde_json::from_slice::<Value>(body) {
            Ok(value) => Ok(json_to_jsv(value)),
            Err(e) => Err(serialization(format!(
                "The request body is not valid JSON: {e}"
            ))),
        },
        BodyKind::Jsv => {
            let text = std::str::from_utf8(body)
                .map_err(|e| serialization(format!("The request body is not valid JSV: {e}")))?;
            jsv::parse_limited(text, MAX_VALUES).map_err(|e| match e {
                jsv::JsvError::TooLarge { .. } => too_many_values(),
                e => serialization(format!("The request body is not valid JSV: {e}")),
            })
        }
        BodyKind::Form => Ok(JsvValue::Map(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), JsvValue::Str(v.into_owned())))
                .collect(),
        )),
    }
}

/// JSON → JSV's text tree. Recursive, which is safe: serde_json refuses input nested deeper
/// than 128 levels.
fn json_to_jsv(value: Value) -> JsvValue {
    match value {
        Value::Null => JsvValue::Str(String::new()),
        Value::Bool(b) => JsvValue::Str(b.to_string()),
        Value::Number(n) => JsvValue::Str(n.to_string()),
        Value::String(s) => JsvValue::Str(s),
        Value::Array(items) => JsvValue::List(items.into_iter().map(json_to_jsv).collect()),
        Value::Object(map) => JsvValue::Map(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, json_to_jsv(v)))
                .collect(),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Members and decoding
// ---------------------------------------------------------------------------------------------

/// The members gathered for one DTO, keyed by the DTO's own field names; later sets win.
#[derive(Default)]
struct Members(Vec<(String, JsvValue)>);

impl Members {
    fn set(&mut self, schema: &Schema, key: &str, value: JsvValue) {
        if matches!(&value, JsvValue::Str(s) if s.is_empty()) {
            return;
        }
        let (key, value) = match schema.fields {
            Some(fields) => {
                let Some(field) = fields.iter().find(|f| f.eq_ignore_ascii_case(key)) else {
                    return;
                };
                (field.to_string(), schema.canonical_value(field, value))
            }
            None => (key.to_owned(), value),
        };
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    fn decode<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        serde_path_to_error::deserialize(JsvValue::Map(self.0)).map_err(decode_error)
    }
}

fn decode_error(err: serde_path_to_error::Error<jsv::JsvError>) -> ApiError {
    let detail = shorten(&err.inner().to_string(), 200);
    let field = err.path().iter().find_map(|segment| match segment {
        serde_path_to_error::Segment::Map { key } => Some(key.clone()),
        _ => None,
    });
    match field {
        Some(key) => {
            let field = pascal_case(&key);
            let message = format!("'{}' has an invalid value: {detail}", display_name(&field));
            ApiError::bad_field("InvalidValue", &field, message)
        }
        None => serialization(format!("The request could not be read: {detail}")),
    }
}

/// `includeCustomerIds` → `IncludeCustomerIds`.
fn pascal_case(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Introspection
// ---------------------------------------------------------------------------------------------

/// What binding knows about a DTO type: its field names (when it is a plain struct) and, for
/// each enum-typed field, the variant names.
struct Schema {
    fields: Option<&'static [&'static str]>,
    enums: Vec<(&'static str, &'static [&'static str])>,
}

impl Schema {
    fn of<T: DeserializeOwned>() -> Schema {
        let mut fields = None;
        let _ = T::deserialize(FieldProbe(&mut fields));
        let enums = fields
            .unwrap_or_default()
            .iter()
            .filter_map(|&field| {
                let mut variants = None;
                let _ = T::deserialize(MapAccessDeserializer::new(OneEntry {
                    key: Some(field),
                    value: Some(EnumProbe(&mut variants)),
                }));
                variants.map(|v| (field, v))
            })
            .collect();
        Schema { fields, enums }
    }

    /// An enum field's text in any case becomes the variant's own spelling.
    fn canonical_value(&self, field: &str, value: JsvValue) -> JsvValue {
        let Some((_, variants)) = self.enums.iter().find(|(f, _)| *f == field) else {
            return value;
        };
        match value {
            JsvValue::Str(text) => {
                let trimmed = text.trim();
                match variants.iter().find(|v| v.eq_ignore_ascii_case(trimmed)) {
                    Some(variant) => JsvValue::Str(variant.to_string()),
                    None => JsvValue::Str(text),
                }
            }
            other => other,
        }
    }
}

fn probed() -> ProbeError {
    de::Error::custom("probe")
}

/// Records the field names a struct's `Deserialize` asks for, then fails.
struct FieldProbe<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = ProbeError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, ProbeError> {
        Err(probed())
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, ProbeError> {
        *self.0 = Some(fields);
        Err(probed())
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Stands in for one field's value: looks through `Option` and newtypes and records the
/// variant names if the field is an enum, then fails.
struct EnumProbe<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for EnumProbe<'_> {
    type Error = ProbeError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, ProbeError> {
        Err(probed())
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, ProbeError> {
        *self.0 = Some(variants);
        Err(probed())
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// A map with one entry: a field name and its probe.
struct OneEntry<'a> {
    key: Option<&'static str>,
    value: Option<EnumProbe<'a>>,
}

impl<'de> MapAccess<'de> for OneEntry<'_> {
    type Error = ProbeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        match self.key.take() {
            Some(key) => seed
                .deserialize(StrDeserializer::<ProbeError>::new(key))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ProbeError> {
        match self.value.take() {
            Some(probe) => seed.deserialize(probe),
            None => Err(probed()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evo_billing_core::date_range::Granularity;
    use evo_billing_core::dto::{
        BillingReport, GetBilling, ListUsageRecords, NewBillable, ReportInfo, ReportStatuses,
    };
    use std::collections::HashMap;

    #[test]
    fn json_shape_counts_without_building() {
        let shape = |t: &str| json_shape(t.as_bytes());
        assert_eq!(shape("[]").0, 0);
        assert_eq!(shape(" [ ] ").0, 0);
        assert_eq!(shape("[1]").0, 1);
        assert_eq!(shape("[1, 2 ,3]").0, 3);
        assert_eq!(shape(r#"[{"a":[1,2,3]},"x,y",[4,5]]"#).0, 3);
        assert_eq!(shape(r#"["a\"b,c", "\\", ","]"#).0, 3);
        assert_eq!(shape(r#"{"a":[1,2]}"#).0, 0);
        // The value bound is never below the truth.
        let v: Value = serde_json::from_str(r#"[{"a":[1,2,3]},"x,y",[4,5],{}]"#).unwrap();
        fn count(v: &Value) -> usize {
            1 + match v {
                Value::Array(a) => a.iter().map(count).sum(),
                Value::Object(o) => o.values().map(count).sum(),
                _ => 0,
            }
        }
        assert!(shape(&v.to_string()).1 >= count(&v));
    }

    fn query(q: &str) -> RawRequest<'_> {
        RawRequest {
            query: Some(q),
            ..Default::default()
        }
    }

    fn body<'a>(content_type: &'a str, body: &'a str) -> RawRequest<'a> {
        RawRequest {
            query: None,
            content_type: Some(content_type),
            body: body.as_bytes(),
            ..Default::default()
        }
    }

    fn code(err: &ApiError) -> (&'static str, Option<&str>) {
        match err {
            ApiError::BadRequest { code, field, .. } => (code, field.as_deref()),
            other => panic!("expected a BadRequest, got {other:?}"),
        }
    }

    fn message(err: &ApiError) -> &str {
        match err {
            ApiError::BadRequest { message, .. } => message,
            other => panic!("expected a BadRequest, got {other:?}"),
        }
    }

    fn s(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn introspection() {
        let schema = Schema::of::<ListUsageRecords>();
        assert_eq!(
            schema.fields,
            Some(&["accountId", "startDate", "endDate", "granularity"][..])
        );
        assert_eq!(schema.enums.len(), 1);
        assert_eq!(schema.enums[0].0, "granularity");
        assert!(schema.enums[0].1.contains(&"daily"));
        let schema = Schema::of::<ReportInfo>();
        assert_eq!(schema.enums[0].0, "status");
        assert!(Schema::of::<NewBillable>().enums.is_empty());
        assert_eq!(Schema::of::<HashMap<String, String>>().fields, None);
    }

    #[test]
    fn query_only() {
        let got: GetBilling = bind(&query(
            "accountId=acc1&startDate=2026-03-01&endDate=2026-03-31%2023%3A59",
        ))
        .unwrap();
        assert_eq!(
            got,
            GetBilling {
                account_id: s("acc1"),
                start_date: s("2026-03-01"),
                end_date: s("2026-03-31 23:59"),
                customer_id: None,
            }
        );
        let none: GetBilling = bind(&RawRequest::default()).unwrap();
        assert_eq!(none, GetBilling::default());
    }

    #[test]
    fn json_body() {
        let req = body(
            "application/json; charset=utf-8",
            r#"{"accountId":"acc1","customerId":"c1","sessionId":null,"callSid":"CA12"}"#,
        );
        let got: NewBillable = bind(&req).unwrap();
        assert_eq!(
            got,
            NewBillable {
                account_id: s("acc1"),
                customer_id: s("c1"),
                session_id: None,
                call_sid: s("CA12"),
            }
        );
        // +json types, a BOM, no Content-Type at all: still JSON.
        let got: NewBillable =
            bind(&body("application/vnd.api+json", r#"{"callSid":"A"}"#)).unwrap();
        assert_eq!(got.call_sid, s("A"));
        let with_bom = b"\xEF\xBB\xBF{\"callSid\":\"B\"}";
        let got: NewBillable = bind(&RawRequest {
            body: with_bom,
            content_type: Some("application/json"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(got.call_sid, s("B"));
        let got: NewBillable = bind(&RawRequest {
            body: br#"  {"callSid":"C"}"#,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(got.call_sid, s("C"));
        // Numbers and booleans are read leniently into text fields.
        let got: NewBillable = bind(&body("application/json", r#"{"callSid":12}"#)).unwrap();
        assert_eq!(got.call_sid, s("12"));
    }

    #[test]
    fn jsv_body() {
        let got: NewBillable = bind(&body("text/jsv", "{accountId:acc1,callSid:CA12}")).unwrap();
        assert_eq!(got.account_id, s("acc1"));
        assert_eq!(got.call_sid, s("CA12"));
        let seed = "{\n\taccountId: String,\n\tcustomerId: String,\n\tsessionId: String,\n\tcallSid: String\n}";
        let got: NewBillable = bind(&body("application/jsv; charset=utf-8", seed)).unwrap();
        let string = s("String");
        assert_eq!(
            got,
            NewBillable {
                account_id: string.clone(),
                customer_id: string.clone(),
                session_id: string.clone(),
                call_sid: string,
            }
        );
        let got: NewBillable = bind(&body("text/jsv", r#"{callSid:"CA,1",sessionId:""}"#)).unwrap();
        assert_eq!(got.call_sid, s("CA,1"));
        assert_eq!(got.session_id, None);
    }

    #[test]
    fn form_body() {
        let req = body(
            "application/x-www-form-urlencoded",
            "accountId=acc+1&callSid=CA%2C12&customerId=",
        );
        let got: NewBillable = bind(&req).unwrap();
        assert_eq!(got.account_id, s("acc 1"));
        assert_eq!(got.call_sid, s("CA,12"));
        assert_eq!(got.customer_id, None);
    }

    #[test]
    fn names_are_case_insensitive() {
        let got: GetBilling = bind(&query(
            "ACCOUNTID=x&StartDate=2026-01-01&enddate=2026-01-02",
        ))
        .unwrap();
        assert_eq!(got.account_id, s("x"));
        assert_eq!(got.start_date, s("2026-01-01"));
        assert_eq!(got.end_date, s("2026-01-02"));
        let got: NewBillable = bind(&body(
            "application/json",
            r#"{"AccountId":"a","CALLSID":"c"}"#,
        ))
        .unwrap();
        assert_eq!(got.account_id, s("a"));
        assert_eq!(got.call_sid, s("c"));
        let got: NewBillable = bind(&body("text/jsv", "{AccountID:a,callsid:c}")).unwrap();
        assert_eq!(got.account_id, s("a"));
        assert_eq!(got.call_sid, s("c"));
    }

    #[test]
    fn body_overrides_query() {
        let req = RawRequest {
            query: Some("accountId=fromQuery&customerId=c1&callSid=q"),
            content_type: Some("application/json"),
            body: br#"{"accountId":"fromBody","callSid":"","customerId":null}"#,
            ..Default::default()
        };
        let got: NewBillable = bind(&req).unwrap();
        assert_eq!(got.account_id, s("fromBody"));
        // Empty or null body members are absent, so they do not erase the query's values.
        assert_eq!(got.call_sid, s("q"));
        assert_eq!(got.customer_id, s("c1"));
        // Within one source, the later duplicate wins.
        let got: NewBillable = bind(&query("callSid=a&CallSid=b")).unwrap();
        assert_eq!(got.call_sid, s("b"));
    }

    #[test]
    fn empty_values_absent_and_unknown_keys_ignored() {
        let got: GetBilling = bind(&query(
            "customerId=&accountId=a&format=json&_=123&callback=cb&x",
        ))
        .unwrap();
        assert_eq!(got.customer_id, None);
        assert_eq!(got.account_id, s("a"));
        let got: NewBillable = bind(&body(
            "application/json",
            r#"{"unknown":{"deep":[1,2]},"callSid":"c"}"#,
        ))
        .unwrap();
        assert_eq!(got.call_sid, s("c"));
        // Empty bool in the query: absent, so the default.
        let got: BillingReport = bind(&query("includeCustomerIds=")).unwrap();
        assert!(!got.include_customer_ids);
    }

    #[test]
    fn lenient_booleans() {
        for text in ["true", "True", "TRUE", "1"] {
            let got: BillingReport = bind(&query(&format!("includeCustomerIds={text}"))).unwrap();
            assert!(got.include_customer_ids, "{text}");
        }
        for text in ["false", "False", "0"] {
            let got: BillingReport = bind(&query(&format!("IncludeCustomerIds={text}"))).unwrap();
            assert!(!got.include_customer_ids, "{text}");
        }
        let got: BillingReport =
            bind(&body("application/json", r#"{"includeCustomerIds":true}"#)).unwrap();
        assert!(got.include_customer_ids);
        let got: BillingReport =
            bind(&body("application/json", r#"{"includeCustomerIds":1}"#)).unwrap();
        assert!(got.include_customer_ids);
        let got: BillingReport = bind(&body("text/jsv", "{includeCustomerIds:True}")).unwrap();
        assert!(got.include_customer_ids);
    }

    #[test]
    fn enums() {
        let got: ListUsageRecords = bind(&query("accountId=a&granularity=daily")).unwrap();
        assert_eq!(got.granularity, Some(Granularity::Daily));
        let got: ListUsageRecords = bind(&query("Granularity=MONTHLY")).unwrap();
        assert_eq!(got.granularity, Some(Granularity::Monthly));
        let got: ListUsageRecords =
            bind(&body("application/json", r#"{"granularity":"Weekly"}"#)).unwrap();
        assert_eq!(got.granularity, Some(Granularity::Weekly));
        let got: ListUsageRecords = bind(&query("granularity=")).unwrap();
        assert_eq!(got.granularity, None);
        let err = bind::<ListUsageRecords>(&query("granularity=hourly")).unwrap_err();
        assert_eq!(code(&err), ("InvalidValue", Some("Granularity")));
        assert!(
            message(&err).starts_with("'Granularity' has an invalid value: "),
            "{err:?}"
        );
        let got: ReportInfo = bind(&query("status=completed")).unwrap();
        assert_eq!(got.status, ReportStatuses::Completed);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let err = bind::<BillingReport>(&query("includeCustomerIds=maybe")).unwrap_err();
        assert_eq!(code(&err), ("InvalidValue", Some("IncludeCustomerIds")));
        assert!(
            message(&err).starts_with("'Include Customer Ids' has an invalid value: "),
            "{}",
            message(&err)
        );
        assert!(message(&err).contains("maybe"));
        assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
        let status = err.response_status();
        assert_eq!(status.errors.len(), 1);
        assert_eq!(
            status.errors[0].field_name.as_deref(),
            Some("IncludeCustomerIds")
        );

        let err = bind::<BillingReport>(&body(
            "application/json",
            r#"{"includeCustomerIds":"maybe"}"#,
        ))
        .unwrap_err();
        assert_eq!(code(&err), ("InvalidValue", Some("IncludeCustomerIds")));
        let err =
            bind::<NewBillable>(&body("application/json", r#"{"accountId":{"a":1}}"#)).unwrap_err();
        assert_eq!(code(&err), ("InvalidValue", Some("AccountId")));
        let err =
            bind::<NewBillable>(&body("application/json", r#"{"callSid":["a"]}"#)).unwrap_err();
        assert_eq!(code(&err), ("InvalidValue", Some("CallSid")));
        // Hostile long values make short messages.
        let long = format!("includeCustomerIds={}", "x".repeat(10_000));
        let err = bind::<BillingReport>(&query(&long)).unwrap_err();
        assert!(message(&err).len() < 400);
        let long = format!("granularity={}", "x".repeat(10_000));
        let err = bind::<ListUsageRecords>(&query(&long)).unwrap_err();
        assert!(message(&err).len() < 400);
    }

    #[test]
    fn malformed_bodies() {
        let err = bind::<NewBillable>(&body("application/json", r#"{"callSid": "#)).unwrap_err();
        assert_eq!(code(&err), ("SerializationException", None));
        assert!(message(&err).starts_with("The request body is not valid JSON: "));
        assert!(message(&err).contains("line 1 column"), "{}", message(&err));
        let err = bind::<NewBillable>(&body("text/jsv", "{callSid:\"open")).unwrap_err();
        assert_eq!(code(&err), ("SerializationException", None));
        assert!(message(&err).starts_with("The request body is not valid JSV: "));
        for not_object in ["[1]", "\"x\"", "3", "null"] {
            let err = bind::<NewBillable>(&body("application/json", not_object)).unwrap_err();
            assert_eq!(code(&err), ("SerializationException", None), "{not_object}");
        }
        let err = bind::<NewBillable>(&body("text/jsv", "[a,b]")).unwrap_err();
        assert_eq!(code(&err), ("SerializationException", None));
        let err = bind::<NewBillable>(&body("text/jsv", "plain")).unwrap_err();
        assert_eq!(code(&err), ("SerializationException", None));
        let err = bind::<NewBillable>(&RawRequest {
            body: b"accountId=a",
            ..Default::default()
        })
        .unwrap_err();
        assert!(matches!(err, ApiError::UnsupportedMediaType(_)));
    }

    #[test]
    fn unsupported_media_types() {
        for ct in [
            "application/octet-stream",
            "text/xml",
            "multipart/form-data; boundary=x",
            "text/plain",
        ] {
            let err = bind::<NewBillable>(&body(ct, "<a/>")).unwrap_err();
            assert!(matches!(err, ApiError::UnsupportedMediaType(_)), "{ct}");
            assert_eq!(err.status(), axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
        // An empty body with any Content-Type: only the query is used.
        let req = RawRequest {
            query: Some("callSid=q"),
            content_type: Some("application/octet-stream"),
            body: b"  \r\n",
            ..Default::default()
        };
        let got: NewBillable = bind(&req).unwrap();
        assert_eq!(got.call_sid, s("q"));
    }

    #[test]
    fn bind_list_per_item_results() {
        let req = RawRequest {
            query: Some("callSid=ignored"),
            content_type: Some("application/json"),
            body: br#"[{"callSid":"A","AccountId":"acc"},{"includeCustomerIds":"maybe"},7,null,{"INCLUDECUSTOMERIDS":"1"}]"#,
            ..Default::default()
        };
        let items = bind_list::<BillingReport>(&req).unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(items[0].as_ref().unwrap().account_id, s("acc"));
        assert_eq!(
            code(items[1].as_ref().unwrap_err()),
            ("InvalidValue", Some("IncludeCustomerIds"))
        );
        assert_eq!(
            code(items[2].as_ref().unwrap_err()),
            ("SerializationException", None)
        );
        assert_eq!(
            code(items[3].as_ref().unwrap_err()),
            ("SerializationException", None)
        );
        assert!(items[4].as_ref().unwrap().include_customer_ids);

        let items =
            bind_list::<NewBillable>(&body("text/jsv", "[{callSid:A},{CALLSID:B},x]")).unwrap();
        assert_eq!(items[0].as_ref().unwrap().call_sid, s("A"));
        assert_eq!(items[1].as_ref().unwrap().call_sid, s("B"));
        assert!(items[2].is_err());
        // The query is ignored.
        let items = bind_list::<NewBillable>(&RawRequest {
            query: Some("callSid=q"),
            content_type: Some("application/json"),
            body: b"[{}]",
            ..Default::default()
        })
        .unwrap();
        assert_eq!(items[0].as_ref().unwrap().call_sid, None);
        assert!(bind_list::<NewBillable>(&body("application/json", "[]"))
            .unwrap()
            .is_empty());

        for not_list in [r#"{"callSid":"A"}"#, "\"x\"", "", "[1"] {
            let err = bind_list::<NewBillable>(&body("application/json", not_list)).unwrap_err();
            assert_eq!(code(&err), ("SerializationException", None), "{not_list}");
        }
        let err = bind_list::<NewBillable>(&body("application/x-www-form-urlencoded", "a=b"))
            .unwrap_err();
        assert!(matches!(err, ApiError::UnsupportedMediaType(_)));
        let err = bind_list::<NewBillable>(&body("text/plain", "[]")).unwrap_err();
        assert!(matches!(err, ApiError::UnsupportedMediaType(_)));
    }

    #[test]
    fn hostile_inputs_never_panic() {
        let deep = "[".repeat(10_000);
        let deep_obj = "{\"a\":".repeat(10_000);
        let deep_jsv_obj = "{a:".repeat(10_000);
        for (ct, text) in [
            ("application/json", deep.as_str()),
            ("application/json", deep_obj.as_str()),
            ("text/jsv", deep.as_str()),
            ("text/jsv", deep_jsv_obj.as_str()),
        ] {
            let err = bind::<NewBillable>(&body(ct, text)).unwrap_err();
            assert_eq!(code(&err), ("SerializationException", None), "{ct}");
            let err = bind_list::<NewBillable>(&body(ct, text)).unwrap_err();
            assert_eq!(code(&err), ("SerializationException", None), "{ct}");
        }
        // Deep but within the limits: a value of the wrong type, not a crash.
        let nested = format!("{{\"callSid\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        let err = bind::<NewBillable>(&body("application/json", &nested)).unwrap_err();
        assert_eq!(code(&err), ("InvalidValue", Some("CallSid")));

        // Invalid UTF-8.
        let bad: &[u8] = b"{\"callSid\":\"\xff\xfe\"}";
        for ct in ["application/json", "text/jsv"] {
            let err = bind::<NewBillable>(&RawRequest {
                content_type: Some(ct),
                body: bad,
                ..Default::default()
            })
            .unwrap_err();
            assert_eq!(code(&err), ("SerializationException", None), "{ct}");
        }
        let got: NewBillable = bind(&RawRequest {
            query: Some("callSid=%FF%FE"),
            content_type: Some("application/x-www-form-urlencoded"),
            body: b"accountId=%FF",
            ..Default::default()
        })
        .unwrap();
        assert!(got.call_sid.is_some());

        // Random bytes with every content type (a fixed xorshift generator).
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        const ALPHABET: &[u8] = b"{}[]:,\"' \t\nab1TrueF\\\xff\xc3\xa9=&%+";
        for round in 0..2_000 {
            let len = (next() % 64) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if round % 2 == 0 {
                        ALPHABET[(r % ALPHABET.len() as u64) as usize]
                    } else {
                        r as u8
                    }
                })
                .collect();
            for ct in [
                Some("application/json"),
                Some("text/jsv"),
                Some("application/x-www-form-urlencoded"),
                None,
            ] {
                let req = RawRequest {
                    query: std::str::from_utf8(&bytes).ok(),
                    content_type: ct,
                    body: &bytes,
                    ..Default::default()
                };
                let _ = bind::<NewBillable>(&req);
                let _ = bind::<BillingReport>(&req);
                let _ = bind::<ListUsageRecords>(&req);
                let _ = bind_list::<NewBillable>(&req);
            }
        }
    }
}
