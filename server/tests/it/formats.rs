//! Every operation in every format: JSON, JSV, XML and CSV chosen by `?format=`, by a route
//! suffix and by `Accept`, their precedence, JSONP, the error body in each format, and the
//! exact usage numbers of the fixture. Runs on SQLite and on PostgreSQL.

use crate::support::*;
use axum::http::StatusCode;
use evo_billing_core::dto::{BillingInfo, ErrorResponse, UsageRecordInfo};
use evo_billing_core::money::Micros;
use serde_json::json;

const XSI: &str = "xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"";

/// The October billing of acc-a, byte for byte, in each format.
const BILLING_JSON: &str = r#"{"customers":[{"customerId":"cus-a1","internationalCosts":0.3,"hasCallRecording":true},{"customerId":"cus-a2","internationalCosts":0,"hasCallRecording":false},{"customerId":"cus-a3","internationalCosts":1.23,"hasCallRecording":false}]}"#;
const BILLING_JSV: &str = "{customers:[{customerId:cus-a1,internationalCosts:0.3,hasCallRecording:True},{customerId:cus-a2,internationalCosts:0,hasCallRecording:False},{customerId:cus-a3,internationalCosts:1.23,hasCallRecording:False}]}";
const BILLING_CSV: &str = "CustomerId,InternationalCosts,HasCallRecording\r\ncus-a1,0.3,True\r\ncus-a2,0,False\r\ncus-a3,1.23,False\r\n";

fn billing_xml() -> String {
    let customer = |id: &str, rec: &str, cost: &str| {
        format!(
            "<BillingCustomerInfo><CustomerId>{id}</CustomerId><HasCallRecording>{rec}</HasCallRecording><InternationalCosts>{cost}</InternationalCosts></BillingCustomerInfo>"
        )
    };
    format!(
        "<BillingInfo {XSI} xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Billing\"><Customers>{}{}{}</Customers></BillingInfo>",
        customer("cus-a1", "true", "0.3"),
        customer("cus-a2", "false", "0"),
        customer("cus-a3", "false", "1.23"),
    )
}

/// Asserts the October billing of acc-a came back in `format` (json/jsv/xml/csv).
fn assert_billing(how: &str, format: &str, r: &Reply) {
    assert_eq!(r.status, StatusCode::OK, "{how}: {}", r.text());
    let (ct, body) = match format {
        "json" => ("application/json", BILLING_JSON.to_string()),
        "jsv" => ("text/jsv", BILLING_JSV.to_string()),
        "xml" => ("application/xml", billing_xml()),
        "csv" => ("text/csv", BILLING_CSV.to_string()),
        _ => unreachable!(),
    };
    assert!(
        r.content_type.starts_with(ct),
        "{how}: content type {} is not {ct}",
        r.content_type
    );
    assert_eq!(r.text(), body, "{how}");
}

async fn billing_in_every_format(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    for format in ["json", "jsv", "xml", "csv"] {
        let r = app
            .get(&format!("/billing?{OCT_A}&format={format}"), t)
            .await;
        assert_billing(&format!("?format={format}"), format, &r);
        // Upper case works too.
        let r = app
            .get(
                &format!("/billing?{OCT_A}&FORMAT={}", format.to_uppercase()),
                t,
            )
            .await;
        assert_billing(&format!("?FORMAT={format}"), format, &r);
        let r = app.get(&format!("/billing.{format}?{OCT_A}"), t).await;
        assert_billing(&format!("/billing.{format}"), format, &r);
        // The pre-defined route takes a suffix too.
        let r = app
            .get(&format!("/api/GetBilling.{format}?{OCT_A}"), t)
            .await;
        assert_billing(&format!("/api/GetBilling.{format}"), format, &r);
    }
    for (accept, format) in [
        ("application/json", "json"),
        ("text/jsv", "jsv"),
        ("application/jsv", "jsv"),
        ("application/xml", "xml"),
        ("text/xml", "xml"),
        ("text/csv", "csv"),
        ("*/*", "json"),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "json",
        ),
        ("text/csv;q=0.5, application/xml;q=0.9", "xml"),
        ("application/xml;q=0, text/csv", "csv"),
        ("image/png", "json"),
    ] {
        let r = app
            .get_accept(&format!("/billing?{OCT_A}"), t, accept)
            .await;
        assert_billing(&format!("Accept: {accept}"), format, &r);
    }
    // No Accept at all: JSON; an unknown ?format=: JSON.
    let r = app.get(&format!("/billing?{OCT_A}"), t).await;
    assert_billing("no Accept", "json", &r);
    let r = app.get(&format!("/billing?{OCT_A}&format=yaml"), t).await;
    assert_billing("?format=yaml", "json", &r);
    // The JSV body decodes back to the same BillingInfo as the JSON one.
    let jsv = app.get(&format!("/billing.jsv?{OCT_A}"), t).await;
    let from_jsv: BillingInfo = evo_billing_core::jsv::from_str(&jsv.text()).unwrap();
    let from_json: BillingInfo = serde_json::from_str(BILLING_JSON).unwrap();
    assert_eq!(from_jsv, from_json);
    assert_eq!(
        from_json.customers[2].international_costs,
        "1.23".parse::<Micros>().unwrap()
    );
}

