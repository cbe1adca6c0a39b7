//! Reading an account's customer tree from CSV (`import-customers FILE.csv --account ID`).
//!
//! Columns (a header row names them, case-insensitively, ignoring spaces, underscores and
//! hyphens; order is free; extra columns are ignored):
//!
//! | column | required | what |
//! |---|---|---|
//! | `Id` (or `CustomerId`) | yes | the customer's id, unique in the whole database |
//! | `Name` | yes | its name |
//! | `Parent` (or `ParentId`, `ParentCustomerId`) | no | the parent's id: a customer of the file or of the account; empty for a root |
//!
//! Ids and names follow the same rules as CreateCustomer (core's validation). Parents may come
//! after their children in the file. A row is rejected, with its line and the reason, when its id
//! is repeated in the file, its parent is unknown, its parent chain is a cycle, or its parent was
//! itself rejected; the other rows load.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use evo_billing_core::dto::CreateCustomer;
use evo_billing_core::validation::Validate;

use super::csv_reader::{Bytes, Raw, Records};
use super::ledger_csv::HeaderError;
use super::ImportReport;

const MAX_RECORD_BYTES: usize = 64 * 1024;

/// One accepted line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerLine {
    pub line: u64,
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
}

/// The file, read: good lines, and what was skipped or rejected.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<CustomerLine>,
    pub skipped: u64,
    pub rejected: Vec<(u64, String)>,
}

fn normalize(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Which column a header names: 0 id, 1 name, 2 parent.
fn column_of(header: &str) -> Option<usize> {
    match normalize(header).as_str() {
        "id" | "customerid" => Some(0),
        "name" | "customername" => Some(1),
        "parent" | "parentid" | "parentcustomerid" => Some(2),
        _ => None,
    }
}

/// Reads the whole file (a customer tree is small: 10,000 customers are about 500 KB).
pub fn read<R: Read>(reader: R) -> Result<Parsed, HeaderError> {
    let mut records = Records {
        src: Bytes::new(reader)?,
        line: 1,
        done: false,
        max_record: MAX_RECORD_BYTES,
    };
    let mut parsed = Parsed::default();
    let mut cols: Option<[Option<usize>; 3]> = None;
    let mut header_norm: Vec<String> = Vec::new();
    loop {
        let raw = match records.next_record() {
            Err((line, e)) => {
                return Err(HeaderError::Invalid(format!(
                    "line {line}: cannot read the file: {e}"
                )))
            }
            Ok(None) => break,
            Ok(Some(raw)) => raw,
        };
        let (line, fields) = match raw {
            Raw::Comment { .. } => {
                parsed.skipped += 1;
                continue;
            }
            Raw::Broken { line, reason } => {
                parsed.rejected.push((line, reason));
                continue;
            }
            Raw::Fields { line, fields } => (line, fields),
        };
        let texts: Vec<String> = match fields
            .into_iter()
            .map(String::from_utf8)
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(t) => t,
            Err(_) => {
                parsed
                    .rejected
                    .push((line, format!("line {line}: the row is not valid UTF-8")));
                continue;
            }
        };
        if texts.iter().all(|t| t.trim().is_empty()) {
            parsed.skipped += 1;
            continue;
        }
        let Some(c) = cols else {
            let mut found = [None; 3];
            for (i, h) in texts.iter().enumerate() {
                if let Some(c) = column_of(h) {
                    found[c].get_or_insert(i);
                }
            }
            if found[0].is_none() || found[1].is_none() {
                return Err(HeaderError::Invalid(format!(
                    "line {line}: the header must name the columns Id and Name (and optionally Parent); it has: {}",
                    texts.join(", ")
                )));
            }
            header_norm = texts.iter().map(|t| normalize(t)).collect();
            cols = Some(found);
            continue;
        };
        if texts.iter().map(|t| normalize(t)).collect::<Vec<_>>() == header_norm {
            parsed.skipped += 1;
            continue;
        }
        let get = |i: Option<usize>| {
            i.and_then(|i| texts.get(i))
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        };
        let request = CreateCustomer {
            account_id: Some("-".into()),
            id: get(c[0]),
            name: get(c[1]),
            parent_id: get(c[2]),
        };
        if request.id.is_none() {
            parsed
                .rejected
                .push((line, format!("line {line}: 'Id' must not be empty")));
            continue;
        }
        match request.validate() {
            Ok(v) => parsed.rows.push(CustomerLine {
                line,
                id: v.id.unwrap_or_default(),
                name: v.name,
                parent: v.parent_id,
            }),
            Err(e) => parsed.rejected.push((line, format!("line {line}: {e}"))),
        }
    }
    if cols.is_none() {
        return Err(HeaderError::Invalid(
            "the file is empty: expected a header row naming the columns Id, Name, Parent".into(),
        ));
    }
    Ok(parsed)
}

