//! The usage categories of the API (Twilio's names) and how they nest: one model for the server's
//! roll-ups, its usage records and its OpenAPI description, and for the dashboard's hierarchy.
//!
//! Usage is stored per *leaf* category (`calls-inbound`, `sms-outbound`, `recordings`, …); a
//! parent (`calls`, `sms`, `phonenumbers`) is the sum of its children, and `totalprice` is the
//! price of everything. Parents overlap their children, so a total never adds a parent to one of
//! its children ([`crate::aggregate::grand_total`]).
//!
//! ```
//! use evo_billing_core::usage;
//! assert_eq!(usage::category("calls-inbound").unwrap().parent, Some("calls"));
//! assert_eq!(usage::children("calls"), ["calls-inbound", "calls-outbound"]);
//! assert_eq!(usage::billed_minutes(61), 2);
//! ```

/// One usage category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    /// Twilio's name, e.g. `calls-inbound`.
    pub name: &'static str,
    /// The category that contains this one (`totalprice` contains everything and is not named).
    pub parent: Option<&'static str>,
    /// What people read.
    pub description: &'static str,
    /// The unit of `count` (empty for `totalprice`).
    pub count_unit: &'static str,
    /// The unit of `usage`; `None` for `totalprice`, whose usage is money (the account's currency).
    pub usage_unit: Option<&'static str>,
}

impl Category {
    /// Stored in the roll-ups (no other category is made of it).
    pub fn is_leaf(&self) -> bool {
        self.name != TOTAL_PRICE && !CATEGORIES.iter().any(|c| c.parent == Some(self.name))
    }
}

/// The category that contains every other one.
pub const TOTAL_PRICE: &str = "totalprice";

/// Every category a usage answer lists, in its order (alphabetical, as Twilio lists them).
pub const CATEGORIES: &[Category] = &[
    Category {
        name: "calls",
        parent: None,
        description: "Voice Minutes",
        count_unit: "calls",
        usage_unit: Some("minutes"),
    },
    Category {
        name: "calls-inbound",
        parent: Some("calls"),
        description: "Inbound Voice Minutes",
        count_unit: "calls",
        usage_unit: Some("minutes"),
    },
    Category {
        name: "calls-outbound",
        parent: Some("calls"),
        description: "Outbound Voice Minutes",
        count_unit: "calls",
        usage_unit: Some("minutes"),
    },
    Category {
        name: "phonenumbers",
        parent: None,
        description: "Phone Numbers",
        count_unit: "numbers",
        usage_unit: Some("numbers"),
    },
    Category {
        name: "phonenumbers-local",
        parent: Some("phonenumbers"),
        description: "Local Phone Numbers",
        count_unit: "numbers",
        usage_unit: Some("numbers"),
    },
    Category {
        name: "phonenumbers-mobile",
        parent: Some("phonenumbers"),
        description: "Mobile Phone Numbers",
        count_unit: "numbers",
        usage_unit: Some("numbers"),
    },
    Category {
        name: "phonenumbers-tollfree",
        parent: Some("phonenumbers"),
        description: "Toll-free Phone Numbers",
        count_unit: "numbers",
        usage_unit: Some("numbers"),
    },
    Category {
        name: "recordings",
        parent: None,
        description: "Voice Recordings",
        count_unit: "recordings",
        usage_unit: Some("minutes"),
    },
    Category {
        name: "sms",
        parent: None,
        description: "SMS Messages",
        count_unit: "messages",
        usage_unit: Some("segments"),
    },
    Category {
        name: "sms-inbound",
        parent: Some("sms"),
        description: "Inbound SMS Messages",
        count_unit: "messages",
        usage_unit: Some("segments"),
    },
    Category {
        name: "sms-outbound",
        parent: Some("sms"),
        description: "Outbound SMS Messages",
        count_unit: "messages",
        usage_unit: Some("segments"),
    },
    Category {
        name: TOTAL_PRICE,
        parent: None,
        description: "Total Price",
        count_unit: "",
        usage_unit: None,
    },
];

/// The category of a name.
pub fn category(name: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.name == name)
}

/// The direct children of a category (empty for a leaf).
pub fn children(name: &str) -> Vec<&'static str> {
    CATEGORIES
        .iter()
        .filter(|c| c.parent == Some(name))
        .map(|c| c.name)
        .collect()
}

/// The leaf categories: what the roll-ups store.
pub fn leaves() -> impl Iterator<Item = &'static Category> {
    CATEGORIES.iter().filter(|c| c.is_leaf())
}

/// The leaf category of a call's direction.
pub fn call_category(inbound: bool) -> &'static str {
    if inbound {
        "calls-inbound"
    } else {
        "calls-outbound"
    }
}

/// The leaf category of an SMS's direction.
pub fn sms_category(inbound: bool) -> &'static str {
    if inbound {
        "sms-inbound"
    } else {
        "sms-outbound"
    }
}

/// Call (or recording) minutes as Twilio bills them: each started minute counts.
pub fn billed_minutes(duration_secs: i64) -> i64 {
    if duration_secs <= 0 {
        0
    } else {
        duration_secs.saturating_add(59) / 60
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_tree_is_consistent() {
        for c in CATEGORIES {
            if let Some(p) = c.parent {
                let parent = category(p).expect("parent exists");
                assert!(parent.parent.is_none(), "two levels only");
                assert!(c.name.starts_with(p), "Twilio's naming: {}", c.name);
                assert_eq!(parent.count_unit, c.count_unit);
            }
        }
        let leaves: Vec<&str> = leaves().map(|c| c.name).collect();
        assert_eq!(
            leaves,
            [
                "calls-inbound",
                "calls-outbound",
                "phonenumbers-local",
                "phonenumbers-mobile",
                "phonenumbers-tollfree",
                "recordings",
                "sms-inbound",
                "sms-outbound"
            ]
        );
        let mut names: Vec<&str> = CATEGORIES.iter().map(|c| c.name).collect();
        let listed = names.clone();
        names.sort_unstable();
        assert_eq!(names, listed, "listed alphabetically");
    }

    #[test]
    fn minutes_round_up() {
        assert_eq!(
            [0, 1, 59, 60, 61, 120, -5].map(billed_minutes),
            [0, 1, 1, 1, 2, 2, 0]
        );
        assert_eq!(billed_minutes(i64::MAX), i64::MAX / 60);
    }
}