/// ListUsageRecords in each format: a bare list, `ArrayOfUsageRecordInfo` in XML.
async fn usage_in_every_format(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    let sid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let uri_calls = format!(
        "/2010-04-01/Accounts/{sid}/Usage/Records.json?Category=calls&StartDate=2026-10-01&EndDate=2026-10-31"
    );
    for (how, uri, accept) in [
        (
            "?format=json",
            format!("/billing/usage?{OCT_A}&format=json"),
            None,
        ),
        ("suffix .json", format!("/billing/usage.json?{OCT_A}"), None),
        (
            "Accept json",
            format!("/billing/usage?{OCT_A}"),
            Some("application/json"),
        ),
    ] {
        let r = match accept {
            Some(a) => app.get_accept(&uri, t, a).await,
            None => app.get(&uri, t).await,
        };
        assert_eq!(r.status, StatusCode::OK, "{how}: {}", r.text());
        assert!(r.content_type.starts_with("application/json"), "{how}");
        let v = r.json();
        let list = v.as_array().expect("a bare JSON array");
        assert_eq!(list.len(), 12, "{how}");
        assert_eq!(
            list[0],
            json!({"accountSid": sid, "category": "calls", "count": 5, "countUnit": "calls",
                   "description": "Voice Minutes", "endDate": "2026-10-31", "price": 2.09,
                   "priceUnit": "usd", "startDate": "2026-10-01", "usage": "10",
                   "usageUnit": "minutes", "uri": uri_calls}),
            "{how}"
        );
    }
    let calls_jsv = format!(
        "{{accountSid:{sid},category:calls,count:5,countUnit:calls,description:Voice Minutes,endDate:2026-10-31,price:2.09,priceUnit:usd,startDate:2026-10-01,usage:10,usageUnit:minutes,uri:{uri_calls}}}"
    );
    for (how, uri, accept) in [
        (
            "?format=jsv",
            format!("/billing/usage?{OCT_A}&format=jsv"),
            None,
        ),
        ("suffix .jsv", format!("/billing/usage.jsv?{OCT_A}"), None),
        (
            "Accept jsv",
            format!("/billing/usage?{OCT_A}"),
            Some("text/jsv"),
        ),
    ] {
        let r = match accept {
            Some(a) => app.get_accept(&uri, t, a).await,
            None => app.get(&uri, t).await,
        };
        assert_eq!(r.status, StatusCode::OK, "{how}: {}", r.text());
        assert!(
            r.content_type.starts_with("text/jsv"),
            "{how}: {}",
            r.content_type
        );
        let text = r.text();
        assert!(text.starts_with(&format!("[{calls_jsv},")), "{how}: {text}");
        let records: Vec<UsageRecordInfo> = evo_billing_core::jsv::from_str(&text).unwrap();
        assert_eq!(records.len(), 12, "{how}");
        assert_eq!(records[11].category.as_deref(), Some("totalprice"));
        assert_eq!(records[11].price, "4.42".parse::<Micros>().unwrap());
    }
    for (how, uri, accept) in [
        (
            "?format=xml",
            format!("/billing/usage?{OCT_A}&format=xml"),
            None,
        ),
        ("suffix .xml", format!("/billing/usage.xml?{OCT_A}"), None),
        (
            "Accept xml",
            format!("/billing/usage?{OCT_A}"),
            Some("application/xml"),
        ),
    ] {
        let r = match accept {
            Some(a) => app.get_accept(&uri, t, a).await,
            None => app.get(&uri, t).await,
        };
        assert_eq!(r.status, StatusCode::OK, "{how}: {}", r.text());
        assert!(r.content_type.starts_with("application/xml"), "{how}");
        let text = r.text();
        let calls_xml = format!(
            "<UsageRecordInfo><AccountSid>{sid}</AccountSid><Category>calls</Category><Count>5</Count><CountUnit>calls</CountUnit><Description>Voice Minutes</Description><EndDate>2026-10-31</EndDate><Price>2.09</Price><PriceUnit>usd</PriceUnit><StartDate>2026-10-01</StartDate><Uri>{}</Uri><Usage>10</Usage><UsageUnit>minutes</UsageUnit></UsageRecordInfo>",
            uri_calls.replace('&', "&amp;")
        );
        assert!(
            text.starts_with(&format!(
                "<ArrayOfUsageRecordInfo {XSI} xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Dashboard\">{calls_xml}<UsageRecordInfo>"
            )),
            "{how}: {text}"
        );
        assert!(
            text.ends_with("</UsageRecordInfo></ArrayOfUsageRecordInfo>"),
            "{how}"
        );
        assert_eq!(text.matches("<UsageRecordInfo>").count(), 12, "{how}");
        assert!(
            text.contains("<Category>totalprice</Category><Count>0</Count><Description>Total Price</Description>"),
            "{how}: totalprice has no CountUnit: {text}"
        );
    }
    let header = "AccountSid,Category,Count,CountUnit,Description,EndDate,Price,PriceUnit,StartDate,Usage,UsageUnit,Uri\r\n";
    for (how, uri, accept) in [
        (
            "?format=csv",
            format!("/billing/usage?{OCT_A}&format=csv"),
            None,
        ),
        ("suffix .csv", format!("/billing/usage.csv?{OCT_A}"), None),
        (
            "Accept csv",
            format!("/billing/usage?{OCT_A}"),
            Some("text/csv"),
        ),
    ] {
        let r = match accept {
            Some(a) => app.get_accept(&uri, t, a).await,
            None => app.get(&uri, t).await,
        };
        assert_eq!(r.status, StatusCode::OK, "{how}: {}", r.text());
        assert!(r.content_type.starts_with("text/csv"), "{how}");
        let text = r.text();
        assert!(text.starts_with(header), "{how}: {text}");
        assert!(text.ends_with("\r\n"), "{how}");
        let rows: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(rows.len(), 13, "{how}: header + 12 rows: {text}");
        assert_eq!(
            rows[1],
            format!("{sid},calls,5,calls,Voice Minutes,2026-10-31,2.09,usd,2026-10-01,10,minutes,{uri_calls}"),
            "{how}"
        );
        assert!(
            rows[12].starts_with(&format!(
                "{sid},totalprice,0,,Total Price,2026-10-31,4.42,usd,2026-10-01,4.42,usd,"
            )),
            "{how}: {}",
            rows[12]
        );
        // No bare \n anywhere: every line ends \r\n.
        assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
    }
}

