//! The billing report's data and the files made from it.
//!
//! A report is one row per customer of the account ([`ReportRow`]) plus totals. It is written as
//! CSV ([`to_csv`], the download ServiceStack clients expect), as an Excel workbook ([`to_xlsx`],
//! what the original service offers) and as JSON ([`to_json`], the `data` of the webhook payload).
//!
//! Money stays exact: every amount is [`Micros`], totals are integer sums, and rounding to the
//! currency's precision happens only when a value is written.

use evo_billing_core::csv::escape_text;
use evo_billing_core::money::Micros;
use rust_xlsxwriter::{Format, FormatBorder, Formula, Workbook, Worksheet, XlsxError};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// One customer's line of the billing report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    pub customer_id: String,
    pub customer_name: String,
    /// The customer's path in the account's tree: `Root / Child / Grandchild`.
    pub breadcrumb: String,
    pub billed_calls: i64,
    pub international_calls: i64,
    pub international_costs: Micros,
    pub recorded_calls: i64,
    pub has_call_recording: bool,
}

/// Everything a report file is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportData {
    pub account_id: String,
    pub account_name: String,
    /// `YYYY-MM-DD`, inclusive.
    pub start_date: String,
    /// `YYYY-MM-DD`, inclusive.
    pub end_date: String,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
    /// Minor-unit digits of the currency (2 for USD): amounts are written with exactly this many.
    pub currency_decimals: u32,
    /// Whether the rows carry the customers' IDs (the request's `includeCustomerIds`).
    pub include_customer_ids: bool,
    pub rows: Vec<ReportRow>,
}

/// The report's totals: exact sums over all rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportTotals {
    pub customers: i64,
    pub billed_calls: i64,
    pub international_calls: i64,
    pub international_costs: Micros,
    pub recorded_calls: i64,
    /// How many customers had at least one recorded call.
    pub customers_with_call_recording: i64,
}

impl ReportData {
    /// Exact totals (integer sums; money in micros, not rounded).
    pub fn totals(&self) -> ReportTotals {
        let mut t = ReportTotals::default();
        for r in &self.rows {
            t.customers += 1;
            t.billed_calls = t.billed_calls.saturating_add(r.billed_calls);
            t.international_calls = t.international_calls.saturating_add(r.international_calls);
            t.international_costs += r.international_costs;
            t.recorded_calls = t.recorded_calls.saturating_add(r.recorded_calls);
            if r.has_call_recording {
                t.customers_with_call_recording += 1;
            }
        }
        t
    }

    fn decimals(&self) -> u32 {
        self.currency_decimals.min(6)
    }

    /// Rounded to the currency's precision, as written on the wire.
    fn amount(&self, value: Micros) -> Micros {
        value.round_to(self.decimals())
    }
}

/// The CSV columns, in order (without `CustomerId` unless the report includes IDs).
fn csv_header(include_customer_ids: bool) -> &'static str {
    if include_customer_ids {
        "CustomerId,Customer,Breadcrumb,BilledCalls,InternationalCalls,InternationalCosts,RecordedCalls,HasCallRecording\r\n"
    } else {
        "Customer,Breadcrumb,BilledCalls,InternationalCalls,InternationalCosts,RecordedCalls,HasCallRecording\r\n"
    }
}

