//! CSV export, following ServiceStack's CSV conventions.
//!
//! - The header row is the PascalCase property names, in the DTO's declared order.
//! - Rows end with `\r\n`; a field is quoted when it contains `"`, `,`, CR or LF (inner `"`
//!   doubled).
//! - A list is one row per item. A response DTO whose only content is a list (BillingInfo's
//!   `customers`) is written as that list, as ServiceStack does.
//! - Nulls are empty fields; booleans are `True`/`False` as in JSV; nested values are JSV text.
//! - Text that a spreadsheet would run as a formula (first character `=`, `+`, `-`, `@`, tab or
//!   CR) is written with a leading `'` ([`escape_text`]); numbers are written as they are.
//!
//! ```
//! use evo_billing_core::{csv::billing_info_to_csv, dto::{BillingInfo, BillingCustomerInfo}};
//! let info = BillingInfo { customers: vec![BillingCustomerInfo {
//!     customer_id: Some("c,1".into()), international_costs: "1.5".parse().unwrap(), has_call_recording: true,
//! }]};
//! assert_eq!(billing_info_to_csv(&info),
//!     "CustomerId,InternationalCosts,HasCallRecording\r\n\"c,1\",1.5,True\r\n");
//! ```

use serde::Serialize;
use serde_json::Value;

use crate::dto::{BillingInfo, UsageRecordInfo};

/// `accountSid` → `AccountSid`.
pub fn pascal_case(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Quotes a field when CSV needs it.
pub fn escape_field(field: &str) -> std::borrow::Cow<'_, str> {
    if field.contains(['"', ',', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\"")).into()
    } else {
        field.into()
    }
}

/// A text cell: [`escape_field`], and a leading `'` when a spreadsheet would otherwise read the
/// text as a formula (`=HYPERLINK(…)`, `+1+cmd`, `-2+3`, `@SUM(…)`), the usual defence against
/// CSV injection. Numbers are not text cells: a negative amount stays `-1.50`.
pub fn escape_text(field: &str) -> std::borrow::Cow<'_, str> {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        escape_field(&format!("'{field}")).into_owned().into()
    } else {
        escape_field(field)
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        nested => crate::jsv::value_to_jsv(nested),
    }
}