/// `?callback=` > `?format=` > suffix > `Accept`.
async fn precedence(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    // ?format beats the suffix and Accept.
    let r = app
        .get_accept(&format!("/billing.csv?{OCT_A}&format=xml"), t, "text/jsv")
        .await;
    assert_billing("format > suffix > Accept", "xml", &r);
    // The suffix beats Accept.
    let r = app
        .get_accept(&format!("/billing.csv?{OCT_A}"), t, "application/xml")
        .await;
    assert_billing("suffix > Accept", "csv", &r);
    let r = app
        .get_accept(&format!("/billing/usage.jsv?{OCT_A}"), t, "application/xml")
        .await;
    assert!(r.content_type.starts_with("text/jsv"), "{}", r.content_type);
    // ?format beats Accept.
    let r = app
        .get_accept(&format!("/billing?{OCT_A}&format=jsv"), t, "text/csv")
        .await;
    assert_billing("format > Accept", "jsv", &r);
    // An empty ?format= is absent: the suffix decides.
    let r = app.get(&format!("/billing.csv?{OCT_A}&format="), t).await;
    assert_billing("empty format", "csv", &r);
    // The callback beats everything.
    let r = app
        .get_accept(
            &format!("/billing.csv?{OCT_A}&format=xml&callback=cb"),
            t,
            "text/jsv",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.content_type.starts_with("text/javascript"),
        "{}",
        r.content_type
    );
    assert_eq!(r.text(), format!("cb({BILLING_JSON})"));
}