/// The report as CSV (ServiceStack conventions: PascalCase header, `\r\n` rows, fields quoted
/// when they contain `"`, `,` or a line break, booleans `True`/`False`); text that a spreadsheet
/// would run as a formula starts with `'`.
///
/// Amounts have exactly `currency_decimals` places. The last row is `Total`: summed counts and
/// the exact sum of the costs (rounded once, at the end), with an empty `HasCallRecording`.
pub fn to_csv(data: &ReportData) -> String {
    let decimals = data.decimals();
    let mut out = String::with_capacity(128 + data.rows.len() * 96);
    out.push_str(csv_header(data.include_customer_ids));
    let mut line: Vec<String> = Vec::with_capacity(8);
    for r in &data.rows {
        line.clear();
        if data.include_customer_ids {
            line.push(escape_text(&r.customer_id).into_owned());
        }
        line.push(escape_text(&r.customer_name).into_owned());
        line.push(escape_text(&r.breadcrumb).into_owned());
        line.push(r.billed_calls.to_string());
        line.push(r.international_calls.to_string());
        line.push(r.international_costs.format_fixed(decimals));
        line.push(r.recorded_calls.to_string());
        line.push(
            if r.has_call_recording {
                "True"
            } else {
                "False"
            }
            .to_string(),
        );
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    let t = data.totals();
    line.clear();
    if data.include_customer_ids {
        line.push(String::new());
    }
    line.push("Total".into());
    line.push(String::new());
    line.push(t.billed_calls.to_string());
    line.push(t.international_calls.to_string());
    line.push(t.international_costs.format_fixed(decimals));
    line.push(t.recorded_calls.to_string());
    line.push(String::new());
    out.push_str(&line.join(","));
    out.push_str("\r\n");
    out
}

/// Excel's number format for an amount with `decimals` places: `#,##0.00` for 2.
fn money_format(decimals: u32) -> String {
    if decimals == 0 {
        "#,##0".to_string()
    } else {
        format!("#,##0.{}", "0".repeat(decimals as usize))
    }
}

/// `A`, `B`, … `Z`, `AA`: the letters of a zero-based column.
fn column_letters(mut col: u16) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// The report as an Excel workbook (`.xlsx` bytes).
///
/// One worksheet, `Billing`: a title (account) and the range, a bold header row, a row per
/// customer (numbers for counts and money, money with a currency number format, booleans as
/// TRUE/FALSE), then a total row whose `SUM` formulas carry the exact totals as their cached
/// results (so viewers that do not recalculate show the right numbers). Panes are frozen below
/// the header; columns are auto-fitted.
pub fn to_xlsx(data: &ReportData) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    write_sheet(sheet, data)?;
    workbook.save_to_buffer()
}

