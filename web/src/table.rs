//! The customers table: ListCustomers (names, tree) joined with GetBilling (costs), subtree
//! totals, sort, filter and paging. Pure, so 10,000 rows sort and filter in milliseconds and the
//! logic is tested without a browser.

use std::collections::HashMap;

use evo_billing_core::dto::{BillingInfo, CustomerInfo};
use evo_billing_core::money::Micros;

use crate::query::Direction;

/// Lower case, letter by letter (`str::to_lowercase`'s special cases would cost the wasm 4 KB for
/// nothing a filter needs).
pub fn lower(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_lower(&mut out, text);
    out
}

/// Appends `text` in lower case. ASCII (nearly every name and id) byte by byte: the Unicode
/// tables of `char::to_lowercase` cost 10,000 rows tens of milliseconds in the browser.
fn push_lower(out: &mut String, text: &str) {
    if text.is_ascii() {
        out.push_str(text);
        let start = out.len() - text.len();
        out[start..].make_ascii_lowercase();
    } else {
        out.extend(text.chars().flat_map(char::to_lowercase));
    }
}

/// Rows per page.
pub const PAGE_SIZE: usize = 50;

/// One customer with its figures for the range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomerRow {
    pub id: String,
    pub name: String,
    /// `Root / Parent / Name`.
    pub breadcrumb: String,
    pub depth: u32,
    pub parent_id: Option<String>,
    /// Position in the account's tree order.
    pub tree_index: usize,
    /// Has direct children.
    pub has_children: bool,
    /// From GetBilling; zero when the customer had no billed call.
    pub international_costs: Micros,
    /// This customer and everything below it.
    pub subtree_costs: Micros,
    pub has_call_recording: bool,
    /// Present in GetBilling's answer (at least one billed call in the range).
    pub billed: bool,
    /// Lower-case name, breadcrumb and id, for the filter.
    search: String,
}

/// The columns a table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// The account's tree order (parents before children).
    Tree,
    Name,
    Id,
    Cost,
    Subtree,
    Recording,
}

impl SortKey {
    pub const ALL: [SortKey; 6] = [
        SortKey::Tree,
        SortKey::Name,
        SortKey::Id,
        SortKey::Cost,
        SortKey::Subtree,
        SortKey::Recording,
    ];

    /// The URL's name.
    pub fn key(self) -> &'static str {
        match self {
            SortKey::Tree => "tree",
            SortKey::Name => "name",
            SortKey::Id => "id",
            SortKey::Cost => "cost",
            SortKey::Subtree => "subtree",
            SortKey::Recording => "recording",
        }
    }

    pub fn parse(text: Option<&str>) -> SortKey {
        text.and_then(|t| SortKey::ALL.into_iter().find(|k| k.key() == t))
            .unwrap_or(SortKey::Tree)
    }

    /// Amounts start highest first.
    pub fn starts_descending(self) -> bool {
        matches!(self, SortKey::Cost | SortKey::Subtree | SortKey::Recording)
    }
}