async fn jsonp(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    let r = app.get(&format!("/billing?{OCT_A}&callback=cb"), t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "text/javascript; charset=utf-8");
    assert_eq!(r.text(), format!("cb({BILLING_JSON})"));
    // A dotted name is a valid callback.
    let r = app
        .get(&format!("/billing?{OCT_A}&callback=window.app.cb"), t)
        .await;
    assert_eq!(r.text(), format!("window.app.cb({BILLING_JSON})"));
    // A validation error: status 200, the ResponseStatus inside the callback.
    let r = app.get("/billing?callback=cb", t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("text/javascript"));
    let text = r.text();
    let inner = text
        .strip_prefix("cb(")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not wrapped: {text}"));
    let err: serde_json::Value = serde_json::from_str(inner).unwrap();
    assert_eq!(err["responseStatus"]["errorCode"], "NotEmpty");
    let fields: Vec<&str> = err["responseStatus"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fieldName"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["AccountId", "StartDate", "EndDate"]);
    // Not signed in: 200 too, Unauthorized inside.
    let r = app
        .get(&format!("/billing?{OCT_A}&callback=cb"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text()
            .starts_with(r#"cb({"responseStatus":{"errorCode":"Unauthorized""#),
        "{}",
        r.text()
    );
    // ListUsageRecords wraps its bare list.
    let r = app
        .get(&format!("/billing/usage?{OCT_A}&callback=f"), t)
        .await;
    assert!(r.text().starts_with("f([{\"accountSid\""), "{}", r.text());
    assert!(r.text().ends_with("}])"));
    // A callback that is not an identifier is ignored (no script injection): plain JSON.
    let r = app
        .get(&format!("/billing?{OCT_A}&callback=alert(1)%3B"), t)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.content_type.starts_with("application/json"),
        "{}",
        r.content_type
    );
    assert_eq!(r.text(), BILLING_JSON);
}

/// The ReportInfo of BillingReport (and of `GET /reports/{id}`) in each format.
async fn report_info_in_every_format(backend: Backend) {
    let mut opts = options();
    opts.run_worker = false; // The reports stay Queued: deterministic bodies.
    let app = TestApp::with_options(backend, opts).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    let body = json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31",
                      "emailAddressToNotify": "ops@example.com"});
    let name = "Billing Alpha Telecom 2026-10-01..2026-10-31";

    let r = app.post_json("/reports/billing", t, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.content_type.starts_with("application/json"));
    let info = r.json();
    assert_eq!(info["status"], "Queued");
    assert_eq!(info["name"], name);
    assert_eq!(info["emailAddressToNotify"], "ops@example.com");
    assert!(info.get("downloadLink").is_none(), "{info}");
    let id = info["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("rep_"));

    let r = app
        .post_json("/reports/billing?format=xml", t, body.clone())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("application/xml"));
    let text = r.text();
    assert!(
        text.starts_with(&format!(
            "<ReportInfo {XSI} xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Reports\"><DateCreated>"
        )),
        "{text}"
    );
    assert!(
        text.contains("<EmailAddressToNotify>ops@example.com</EmailAddressToNotify><Id>rep_"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "<Name>{name}</Name><Status>Queued</Status></ReportInfo>"
        )),
        "{text}"
    );

    let r = app.post_json("/reports/billing.jsv", t, body.clone()).await;
    assert!(r.content_type.starts_with("text/jsv"), "{}", r.content_type);
    let text = r.text();
    assert!(text.starts_with("{id:rep_"), "{text}");
    assert!(
        text.contains(&format!(",name:{name},status:Queued,")),
        "{text}"
    );
    let decoded: evo_billing_core::dto::ReportInfo =
        evo_billing_core::jsv::from_str(&text).unwrap();
    assert_eq!(
        decoded.status,
        evo_billing_core::dto::ReportStatuses::Queued
    );
    assert_eq!(
        decoded.email_address_to_notify.as_deref(),
        Some("ops@example.com")
    );

    let r = app
        .request(
            "POST",
            "/reports/billing",
            t,
            &[("content-type", "application/json"), ("accept", "text/csv")],
            body.to_string().into_bytes(),
        )
        .await;
    assert!(r.content_type.starts_with("text/csv"), "{}", r.content_type);
    let text = r.text();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines.len(),
        3,
        "header, one row, and the final \\r\\n: {text:?}"
    );
    assert_eq!(
        lines[0],
        "Id,Name,Status,DateCreated,DateUpdated,EmailAddressToNotify"
    );
    assert!(lines[1].starts_with("rep_"), "{text}");
    assert!(lines[1].contains(&format!(",{name},Queued,")), "{text}");
    assert!(lines[1].ends_with(",ops@example.com"), "{text}");
    assert_eq!(lines[2], "");

    // GET /reports/{id} with a suffix.
    let r = app.get(&format!("/reports/{id}.xml"), t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains(&format!("<Id>{id}</Id>")), "{}", r.text());
    let r = app.get(&format!("/reports/{id}?format=csv"), t).await;
    assert!(r.text().starts_with("Id,Name,Status,"), "{}", r.text());
    // The list, in XML.
    let r = app.get("/reports?format=xml", t).await;
    let text = r.text();
    assert!(
        text.starts_with(&format!(
            "<ArrayOfReportInfo {XSI} xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Reports\"><ReportInfo>"
        )),
        "{text}"
    );
    assert_eq!(text.matches("<ReportInfo>").count(), 4, "{text}");
}