fn write_sheet(sheet: &mut Worksheet, data: &ReportData) -> Result<(), XlsxError> {
    const TITLE_ROW: u32 = 0;
    const RANGE_ROW: u32 = 1;
    const HEADER_ROW: u32 = 3;
    const FIRST_DATA_ROW: u32 = HEADER_ROW + 1;

    let decimals = data.decimals();
    sheet.set_name("Billing")?;

    let title = Format::new().set_bold().set_font_size(14);
    let header = Format::new()
        .set_bold()
        .set_border_bottom(FormatBorder::Thin);
    let money = Format::new().set_num_format(money_format(decimals));
    let count = Format::new().set_num_format("#,##0");
    let total_label = Format::new().set_bold().set_border_top(FormatBorder::Thin);
    let total_count = Format::new()
        .set_bold()
        .set_border_top(FormatBorder::Thin)
        .set_num_format("#,##0");
    let total_money = Format::new()
        .set_bold()
        .set_border_top(FormatBorder::Thin)
        .set_num_format(money_format(decimals));
    let total_blank = Format::new().set_border_top(FormatBorder::Thin);

    let account = if data.account_name.is_empty() {
        data.account_id.clone()
    } else if data.account_id.is_empty() || data.account_id == data.account_name {
        data.account_name.clone()
    } else {
        format!("{} ({})", data.account_name, data.account_id)
    };
    sheet.write_string_with_format(TITLE_ROW, 0, format!("Billing report: {account}"), &title)?;
    sheet.write_string(
        RANGE_ROW,
        0,
        format!(
            "{} to {} (amounts in {})",
            data.start_date, data.end_date, data.currency
        ),
    )?;

    let mut headers: Vec<&str> = Vec::with_capacity(8);
    if data.include_customer_ids {
        headers.push("Customer ID");
    }
    headers.extend([
        "Customer",
        "Breadcrumb",
        "Billed calls",
        "International calls",
        "International costs",
        "Recorded calls",
        "Has call recording",
    ]);
    let money_header = format!("International costs ({})", data.currency);
    for (col, h) in headers.iter().enumerate() {
        let text = if *h == "International costs" && !data.currency.is_empty() {
            money_header.as_str()
        } else {
            h
        };
        sheet.write_string_with_format(HEADER_ROW, col as u16, text, &header)?;
    }

    let offset: u16 = if data.include_customer_ids { 1 } else { 0 };
    let (c_name, c_crumb, c_billed, c_intl, c_cost, c_rec, c_has) = (
        offset,
        offset + 1,
        offset + 2,
        offset + 3,
        offset + 4,
        offset + 5,
        offset + 6,
    );

    let mut row = FIRST_DATA_ROW;
    for r in &data.rows {
        if data.include_customer_ids {
            sheet.write_string(row, 0, &r.customer_id)?;
        }
        sheet.write_string(row, c_name, &r.customer_name)?;
        sheet.write_string(row, c_crumb, &r.breadcrumb)?;
        sheet.write_number_with_format(row, c_billed, r.billed_calls as f64, &count)?;
        sheet.write_number_with_format(row, c_intl, r.international_calls as f64, &count)?;
        // The unrounded amount, displayed at the currency's precision: the SUM below then
        // recalculates to the exact total, whatever the viewer.
        sheet.write_number_with_format(row, c_cost, r.international_costs.to_f64(), &money)?;
        sheet.write_number_with_format(row, c_rec, r.recorded_calls as f64, &count)?;
        sheet.write_boolean(row, c_has, r.has_call_recording)?;
        row += 1;
    }

    let total_row = row;
    let t = data.totals();
    let sum = |col: u16, result: String| {
        let letters = column_letters(col);
        let formula = if data.rows.is_empty() {
            "0".to_string()
        } else {
            // A1 references are 1-based.
            format!(
                "SUM({letters}{}:{letters}{})",
                FIRST_DATA_ROW + 1,
                total_row
            )
        };
        Formula::new(formula).set_result(result)
    };
    if data.include_customer_ids {
        sheet.write_blank(total_row, 0, &total_blank)?;
    }
    sheet.write_string_with_format(total_row, c_name, "Total", &total_label)?;
    sheet.write_blank(total_row, c_crumb, &total_blank)?;
    sheet.write_formula_with_format(
        total_row,
        c_billed,
        sum(c_billed, t.billed_calls.to_string()),
        &total_count,
    )?;
    sheet.write_formula_with_format(
        total_row,
        c_intl,
        sum(c_intl, t.international_calls.to_string()),
        &total_count,
    )?;
    sheet.write_formula_with_format(
        total_row,
        c_cost,
        sum(c_cost, t.international_costs.to_string()),
        &total_money,
    )?;
    sheet.write_formula_with_format(
        total_row,
        c_rec,
        sum(c_rec, t.recorded_calls.to_string()),
        &total_count,
    )?;
    sheet.write_blank(total_row, c_has, &total_blank)?;

    sheet.set_freeze_panes(FIRST_DATA_ROW, 0)?;
    sheet.autofit();
    // The title and range sit in column A; keep that column from growing to their width.
    let first_col_width = if data.include_customer_ids { 14 } else { 24 };
    let max_width = data
        .rows
        .iter()
        .map(|r| {
            if data.include_customer_ids {
                r.customer_id.chars().count()
            } else {
                r.customer_name.chars().count()
            }
        })
        .chain(std::iter::once(headers[0].len()))
        .max()
        .unwrap_or(0)
        .clamp(first_col_width, 60);
    sheet.set_column_width(0, max_width as f64 + 2.0)?;
    Ok(())
}