/// Joins the customer list (tree order) with a billing answer. A billed customer missing from
/// the list (a customer created after the list was read) is appended under its ID, so no cost
/// is ever dropped from the table.
pub fn build_rows(customers: &[CustomerInfo], billing: &BillingInfo) -> Vec<CustomerRow> {
    let mut rows: Vec<CustomerRow> = Vec::with_capacity(customers.len());
    // Ids borrowed from the answers: no key is copied.
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(customers.len());
    for c in customers {
        let id = c.id.as_deref().unwrap_or_default();
        if index.contains_key(id) {
            continue;
        }
        index.insert(id, rows.len());
        let name = c.name.as_deref().unwrap_or(id);
        rows.push(CustomerRow {
            breadcrumb: c.breadcrumb.as_deref().unwrap_or(name).to_string(),
            name: name.to_string(),
            depth: c.depth,
            parent_id: c.parent_id.clone().filter(|p| !p.is_empty()),
            tree_index: rows.len(),
            id: id.to_string(),
            ..CustomerRow::default()
        });
    }
    for b in &billing.customers {
        let id = b.customer_id.as_deref().unwrap_or_default();
        let i = match index.get(id) {
            Some(i) => *i,
            None => {
                index.insert(id, rows.len());
                rows.push(CustomerRow {
                    name: id.to_string(),
                    breadcrumb: id.to_string(),
                    tree_index: rows.len(),
                    id: id.to_string(),
                    ..CustomerRow::default()
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[i];
        row.international_costs += b.international_costs;
        row.has_call_recording |= b.has_call_recording;
        row.billed = true;
    }
    // Subtree totals: deepest first, each row adds its subtree to its parent's. Works in any
    // order of the list, not only parents-first.
    for r in rows.iter_mut() {
        r.subtree_costs = r.international_costs;
        let mut search = String::with_capacity(r.name.len() + r.breadcrumb.len() + r.id.len() + 2);
        push_lower(&mut search, &r.name);
        search.push('\u{1}');
        push_lower(&mut search, &r.breadcrumb);
        search.push('\u{1}');
        push_lower(&mut search, &r.id);
        r.search = search;
    }
    let mut by_depth: Vec<usize> = (0..rows.len()).collect();
    by_depth.sort_by_key(|i| std::cmp::Reverse(rows[*i].depth));
    for i in by_depth {
        let Some(parent) = rows[i]
            .parent_id
            .as_deref()
            .and_then(|p| index.get(p))
            .copied()
        else {
            continue;
        };
        if parent == i {
            continue;
        }
        let add = rows[i].subtree_costs;
        rows[parent].subtree_costs += add;
        rows[parent].has_children = true;
    }
    rows
}

/// The rows to show, as indices into `rows`: those matching `filter` (case-insensitive, on
/// name, breadcrumb and ID), in the order of `key` and `direction` (ties in tree order).
pub fn arrange(
    rows: &[CustomerRow],
    filter: &str,
    key: SortKey,
    direction: Direction,
) -> Vec<usize> {
    let needle = lower(filter.trim());
    let mut out: Vec<usize> = if needle.is_empty() {
        (0..rows.len()).collect()
    } else {
        (0..rows.len())
            .filter(|i| rows[*i].search.contains(&needle))
            .collect()
    };
    let tie = |a: &usize, b: &usize| rows[*a].tree_index.cmp(&rows[*b].tree_index);
    let ord = |a: &usize, b: &usize| {
        let (x, y) = (&rows[*a], &rows[*b]);
        match key {
            SortKey::Tree => std::cmp::Ordering::Equal,
            SortKey::Name => lower(&x.name).cmp(&lower(&y.name)),
            SortKey::Id => x.id.cmp(&y.id),
            SortKey::Cost => x.international_costs.cmp(&y.international_costs),
            SortKey::Subtree => x.subtree_costs.cmp(&y.subtree_costs),
            SortKey::Recording => x.has_call_recording.cmp(&y.has_call_recording),
        }
    };
    if key == SortKey::Name {
        // Lower-case once per row, not once per comparison.
        let lowered: Vec<String> = rows.iter().map(|r| lower(&r.name)).collect();
        out.sort_by(|a, b| {
            let o = lowered[*a].cmp(&lowered[*b]);
            let o = if direction == Direction::Descending {
                o.reverse()
            } else {
                o
            };
            o.then_with(|| tie(a, b))
        });
        return out;
    }
    out.sort_by(|a, b| {
        let o = ord(a, b);
        let o = if direction == Direction::Descending {
            o.reverse()
        } else {
            o
        };
        o.then_with(|| tie(a, b))
    });
    out
}

/// Number of pages for `n` rows (at least 1).
pub fn page_count(n: usize) -> u32 {
    n.div_ceil(PAGE_SIZE).max(1) as u32
}

/// The slice of `arranged` on page `page` (from 1; clamped to the last page).
pub fn page_slice(arranged: &[usize], page: u32) -> (&[usize], u32) {
    let last = page_count(arranged.len());
    let page = page.clamp(1, last);
    let start = (page as usize - 1) * PAGE_SIZE;
    let end = (start + PAGE_SIZE).min(arranged.len());
    (&arranged[start.min(end)..end], page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use evo_billing_core::dto::BillingCustomerInfo;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn customer(id: &str, name: &str, parent: Option<&str>, depth: u32) -> CustomerInfo {
        CustomerInfo {
            id: Some(id.into()),
            name: Some(name.into()),
            parent_id: parent.map(str::to_string),
            depth,
            breadcrumb: Some(name.into()),
            ..Default::default()
        }
    }

    fn billed(id: &str, cost: &str, rec: bool) -> BillingCustomerInfo {
        BillingCustomerInfo {
            customer_id: Some(id.into()),
            international_costs: cost.parse().unwrap(),
            has_call_recording: rec,
        }
    }

    fn sample() -> Vec<CustomerRow> {
        let customers = [
            customer("c1", "Acme", None, 0),
            customer("c2", "acme Sales", Some("c1"), 1),
            customer("c3", "Acme EMEA", Some("c2"), 2),
            customer("c4", "Zeta", None, 0),
            customer("c5", "<img src=x onerror=alert(1)>", None, 0),
        ];
        let billing = BillingInfo {
            customers: vec![
                billed("c1", "1.10", false),
                billed("c3", "2.25", true),
                billed("c4", "0.01", false),
                billed("c9", "5", false),
            ],
        };
        build_rows(&customers, &billing)
    }

    fn ids(rows: &[CustomerRow], order: &[usize]) -> Vec<String> {
        order.iter().map(|i| rows[*i].id.clone()).collect()
    }

    #[test]
    fn joins_and_sums_subtrees_exactly() {
        let rows = sample();
        assert_eq!(rows.len(), 6, "the unlisted billed customer is kept");
        assert_eq!(rows[0].subtree_costs.to_string(), "3.35");
        assert_eq!(rows[1].subtree_costs.to_string(), "2.25");
        assert_eq!(rows[1].international_costs, Micros::ZERO);
        assert!(rows[0].has_children && rows[1].has_children && !rows[2].has_children);
        assert!(!rows[1].billed && rows[2].billed);
        assert_eq!(rows[5].name, "c9");
        let total: Micros = rows.iter().map(|r| r.international_costs).sum();
        assert_eq!(total.to_string(), "8.36");
    }

    #[test]
    fn sorts_each_column_both_ways_ties_in_tree_order() {
        let rows = sample();
        let all = |k, d| ids(&rows, &arrange(&rows, "", k, d));
        assert_eq!(
            all(SortKey::Tree, Direction::Ascending),
            ["c1", "c2", "c3", "c4", "c5", "c9"]
        );
        assert_eq!(
            all(SortKey::Cost, Direction::Descending),
            ["c9", "c3", "c1", "c4", "c2", "c5"]
        );
        assert_eq!(
            all(SortKey::Cost, Direction::Ascending),
            ["c2", "c5", "c4", "c1", "c3", "c9"]
        );
        assert_eq!(
            all(SortKey::Subtree, Direction::Descending),
            ["c9", "c1", "c2", "c3", "c4", "c5"]
        );
        assert_eq!(
            all(SortKey::Name, Direction::Ascending),
            ["c5", "c1", "c3", "c2", "c9", "c4"]
        );
        assert_eq!(all(SortKey::Recording, Direction::Descending)[0], "c3");
        assert_eq!(all(SortKey::Id, Direction::Descending)[0], "c9");
    }

    #[test]
    fn filters_on_name_breadcrumb_and_id_case_insensitively() {
        let rows = sample();
        let f = |q| {
            ids(
                &rows,
                &arrange(&rows, q, SortKey::Tree, Direction::Ascending),
            )
        };
        assert_eq!(f("ACME"), ["c1", "c2", "c3"]);
        assert_eq!(f("  emea "), ["c3"]);
        assert_eq!(f("c4"), ["c4"]);
        assert_eq!(f("onerror"), ["c5"]);
        assert!(f("nothing like it").is_empty());
    }

    #[test]
    fn pages_clamp() {
        let order: Vec<usize> = (0..120).collect();
        assert_eq!(page_count(order.len()), 3);
        assert_eq!(page_count(0), 1);
        let (p, n) = page_slice(&order, 3);
        assert_eq!((p.len(), n, p[0]), (20, 3, 100));
        let (p, n) = page_slice(&order, 99);
        assert_eq!((p.len(), n), (20, 3));
        let (p, n) = page_slice(&[], 2);
        assert_eq!((p.len(), n), (0, 1));
    }

    #[test]
    fn ten_thousand_rows_arrange_quickly() {
        let customers: Vec<CustomerInfo> = (0..10_000)
            .map(|i| {
                let parent = (i % 10 != 0).then(|| format!("c{}", i - i % 10));
                customer(
                    &format!("c{i}"),
                    &format!("Customer {}", (i * 7919) % 10_000),
                    parent.as_deref(),
                    u32::from(i % 10 != 0),
                )
            })
            .collect();
        let billing = BillingInfo {
            customers: (0..10_000)
                .step_by(3)
                .map(|i| {
                    billed(
                        &format!("c{i}"),
                        &format!("{}.{:02}", i % 97, i % 100),
                        i % 2 == 0,
                    )
                })
                .collect(),
        };
        let rows = build_rows(&customers, &billing);
        assert_eq!(rows.len(), 10_000);
        let by_cost = arrange(&rows, "", SortKey::Cost, Direction::Descending);
        assert!(by_cost
            .windows(2)
            .all(|w| rows[w[0]].international_costs >= rows[w[1]].international_costs));
        let filtered = arrange(&rows, "customer 99", SortKey::Name, Direction::Ascending);
        assert!(!filtered.is_empty());
        assert!(filtered
            .iter()
            .all(|i| rows[*i].name.to_lowercase().contains("customer 99")));
    }
}