/// The 400 body in each format: right status, content type, and the field errors.
async fn errors_in_every_format(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    // JSON.
    let r = app.get("/billing?format=json", t).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.content_type.starts_with("application/json"));
    assert_eq!(r.error_fields(), ["AccountId", "StartDate", "EndDate"]);
    let json_err = r.json();
    // XML.
    let r = app.get("/billing?format=xml", t).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.content_type.starts_with("application/xml"),
        "{}",
        r.content_type
    );
    let text = r.text();
    assert!(
        text.starts_with(&format!(
            "<ErrorResponse {XSI} xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Billing\"><ResponseStatus><ErrorCode>NotEmpty</ErrorCode><Errors><ResponseError><ErrorCode>NotEmpty</ErrorCode><FieldName>AccountId</FieldName><Message>&apos;Account Id&apos; must not be empty.</Message></ResponseError>"
        )),
        "{text}"
    );
    for f in ["AccountId", "StartDate", "EndDate"] {
        assert!(
            text.contains(&format!("<FieldName>{f}</FieldName>")),
            "{f}: {text}"
        );
    }
    assert!(text.ends_with("</Errors><Message>&apos;Account Id&apos; must not be empty.</Message></ResponseStatus></ErrorResponse>"), "{text}");
    // JSV: decodes to the same ErrorResponse as the JSON body.
    let r = app.get("/billing.jsv", t).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.content_type.starts_with("text/jsv"));
    assert!(
        r.text().starts_with("{responseStatus:{errorCode:NotEmpty,"),
        "{}",
        r.text()
    );
    let from_jsv: ErrorResponse = evo_billing_core::jsv::from_str(&r.text()).unwrap();
    let from_json: ErrorResponse = serde_json::from_value(json_err).unwrap();
    assert_eq!(from_jsv, from_json);
    assert_eq!(from_json.response_status.errors.len(), 3);
    // CSV: one row ErrorCode,Message,Errors with the errors as JSV.
    let r = app.get_accept("/billing", t, "text/csv").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.content_type.starts_with("text/csv"));
    let text = r.text();
    assert!(
        text.starts_with("ErrorCode,Message,Errors\r\nNotEmpty,'Account Id' must not be empty.,\"[{errorCode:NotEmpty,fieldName:AccountId,"),
        "{text}"
    );
    assert!(
        text.contains("fieldName:StartDate") && text.contains("fieldName:EndDate"),
        "{text}"
    );
    assert!(text.ends_with("\r\n"));
    // Other statuses keep their status in every format.
    for (format, ct) in [
        ("json", "application/json"),
        ("xml", "application/xml"),
        ("jsv", "text/jsv"),
        ("csv", "text/csv"),
    ] {
        let r = app
            .get(&format!("/billing?{OCT_A}&format={format}"), None)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{format}");
        assert!(
            r.content_type.starts_with(ct),
            "{format}: {}",
            r.content_type
        );
        assert!(r.text().contains("Unauthorized"), "{format}: {}", r.text());
        let b = app.sign_in(MANAGER_B).await;
        let r = app
            .get(&format!("/billing?{OCT_A}&format={format}"), Some(&b))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{format}");
        assert!(r.content_type.starts_with(ct), "{format}");
        assert!(r.text().contains("Forbidden"), "{format}: {}", r.text());
    }
}