/// The report as JSON: the webhook payload's `data`.
///
/// `{accountId, accountName, startDate, endDate, currency, rows: [...], totals: {...}}`; money
/// is a JSON number rounded to the currency's precision (totals are the exact sum, rounded once).
/// Rows have no `customerId` unless the report includes customer IDs.
pub fn to_json(data: &ReportData) -> Value {
    let rows: Vec<Value> = data
        .rows
        .iter()
        .map(|r| {
            let mut m = Map::new();
            if data.include_customer_ids {
                m.insert("customerId".into(), json!(r.customer_id));
            }
            m.insert("customerName".into(), json!(r.customer_name));
            m.insert("breadcrumb".into(), json!(r.breadcrumb));
            m.insert("billedCalls".into(), json!(r.billed_calls));
            m.insert("internationalCalls".into(), json!(r.international_calls));
            m.insert(
                "internationalCosts".into(),
                json!(data.amount(r.international_costs)),
            );
            m.insert("recordedCalls".into(), json!(r.recorded_calls));
            m.insert("hasCallRecording".into(), json!(r.has_call_recording));
            Value::Object(m)
        })
        .collect();
    let t = data.totals();
    json!({
        "accountId": data.account_id,
        "accountName": data.account_name,
        "startDate": data.start_date,
        "endDate": data.end_date,
        "currency": data.currency,
        "rows": rows,
        "totals": {
            "customers": t.customers,
            "billedCalls": t.billed_calls,
            "internationalCalls": t.international_calls,
            "internationalCosts": data.amount(t.international_costs),
            "recordedCalls": t.recorded_calls,
            "customersWithCallRecording": t.customers_with_call_recording,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Micros {
        s.parse().unwrap()
    }

    fn sample(include_customer_ids: bool) -> ReportData {
        ReportData {
            account_id: "acc1".into(),
            account_name: "Acme Telecom".into(),
            start_date: "2026-03-01".into(),
            end_date: "2026-03-31".into(),
            currency: "USD".into(),
            currency_decimals: 2,
            include_customer_ids,
            rows: vec![
                ReportRow {
                    customer_id: "c1".into(),
                    customer_name: "Smith, \"Jones\" & Co".into(),
                    breadcrumb: "Root / Smith, \"Jones\" & Co".into(),
                    billed_calls: 10,
                    international_calls: 3,
                    international_costs: m("0.1"),
                    recorded_calls: 2,
                    has_call_recording: true,
                },
                ReportRow {
                    customer_id: "c,2".into(),
                    customer_name: "Beta".into(),
                    breadcrumb: "Root / Beta".into(),
                    billed_calls: 5,
                    international_calls: 1,
                    international_costs: m("0.2"),
                    recorded_calls: 0,
                    has_call_recording: false,
                },
            ],
        }
    }

    #[test]
    fn csv_without_ids() {
        assert_eq!(
            to_csv(&sample(false)),
            "Customer,Breadcrumb,BilledCalls,InternationalCalls,InternationalCosts,RecordedCalls,HasCallRecording\r\n\
             \"Smith, \"\"Jones\"\" & Co\",\"Root / Smith, \"\"Jones\"\" & Co\",10,3,0.10,2,True\r\n\
             Beta,Root / Beta,5,1,0.20,0,False\r\n\
             Total,,15,4,0.30,2,\r\n"
        );
    }

    #[test]
    fn csv_with_ids() {
        assert_eq!(
            to_csv(&sample(true)),
            "CustomerId,Customer,Breadcrumb,BilledCalls,InternationalCalls,InternationalCosts,RecordedCalls,HasCallRecording\r\n\
             c1,\"Smith, \"\"Jones\"\" & Co\",\"Root / Smith, \"\"Jones\"\" & Co\",10,3,0.10,2,True\r\n\
             \"c,2\",Beta,Root / Beta,5,1,0.20,0,False\r\n\
             ,Total,,15,4,0.30,2,\r\n"
        );
    }

    #[test]
    fn csv_cells_are_never_formulas() {
        let mut data = sample(true);
        data.rows[0].customer_id = "@cmd".into();
        data.rows[0].customer_name = "=HYPERLINK(\"http://x\",\"y\")".into();
        data.rows[0].breadcrumb = "+1+2".into();
        data.rows[1].customer_name = "-Discounts".into();
        data.rows[1].breadcrumb = "Root / =fine inside".into();
        let csv = to_csv(&data);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[1],
            "'@cmd,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+1+2,10,3,0.10,2,True"
        );
        assert_eq!(
            lines[2],
            "\"c,2\",'-Discounts,Root / =fine inside,5,1,0.20,0,False"
        );
    }

    #[test]
    fn csv_total_is_the_exact_sum_rounded_once() {
        let mut data = sample(false);
        // Three rows of 0.005 each: each row rounds to 0.01, the exact total 0.015 to 0.02.
        data.rows = (0..3)
            .map(|i| ReportRow {
                customer_id: format!("c{i}"),
                customer_name: format!("C{i}"),
                breadcrumb: format!("C{i}"),
                billed_calls: 1,
                international_calls: 1,
                international_costs: m("0.005"),
                recorded_calls: 0,
                has_call_recording: false,
            })
            .collect();
        let csv = to_csv(&data);
        assert!(csv.contains("C0,C0,1,1,0.01,0,False\r\n"), "{csv}");
        assert!(csv.ends_with("Total,,3,3,0.02,0,\r\n"), "{csv}");

        // Other precisions: 0 and 3 decimals.
        let mut jpy = sample(false);
        jpy.currency = "JPY".into();
        jpy.currency_decimals = 0;
        jpy.rows[0].international_costs = m("120");
        jpy.rows[1].international_costs = m("35");
        assert!(to_csv(&jpy).ends_with("Total,,15,4,155,2,\r\n"));
        let mut kwd = sample(false);
        kwd.currency_decimals = 3;
        assert!(to_csv(&kwd).ends_with("Total,,15,4,0.300,2,\r\n"));
    }

    #[test]
    fn csv_of_an_empty_report_has_header_and_total() {
        let mut data = sample(true);
        data.rows.clear();
        assert_eq!(
            to_csv(&data),
            "CustomerId,Customer,Breadcrumb,BilledCalls,InternationalCalls,InternationalCosts,RecordedCalls,HasCallRecording\r\n\
             ,Total,,0,0,0.00,0,\r\n"
        );
    }

    #[test]
    fn json_shape() {
        let v = to_json(&sample(false));
        assert_eq!(
            v,
            json!({
                "accountId": "acc1",
                "accountName": "Acme Telecom",
                "startDate": "2026-03-01",
                "endDate": "2026-03-31",
                "currency": "USD",
                "rows": [
                    {"customerName": "Smith, \"Jones\" & Co", "breadcrumb": "Root / Smith, \"Jones\" & Co",
                     "billedCalls": 10, "internationalCalls": 3, "internationalCosts": 0.1,
                     "recordedCalls": 2, "hasCallRecording": true},
                    {"customerName": "Beta", "breadcrumb": "Root / Beta",
                     "billedCalls": 5, "internationalCalls": 1, "internationalCosts": 0.2,
                     "recordedCalls": 0, "hasCallRecording": false},
                ],
                "totals": {"customers": 2, "billedCalls": 15, "internationalCalls": 4,
                           "internationalCosts": 0.3, "recordedCalls": 2,
                           "customersWithCallRecording": 1},
            })
        );
        // 0.1 + 0.2 is written as 0.3, not 0.30000000000000004.
        assert!(v.to_string().contains("\"internationalCosts\":0.3,"));

        let with_ids = to_json(&sample(true));
        assert_eq!(with_ids["rows"][0]["customerId"], "c1");
        assert_eq!(with_ids["rows"][1]["customerId"], "c,2");
        // Key order: customerId first.
        let first_key = with_ids["rows"][0]
            .as_object()
            .unwrap()
            .keys()
            .next()
            .cloned();
        assert_eq!(first_key.as_deref(), Some("customerId"));
        assert!(v["rows"][0].get("customerId").is_none());
    }

    #[test]
    fn column_letters_are_excel_style() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(7), "H");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(money_format(2), "#,##0.00");
        assert_eq!(money_format(0), "#,##0");
        assert_eq!(money_format(3), "#,##0.000");
    }

    /// The names in a zip's central directory (no zip crate needed for that much).
    fn zip_entry_names(bytes: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        let mut i = 0;
        while i + 46 <= bytes.len() {
            if bytes[i..i + 4] == [0x50, 0x4b, 0x01, 0x02] {
                let len = u16::from_le_bytes([bytes[i + 28], bytes[i + 29]]) as usize;
                if i + 46 + len <= bytes.len() {
                    names.push(String::from_utf8_lossy(&bytes[i + 46..i + 46 + len]).into_owned());
                }
                i += 46 + len;
            } else {
                i += 1;
            }
        }
        names
    }

    #[test]
    fn xlsx_is_a_workbook() {
        for include_ids in [false, true] {
            let bytes = to_xlsx(&sample(include_ids)).unwrap();
            assert!(bytes.len() > 1000);
            assert_eq!(&bytes[..2], b"PK");
            let names = zip_entry_names(&bytes);
            for part in [
                "[Content_Types].xml",
                "xl/workbook.xml",
                "xl/worksheets/sheet1.xml",
                "xl/sharedStrings.xml",
                "xl/styles.xml",
            ] {
                assert!(
                    names.iter().any(|n| n == part),
                    "{part} missing in {names:?}"
                );
            }
        }
        let mut empty = sample(false);
        empty.rows.clear();
        assert!(to_xlsx(&empty).unwrap().starts_with(b"PK"));
    }

    /// With `unzip` on the machine, look inside: the sheet's name, the customers, the numbers
    /// and the total formulas with their exact cached results.
    #[test]
    fn xlsx_contents_when_unzip_is_available() {
        let ok = std::process::Command::new("unzip")
            .arg("-v")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("unzip not available: skipping the deep XLSX check");
            return;
        }
        let bytes = to_xlsx(&sample(true)).unwrap();
        let path = std::env::temp_dir().join(format!(
            "evo-billing-report-test-{}.xlsx",
            std::process::id()
        ));
        std::fs::write(&path, &bytes).unwrap();
        let read = |part: &str| {
            let out = std::process::Command::new("unzip")
                .arg("-p")
                .arg(&path)
                .arg(part)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let workbook = read("xl/workbook.xml");
        let strings = read("xl/sharedStrings.xml");
        let sheet = read("xl/worksheets/sheet1.xml");
        let styles = read("xl/styles.xml");
        let _ = std::fs::remove_file(&path);

        assert!(workbook.contains(r#"name="Billing""#), "{workbook}");
        assert!(
            strings.contains("Smith, &quot;Jones&quot; &amp; Co")
                || strings.contains("Smith, \"Jones\" &amp; Co"),
            "{strings}"
        );
        assert!(strings.contains("Beta"));
        assert!(strings.contains("Acme Telecom"));
        assert!(strings.contains("2026-03-01 to 2026-03-31"));
        assert!(strings.contains("Customer ID"));
        assert!(sheet.contains("<f>SUM(F5:F6)</f><v>0.3</v>"), "{sheet}");
        assert!(sheet.contains("<f>SUM(D5:D6)</f><v>15</v>"), "{sheet}");
        assert!(sheet.contains(r#"t="b""#), "booleans: {sheet}");
        assert!(sheet.contains("<v>0.1</v>") && sheet.contains("<v>0.2</v>"));
        assert!(sheet.contains(r#"state="frozen""#), "{sheet}");
        assert!(styles.contains("#,##0.00"), "{styles}");
    }
}