/// Orders the lines so every parent comes before its children, rejecting (into `report`) the
/// lines that cannot be placed. `existing` holds the account's customers (id → parent); a line
/// whose id exists already is skipped, not rejected.
pub fn order(
    rows: Vec<CustomerLine>,
    existing: &HashMap<String, Option<String>>,
    report: &mut ImportReport,
) -> Vec<CustomerLine> {
    let mut by_id: HashMap<String, CustomerLine> = HashMap::new();
    let mut file_order: Vec<String> = Vec::new();
    for r in rows {
        if existing.contains_key(&r.id) {
            report.skipped += 1;
        } else if let Some(first) = by_id.get(&r.id) {
            report.rejected.push((
                r.line,
                format!(
                    "line {}: customer '{}' is already on line {}",
                    r.line, r.id, first.line
                ),
            ));
        } else {
            file_order.push(r.id.clone());
            by_id.insert(r.id.clone(), r);
        }
    }
    // Resolve each line's chain of parents within the file: placed (ok), or rejected (why).
    let mut placed: HashSet<String> = HashSet::new();
    let mut failed: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(by_id.len());
    for id in &file_order {
        let mut chain: Vec<String> = Vec::new();
        let mut cursor = id.clone();
        let verdict: Result<(), String> = loop {
            if placed.contains(&cursor) {
                break Ok(());
            }
            if let Some(why) = failed.get(&cursor) {
                break Err(why.clone());
            }
            if chain.contains(&cursor) {
                break Err(format!(
                    "its parents form a cycle ({} → {cursor})",
                    chain.join(" → ")
                ));
            }
            let Some(line) = by_id.get(&cursor) else {
                break Ok(());
            };
            chain.push(cursor.clone());
            match &line.parent {
                None => break Ok(()),
                Some(p) if existing.contains_key(p) => break Ok(()),
                Some(p) if by_id.contains_key(p) => cursor = p.clone(),
                Some(p) => {
                    break Err(format!(
                        "its parent '{p}' is neither in the file nor in the account"
                    ))
                }
            }
        };
        // Place the chain root-first, or reject all of it.
        for c in chain.iter().rev() {
            if placed.contains(c) || failed.contains_key(c) {
                continue;
            }
            match &verdict {
                Ok(()) => {
                    placed.insert(c.clone());
                    if let Some(line) = by_id.get(c) {
                        out.push(line.clone());
                    }
                }
                Err(why) => {
                    failed.insert(c.clone(), why.clone());
                    if let Some(line) = by_id.get(c) {
                        report.rejected.push((
                            line.line,
                            format!("line {}: customer '{}': {why}", line.line, c),
                        ));
                    }
                }
            }
        }
    }
    report.rejected.sort_by_key(|(line, _)| *line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(csv: &str, existing: &[(&str, Option<&str>)]) -> (Vec<String>, ImportReport) {
        let parsed = read(csv.as_bytes()).unwrap();
        let mut report = ImportReport {
            skipped: parsed.skipped,
            rejected: parsed.rejected,
            ..Default::default()
        };
        let existing = existing
            .iter()
            .map(|(a, b)| (a.to_string(), b.map(str::to_string)))
            .collect();
        let rows = order(parsed.rows, &existing, &mut report);
        (rows.into_iter().map(|r| r.id).collect(), report)
    }

    #[test]
    fn parents_come_first_whatever_the_file_order() {
        let (ids, report) = plan(
            "Name,Parent,Id\nEMEA,sales,emea\nSales,acme,sales\nAcme,,acme\n\"Globex, Inc.\",old,globex\n",
            &[("old", None)],
        );
        assert_eq!(ids, ["acme", "sales", "emea", "globex"]);
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    }

    #[test]
    fn bad_rows_are_rejected_with_their_line() {
        let (ids, report) = plan(
            "id,name,parent\n# a comment\na,A,b\nb,B,a\nc,C,nowhere\nd,D,c\ne,E,\ne,E again,\nf,,\nexisting,X,\n",
            &[("existing", None)],
        );
        assert_eq!(ids, ["e"]);
        let lines: Vec<u64> = report.rejected.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [3, 4, 5, 6, 8, 9], "{:?}", report.rejected);
        assert!(
            report.rejected[0].1.contains("cycle"),
            "{:?}",
            report.rejected
        );
        assert!(
            report.rejected[2].1.contains("nowhere"),
            "{:?}",
            report.rejected
        );
        assert!(report.rejected[4].1.contains("already on line 7"));
        assert!(report.rejected[5].1.contains("Name"));
        assert_eq!(report.skipped, 2, "the comment and the existing id");
    }

    #[test]
    fn header_errors() {
        assert!(read(&b""[..]).is_err());
        let e = read(&b"Code,Title\n1,x\n"[..]).err().unwrap().to_string();
        assert!(e.contains("Id and Name"), "{e}");
    }
}