/// Writes rows of JSON objects: headers are the union of keys in first-seen order.
fn objects_to_csv(rows: &[Value]) -> String {
    let mut headers: Vec<&str> = Vec::new();
    for row in rows {
        if let Value::Object(map) = row {
            for k in map.keys() {
                if !headers.contains(&k.as_str()) {
                    headers.push(k);
                }
            }
        }
    }
    let mut out = String::new();
    let line: Vec<String> = headers
        .iter()
        .map(|h| escape_field(&pascal_case(h)).into_owned())
        .collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
    for row in rows {
        let fields: Vec<String> = headers
            .iter()
            .map(|h| {
                let v = row.get(h).unwrap_or(&Value::Null);
                match v {
                    Value::String(text) => escape_text(text).into_owned(),
                    other => escape_field(&cell(other)).into_owned(),
                }
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Any serializable value as CSV: a list is a row per item; an object with exactly one list
/// property is that list; another object is one row; a scalar is a single cell.
pub fn to_csv<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let v = serde_json::to_value(value)?;
    Ok(value_to_csv(&v))
}

/// As [`to_csv`], from a JSON value.
pub fn value_to_csv(v: &Value) -> String {
    match v {
        Value::Array(items) if items.iter().all(Value::is_object) => objects_to_csv(items),
        Value::Array(items) => {
            let mut out = String::new();
            for i in items {
                out.push_str(&escape_field(&cell(i)));
                out.push_str("\r\n");
            }
            out
        }
        Value::Object(map) => {
            let lists: Vec<&Value> = map.values().filter(|v| v.is_array()).collect();
            if map.len() == 1 && lists.len() == 1 {
                value_to_csv(lists[0])
            } else {
                objects_to_csv(std::slice::from_ref(v))
            }
        }
        scalar => format!("{}\r\n", escape_field(&cell(scalar))),
    }
}

/// BillingInfo as CSV: one row per customer (`CustomerId,InternationalCosts,HasCallRecording`).
/// The header is written even when there are no customers.
pub fn billing_info_to_csv(info: &BillingInfo) -> String {
    if info.customers.is_empty() {
        return "CustomerId,InternationalCosts,HasCallRecording\r\n".into();
    }
    to_csv(&info.customers).unwrap_or_default()
}

/// Usage records as CSV, one row per record, columns in the seed's order.
pub fn usage_records_to_csv(records: &[UsageRecordInfo]) -> String {
    const HEADER: &str = "AccountSid,Category,Count,CountUnit,Description,EndDate,Price,PriceUnit,StartDate,Usage,UsageUnit,Uri\r\n";
    let mut out = String::from(HEADER);
    for r in records {
        let opt = |v: &Option<String>| escape_field(v.as_deref().unwrap_or("")).into_owned();
        let fields = [
            opt(&r.account_sid),
            opt(&r.category),
            r.count.to_string(),
            opt(&r.count_unit),
            opt(&r.description),
            opt(&r.end_date),
            r.price.to_string(),
            opt(&r.price_unit),
            opt(&r.start_date),
            opt(&r.usage),
            opt(&r.usage_unit),
            opt(&r.uri),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under wasm-bindgen-test (in Node and in headless Chromium).
    use crate::dto::BillingCustomerInfo;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn text_that_looks_like_a_formula_is_escaped() {
        for (text, cell) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("=a,b", "\"'=a,b\""),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(escape_text(text), cell, "{text:?}");
        }
        // Numbers stay numbers; only text cells are escaped.
        let rows = serde_json::json!([{"name": "-Credit", "amount": -1.5}]);
        assert_eq!(value_to_csv(&rows), "Name,Amount\r\n'-Credit,-1.5\r\n");
    }

    #[test]
    fn quoting() {
        assert_eq!(escape_field("plain"), "plain");
        assert_eq!(escape_field("a,b"), "\"a,b\"");
        assert_eq!(escape_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(escape_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn billing_info_is_its_customer_list() {
        let info = BillingInfo {
            customers: vec![
                BillingCustomerInfo {
                    customer_id: Some("c1".into()),
                    international_costs: "12.34".parse().unwrap(),
                    has_call_recording: false,
                },
                BillingCustomerInfo {
                    customer_id: None,
                    international_costs: "0".parse().unwrap(),
                    has_call_recording: true,
                },
            ],
        };
        assert_eq!(
            billing_info_to_csv(&info),
            "CustomerId,InternationalCosts,HasCallRecording\r\nc1,12.34,False\r\n,0,True\r\n"
        );
        assert_eq!(
            billing_info_to_csv(&BillingInfo::default()),
            "CustomerId,InternationalCosts,HasCallRecording\r\n"
        );
        assert_eq!(to_csv(&info).unwrap().lines().count(), 3);
    }

    #[test]
    fn usage_records() {
        let r = UsageRecordInfo {
            account_sid: Some("AC1".into()),
            category: Some("calls".into()),
            count: 3,
            description: Some("Voice minutes, \"all\"".into()),
            price: "-0.0085".parse().unwrap(),
            price_unit: Some("usd".into()),
            usage: Some("12.5".into()),
            ..Default::default()
        };
        let csv = usage_records_to_csv(std::slice::from_ref(&r));
        assert_eq!(
            csv.lines().nth(1).unwrap(),
            "AC1,calls,3,,\"Voice minutes, \"\"all\"\"\",,-0.0085,usd,,12.5,,"
        );
        // The generic writer agrees on the columns present.
        let generic = to_csv(&[r]).unwrap();
        assert!(
            generic.starts_with("AccountSid,Category,Count,Description,Price,PriceUnit,Usage\r\n")
        );
    }
}