/// The usage numbers of the fixture, exactly, and the daily breakdown.
async fn usage_numbers_are_exact(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let r = app.get(&format!("/billing/usage?{OCT_A}"), Some(&t)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let records: Vec<UsageRecordInfo> = serde_json::from_slice(&r.body).unwrap();
    let get = |c: &str| {
        records
            .iter()
            .find(|r| r.category.as_deref() == Some(c))
            .unwrap_or_else(|| panic!("no {c}"))
    };
    let m = |s: &str| s.parse::<Micros>().unwrap();
    // (category, count, price, usage)
    for (category, count, price, usage) in [
        ("calls", 5, "2.09", "10"),         // 2 + 1 + 5 + 1 + 1 minutes; 2.093
        ("calls-outbound", 4, "2.08", "9"), // CA-A1, A2, A3, A5: 2.0845
        ("calls-inbound", 1, "0.01", "1"),  // CA-A4: 0.0085
        ("recordings", 1, "0.01", "2"),     // CA-A1: 0.005 rounds half away from zero
        ("sms", 3, "0.02", "3"),
        ("sms-outbound", 3, "0.02", "3"), // 3 × 0.0079 = 0.0237
        ("sms-inbound", 0, "0", "0"),
        ("phonenumbers", 2, "2.3", "2"),
        ("phonenumbers-local", 2, "2.3", "2"),
        ("phonenumbers-mobile", 0, "0", "0"),
        ("phonenumbers-tollfree", 0, "0", "0"),
    ] {
        let rec = get(category);
        assert_eq!(rec.count, count, "{category} count");
        assert_eq!(rec.price, m(price), "{category} price");
        assert_eq!(rec.usage.as_deref(), Some(usage), "{category} usage");
        assert_eq!(rec.price_unit.as_deref(), Some("usd"), "{category}");
        assert_eq!(rec.start_date.as_deref(), Some("2026-10-01"));
        assert_eq!(rec.end_date.as_deref(), Some("2026-10-31"));
        assert_eq!(
            rec.account_sid.as_deref(),
            Some("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        );
    }
    // The total is the exact sum of the leaves, rounded once:
    // 0.30 + 0.10 + 1.2345 + 0.0085 + 0.45 + 0.005 + 0.0237 + 2.30 = 4.4217 → 4.42
    // (rounding each category first would give 2.08 + 0.01 + 0.01 + 0.02 + 2.30 = 4.42 here too,
    // so the exact sum is checked as well).
    let leaves = [
        "0.30", "0.10", "1.2345", "0.0085", "0.45", "0.005", "0.0237", "2.30",
    ];
    let exact: i64 = leaves.iter().map(|s| m(s).0).sum();
    assert_eq!(exact, 4_421_700);
    let total = get("totalprice");
    assert_eq!(total.price, Micros(exact).round_to(2));
    assert_eq!(total.price, m("4.42"));
    assert_eq!(total.usage.as_deref(), Some("4.42"));
    assert_eq!(
        evo_billing_core::aggregate::grand_total(&records),
        total.price
    );
    assert_eq!(records.len(), 12);
    // Roll-ups are not added together: the grand total is not calls + calls-outbound + ….
    let naive: i64 = records
        .iter()
        .filter(|r| r.category.as_deref() != Some("totalprice"))
        .map(|r| r.price.0)
        .sum();
    assert_ne!(naive, total.price.0);

    // November: only CA-A6 (0.25).
    let r = app
        .get(
            "/billing/usage?accountId=acc-a&startDate=2026-11-01&endDate=2026-11-30",
            Some(&t),
        )
        .await;
    let nov: Vec<UsageRecordInfo> = serde_json::from_slice(&r.body).unwrap();
    let calls = nov
        .iter()
        .find(|r| r.category.as_deref() == Some("calls"))
        .unwrap();
    assert_eq!((calls.count, calls.price), (1, m("0.25")));
    assert_eq!(evo_billing_core::aggregate::grand_total(&nov), m("0.25"));

    // Daily: one record per category per day of October.
    let r = app
        .get(
            &format!("/billing/usage?{OCT_A}&granularity=daily"),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let daily: Vec<UsageRecordInfo> = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(daily.len(), 31 * 12);
    for day in 1..=31 {
        let date = format!("2026-10-{day:02}");
        let of_day: Vec<&UsageRecordInfo> = daily
            .iter()
            .filter(|r| r.start_date.as_deref() == Some(&date))
            .collect();
        assert_eq!(of_day.len(), 12, "{date}");
        let mut cats: Vec<&str> = of_day
            .iter()
            .map(|r| r.category.as_deref().unwrap())
            .collect();
        cats.sort();
        cats.dedup();
        assert_eq!(cats.len(), 12, "{date}: one record per category");
        assert!(of_day.iter().all(|r| r.end_date.as_deref() == Some(&date)));
        let calls = of_day
            .iter()
            .find(|r| r.category.as_deref() == Some("calls"))
            .unwrap();
        let numbers = of_day
            .iter()
            .find(|r| r.category.as_deref() == Some("phonenumbers-local"))
            .unwrap();
        let total = of_day
            .iter()
            .find(|r| r.category.as_deref() == Some("totalprice"))
            .unwrap();
        match day {
            1 => {
                assert_eq!(calls.count, 0);
                assert_eq!(numbers.count, 2);
                assert_eq!(total.price, m("2.3"));
            }
            5 => {
                assert_eq!(calls.count, 5);
                assert_eq!(numbers.count, 0);
                // 2.093 + 0.005 + 0.0237 = 2.1217
                assert_eq!(total.price, m("2.12"));
            }
            _ => {
                assert_eq!(calls.count, 0, "{date}");
                assert_eq!(total.price, Micros(0), "{date}");
            }
        }
    }
    // Case-insensitive enum value; an unknown one names the field.
    let r = app
        .get(
            &format!("/billing/usage?{OCT_A}&granularity=Monthly"),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let monthly: Vec<UsageRecordInfo> = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(monthly.len(), 12);
    let r = app
        .get(
            &format!("/billing/usage?{OCT_A}&granularity=hourly"),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["Granularity"]);
}

/// Amounts are rounded to the account currency's precision (JPY 0, KWD 3), half away from zero,
/// once, in GetBilling, ListUsageRecords and the report file.
async fn currency_precision(backend: Backend) {
    use evo_billing_core::money::Currency;
    use evo_billing_server::model::{Account, Customer, Direction};
    let app = TestApp::new(backend).await;
    app.db
        .accounts()
        .insert(&[
            Account {
                id: "acc-j".into(),
                name: "Yen Telecom".into(),
                account_sid: "ACjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj".into(),
                home_country: "JP".into(),
                currency: Currency::new("JPY").unwrap(),
            },
            Account {
                id: "acc-k".into(),
                name: "Dinar Telecom".into(),
                account_sid: "ACkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk".into(),
                home_country: "KW".into(),
                currency: Currency::new("KWD").unwrap(),
            },
        ])
        .await
        .unwrap();
    let root = |id: &str, acc: &str| Customer {
        id: id.into(),
        account_id: acc.into(),
        parent_id: None,
        name: id.into(),
    };
    app.db
        .accounts()
        .insert_customers(&[root("cus-j1", "acc-j"), root("cus-k1", "acc-k")])
        .await
        .unwrap();
    let out = Direction::Outbound;
    // Each call in its account's currency (the store refuses mixed currencies).
    let jpy = Currency::new("JPY").unwrap();
    let kwd = Currency::new("KWD").unwrap();
    let in_currency = |c: evo_billing_server::model::CallRecord, cur| {
        evo_billing_server::model::CallRecord { currency: cur, ..c }
    };
    app.db
        .ledger()
        .insert_calls(
            &[
                // JPY: 123.5 + 10.25 = 133.75 → 134 (each alone: 124 + 10 = 134 too; 0.5s add up).
                in_currency(
                    call("acc-j", "CA-J1", OCT5_NOON, out, "US", 60, "123.5", 0, "0"),
                    jpy,
                ),
                in_currency(
                    call(
                        "acc-j",
                        "CA-J2",
                        OCT5_NOON + 1,
                        out,
                        "GB",
                        60,
                        "10.25",
                        0,
                        "0",
                    ),
                    jpy,
                ),
                // KWD: 1.2345 → 1.235.
                in_currency(
                    call("acc-k", "CA-K1", OCT5_NOON, out, "US", 60, "1.2345", 0, "0"),
                    kwd,
                ),
            ],
            true,
        )
        .await
        .unwrap();
    let admin = app.sign_in(ADMIN).await;
    for (acc, cus, sid) in [
        ("acc-j", "cus-j1", "CA-J1"),
        ("acc-j", "cus-j1", "CA-J2"),
        ("acc-k", "cus-k1", "CA-K1"),
    ] {
        let r = app
            .post_json(
                "/billables",
                Some(&admin),
                json!({"accountId": acc, "customerId": cus, "callSid": sid}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    }
    let q = |acc: &str| format!("accountId={acc}&startDate=2026-10-01&endDate=2026-10-31");
    let r = app
        .get(&format!("/billing?{}", q("acc-j")), Some(&admin))
        .await;
    assert_eq!(
        r.json(),
        json!({"customers": [{"customerId": "cus-j1", "internationalCosts": 134, "hasCallRecording": false}]})
    );
    let r = app
        .get(&format!("/billing.csv?{}", q("acc-k")), Some(&admin))
        .await;
    assert_eq!(
        r.text(),
        "CustomerId,InternationalCosts,HasCallRecording\r\ncus-k1,1.235,False\r\n"
    );
    let r = app
        .get(&format!("/billing/usage?{}", q("acc-j")), Some(&admin))
        .await;
    let records: Vec<UsageRecordInfo> = serde_json::from_slice(&r.body).unwrap();
    let total = records
        .iter()
        .find(|r| r.category.as_deref() == Some("totalprice"))
        .unwrap();
    assert_eq!(total.price, Micros(134_000_000));
    assert_eq!(total.price_unit.as_deref(), Some("jpy"));
    assert_eq!(total.usage.as_deref(), Some("134"));
    // The report file writes exactly the currency's decimals.
    let r = app
        .post_json(
            "/reports/billing",
            Some(&admin),
            json!({"accountId": "acc-k", "startDate": "2026-10-01", "endDate": "2026-10-31"}),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    app.wait_for_report(&admin, &id, std::time::Duration::from_secs(20))
        .await;
    let csv = app
        .get(&format!("/reports/{id}/download.csv"), Some(&admin))
        .await
        .text();
    assert!(csv.contains("cus-k1,cus-k1,1,1,1.235,0,False\r\n"), "{csv}");
    assert!(csv.ends_with("Total,,1,1,1.235,0,\r\n"), "{csv}");
}

/// Weekly periods are ISO weeks (Monday first), clipped to the range; monthly ones calendar
/// months, clipped.
async fn usage_periods(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let r = app
        .get(
            &format!("/billing/usage?{OCT_A}&granularity=weekly"),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let weekly: Vec<UsageRecordInfo> = serde_json::from_slice(&r.body).unwrap();
    let mut periods: Vec<(String, String)> = weekly
        .iter()
        .map(|r| (r.start_date.clone().unwrap(), r.end_date.clone().unwrap()))
        .collect();
    periods.dedup();
    let p = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        periods,
        [
            p("2026-10-01", "2026-10-04"),
            p("2026-10-05", "2026-10-11"),
            p("2026-10-12", "2026-10-18"),
            p("2026-10-19", "2026-10-25"),
            p("2026-10-26", "2026-10-31"),
        ]
    );
    assert_eq!(weekly.len(), 5 * 12);
    let cell = |start: &str, category: &str| {
        weekly
            .iter()
            .find(|r| {
                r.start_date.as_deref() == Some(start) && r.category.as_deref() == Some(category)
            })
            .map(|r| (r.count, r.price))
            .unwrap()
    };
    assert_eq!(
        cell("2026-10-01", "phonenumbers"),
        (2, "2.3".parse().unwrap())
    );
    assert_eq!(cell("2026-10-05", "calls"), (5, "2.09".parse().unwrap()));
    assert_eq!(cell("2026-10-05", "totalprice").1, "2.12".parse().unwrap());
    let r = app
        .get(
            "/billing/usage?accountId=acc-a&startDate=2026-09-15&endDate=2026-11-15&granularity=monthly",
            Some(&t),
        )
        .await;
    let monthly: Vec<UsageRecordInfo> = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(monthly.len(), 3 * 12);
    let totals: Vec<(String, String, Micros)> = monthly
        .iter()
        .filter(|r| r.category.as_deref() == Some("totalprice"))
        .map(|r| {
            (
                r.start_date.clone().unwrap(),
                r.end_date.clone().unwrap(),
                r.price,
            )
        })
        .collect();
    assert_eq!(
        totals,
        [
            ("2026-09-15".into(), "2026-09-30".into(), Micros(0)),
            (
                "2026-10-01".into(),
                "2026-10-31".into(),
                "4.42".parse().unwrap()
            ),
            (
                "2026-11-01".into(),
                "2026-11-15".into(),
                "0.25".parse().unwrap()
            ),
        ]
    );
}

/// A list answer with no rows still has its CSV header (docs/API.md: "the header is written even
/// with no rows").
async fn empty_csv_keeps_its_header(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let r = app
        .get(
            "/billing.csv?accountId=acc-a&startDate=2026-12-01&endDate=2026-12-31",
            Some(&t),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.text(),
        "CustomerId,InternationalCosts,HasCallRecording\r\n"
    );
    // The reports list of a caller with none.
    let r = app.get("/reports.csv", Some(&t)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().starts_with("Id,"), "{:?}", r.text());
}

on_both_backends!(
    billing_in_every_format,
    usage_in_every_format,
    precedence,
    jsonp,
    report_info_in_every_format,
    errors_in_every_format,
    usage_numbers_are_exact,
    currency_precision,
    usage_periods,
    empty_csv_keeps_its_header,
);
