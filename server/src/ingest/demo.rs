//! Deterministic demo data: 3 accounts, ~200 customers in trees, 13 months of calls (520 000 by
//! default), SMS and number rental, so the server runs with realistic data out of the box.
//!
//! Everything comes from one seed through a small integer PRNG (SplitMix64) written here, and no
//! floating point is involved anywhere (not even for the duration distribution), so the same
//! [`DemoOptions`] give the same data byte for byte, on every platform and with every version of
//! the `rand` crate.
//!
//! What is generated:
//! - **Accounts**: `acc-northwind` (US, USD), `acc-contoso` (GB, GBP), `acc-fabrikam` (DE, EUR), each
//!   with a Twilio-style `AC…` SID derived from the seed.
//! - **Customers**: a few root companies per account, with offices/divisions below them and
//!   departments below those (depth ≤ 3), `cus-0001`…, parents always before their children.
//! - **Users**: the three [`DEMO_SIGN_INS`].
//! - **Calls**: `opts.calls` calls from the first day of the month 12 months before `opts.today`
//!   through the end of `opts.today` (UTC), more on weekdays and in the account's business hours,
//!   growing over the period, 50/30/20 % over the accounts, ~60 % outbound, ~15 % of outbound
//!   international, ~8 % recorded. Each call has a [`CallSession`]; ~97 % have a [`DemoBillable`].
//! - **SMS**: `calls × 3 / 26` messages (60 000 for the default 520 000 calls).
//! - **Numbers**: 10–60 numbers per account, one [`NumberRental`] per number and month, charged on
//!   the 1st of each of the 13 months.
//!
//! Prices are per started minute ([`billed_minutes`]) × a per-minute rate in the account's
//! currency, exact in [`Micros`].

use chrono::{Datelike, NaiveDate, NaiveTime};
use evo_billing_core::dto::Role;
use evo_billing_core::money::{Currency, Micros};
use evo_billing_core::usage::billed_minutes;
use std::collections::HashSet;

use crate::model::{
    Account, CallRecord, CallSession, Customer, Direction, NewUser, NumberKind, NumberRental,
    SmsRecord,
};

/// The demo sign-ins, printed by `serve` on first start: (role, email, password).
pub const DEMO_SIGN_INS: [(&str, &str, &str); 3] = [
    (
        "SystemAdministrator",
        "admin@demo.evovoice.io",
        "demo-admin",
    ),
    ("Manager", "manager@demo.evovoice.io", "demo-manager"),
    ("Customer", "customer@demo.evovoice.io", "demo-customer"),
];

/// One batch of generated data, handed to the sink of [`generate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoBatch {
    Accounts(Vec<Account>),
    Customers(Vec<Customer>),
    Users(Vec<NewUser>),
    Calls(Vec<CallRecord>),
    Sessions(Vec<CallSession>),
    Billables(Vec<DemoBillable>),
    Sms(Vec<SmsRecord>),
    Numbers(Vec<NumberRental>),
}

/// A billable: ties a call to the customer it is billed to, either through its session
/// (`session_id` set) or by account and customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoBillable {
    pub account_id: String,
    pub customer_id: String,
    pub call_sid: String,
    pub session_id: Option<String>,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    pub seed: u64,
    /// The last day of the data (calls run through the end of this day, UTC).
    pub today: NaiveDate,
    /// How many calls (default 520 000).
    pub calls: usize,
    /// Records per batch handed to the sink (default 10 000; 0 is taken as 1).
    pub batch_size: usize,
    /// A big first account: this many customers (instead of ~100), equally active, with 90 %
    /// of the calls (benchmarks, the dashboard's 10,000-customer test).
    pub customers: Option<usize>,
}

impl DemoOptions {
    /// Calls that make `customers` customers active on most days of the 13 months: about 1.3
    /// calls a customer a day, so ~73 % of their days have one (with 90 % of the calls theirs).
    pub fn calls_for_customers(customers: usize) -> usize {
        customers.saturating_mul(395 * 13 / 9)
    }
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 2026,
            today: chrono::Utc::now().date_naive(),
            calls: 520_000,
            batch_size: 10_000,
            customers: None,
        }
    }
}

/// What [`generate`] handed to the sink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub accounts: usize,
    pub customers: usize,
    /// Calls (each with one session).
    pub calls: usize,
    pub billables: usize,
    pub sms: usize,
    /// Number-rental records (one per number and month).
    pub numbers: usize,
}

// ---------------------------------------------------------------------------------------------
// The PRNG: SplitMix64, integer only, so the data never depends on a library's algorithm choice.

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finalizer: a bijection on u64 (used to make SIDs unique by construction).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Rng(u64);

impl Rng {
    /// An independent stream per purpose, so e.g. the call count doesn't change the customers.
    fn new(seed: u64, stream: u64) -> Rng {
        Rng(mix(seed ^ mix(stream.wrapping_mul(GOLDEN))))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `ppm` parts per million.
    fn chance(&mut self, ppm: u64) -> bool {
        self.below(1_000_000) < ppm
    }

    /// An index drawn with the weights whose running sums are `cumulative`.
    fn weighted(&mut self, cumulative: &[u64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0);
        if total == 0 {
            return 0;
        }
        let x = self.below(total);
        cumulative.partition_point(|&c| c <= x)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn cumulative(weights: impl IntoIterator<Item = u64>) -> Vec<u64> {
    let mut sum = 0;
    weights
        .into_iter()
        .map(|w| {
            sum += w;
            sum
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reference data.

/// A destination country: its weight among international destinations, the per-minute rate of
/// an outbound call to it (micros of the account's currency), and E.164 patterns for its numbers
/// (`#` is any digit, `N` is 2–9).
struct Country {
    code: &'static str,
    weight: u64,
    rate: i64,
    patterns: &'static [&'static str],
}

const COUNTRIES: &[Country] = &[
    Country {
        code: "US",
        weight: 10,
        rate: 20_000,
        patterns: &[
            "+1212N######",
            "+1415N######",
            "+1312N######",
            "+1617N######",
            "+1206N######",
            "+1512N######",
            "+1305N######",
            "+1404N######",
            "+1702N######",
            "+1303N######",
        ],
    },
    Country {
        code: "CA",
        weight: 10,
        rate: 20_000,
        patterns: &[
            "+1416N######",
            "+1604N######",
            "+1514N######",
            "+1403N######",
        ],
    },
    Country {
        code: "GB",
        weight: 14,
        rate: 25_000,
        patterns: &[
            "+4420########",
            "+44161#######",
            "+44121#######",
            "+447#########",
        ],
    },
    Country {
        code: "DE",
        weight: 10,
        rate: 30_000,
        patterns: &[
            "+4930########",
            "+4989########",
            "+4940########",
            "+49151########",
            "+49170########",
        ],
    },
    Country {
        code: "FR",
        weight: 9,
        rate: 35_000,
        patterns: &["+331########", "+336########"],
    },
    Country {
        code: "MX",
        weight: 10,
        rate: 60_000,
        patterns: &["+5255########", "+5233########", "+5281########"],
    },
    Country {
        code: "IN",
        weight: 12,
        rate: 45_000,
        patterns: &["+919#########", "+918#########", "+9111########"],
    },
    Country {
        code: "PH",
        weight: 8,
        rate: 150_000,
        patterns: &["+639#########"],
    },
    Country {
        code: "NG",
        weight: 4,
        rate: 320_000,
        patterns: &["+23480########", "+23470########"],
    },
    Country {
        code: "BR",
        weight: 6,
        rate: 70_000,
        patterns: &["+55119########", "+55219########"],
    },
    Country {
        code: "ES",
        weight: 5,
        rate: 30_000,
        patterns: &["+349########", "+346########"],
    },
    Country {
        code: "IT",
        weight: 4,
        rate: 35_000,
        patterns: &["+3906########", "+393#########"],
    },
    Country {
        code: "AU",
        weight: 4,
        rate: 45_000,
        patterns: &["+612########", "+614########"],
    },
    Country {
        code: "JP",
        weight: 3,
        rate: 90_000,
        patterns: &["+813########", "+8190########"],
    },
    Country {
        code: "CN",
        weight: 3,
        rate: 45_000,
        patterns: &["+8610########", "+86139########"],
    },
    Country {
        code: "ZA",
        weight: 2,
        rate: 180_000,
        patterns: &["+2711#######", "+2782#######"],
    },
    Country {
        code: "CU",
        weight: 1,
        rate: 450_000,
        patterns: &["+537#######"],
    },
];

struct AccountSpec {
    id: &'static str,
    name: &'static str,
    home: &'static str,
    currency: &'static str,
    /// Hours from UTC of the account's business day (no DST: good enough for a demo).
    utc_offset_hours: i64,
    /// Share of the calls and SMS (the shares add up to 100).
    share: u64,
    /// About how many customers (± 5).
    customers: u64,
    /// Per-minute rates in micros of the account's currency.
    domestic_rate: i64,
    inbound_rate: i64,
    numbers: (u64, u64),
    local: &'static [&'static str],
    toll_free: &'static [&'static str],
    mobile: &'static [&'static str],
    roots: &'static [&'static str],
    offices: &'static [&'static str],
}

const ACCOUNTS: [AccountSpec; 3] = [
    AccountSpec {
        id: "acc-northwind",
        name: "Northwind Communications",
        home: "US",
        currency: "USD",
        utc_offset_hours: -8,
        share: 50,
        customers: 98,
        domestic_rate: 13_000,
        inbound_rate: 8_500,
        numbers: (35, 60),
        local: &["+1206N######", "+1425N######", "+1253N######"],
        toll_free: &["+1800N######", "+1888N######", "+1877N######"],
        mobile: &["+1206N######", "+1360N######"],
        roots: &[
            "Acme Dental Group",
            "Blue Ridge Realty",
            "Summit Health Partners",
            "Lakeside Auto Care",
            "Pioneer Insurance Agency",
        ],
        offices: &[
            "Seattle Office",
            "Portland Office",
            "Spokane Office",
            "Tacoma Office",
            "Boise Office",
            "Headquarters",
            "Retail Division",
            "Enterprise Division",
            "Field Services",
            "Contact Center",
            "West Campus",
            "East Campus",
            "Downtown Branch",
            "Airport Branch",
            "Northgate Clinic",
            "Bellevue Clinic",
            "Fleet Services",
            "Commercial Lines",
            "Personal Lines",
            "Partner Network",
        ],
    },
    AccountSpec {
        id: "acc-contoso",
        name: "Contoso Telecom Ltd",
        home: "GB",
        currency: "GBP",
        utc_offset_hours: 0,
        share: 30,
        customers: 60,
        domestic_rate: 11_000,
        inbound_rate: 7_000,
        numbers: (20, 40),
        local: &["+4420########", "+44161#######", "+44113#######"],
        toll_free: &["+44800#######", "+44808#######"],
        mobile: &["+447#########"],
        roots: &[
            "Thames Valley Lettings",
            "Brightwater Solicitors",
            "Kingsway Recruitment",
            "Harbourside Clinics",
        ],
        offices: &[
            "London Office",
            "Manchester Office",
            "Leeds Office",
            "Bristol Office",
            "Edinburgh Office",
            "Head Office",
            "Conveyancing",
            "Family Law",
            "Commercial Team",
            "Permanent Placements",
            "Temporary Staffing",
            "Reading Branch",
            "Oxford Branch",
            "Southampton Clinic",
            "Portsmouth Clinic",
            "Lettings Desk",
            "Property Management",
        ],
    },
    AccountSpec {
        id: "acc-fabrikam",
        name: "Fabrikam Kommunikation GmbH",
        home: "DE",
        currency: "EUR",
        utc_offset_hours: 1,
        share: 20,
        customers: 42,
        domestic_rate: 12_000,
        inbound_rate: 8_000,
        numbers: (10, 25),
        local: &["+4930########", "+4989########", "+4940########"],
        toll_free: &["+49800#######"],
        mobile: &["+49151########", "+49160########", "+49170########"],
        roots: &[
            "Rheinland Logistik GmbH",
            "Alpen Reisen AG",
            "Spree Software GmbH",
        ],
        offices: &[
            "Standort Berlin",
            "Standort München",
            "Standort Hamburg",
            "Standort Köln",
            "Zentrale",
            "Lager Duisburg",
            "Reisebüro Innsbruck",
            "Reisebüro Salzburg",
            "Produktentwicklung",
            "Vertrieb DACH",
            "Kundendienst",
            "Fuhrpark",
        ],
    },
];

const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Support",
    "Billing",
    "Marketing",
    "Dispatch",
    "IT Helpdesk",
    "Reception",
    "Collections",
    "Claims",
    "Onboarding",
    "Logistics",
    "Human Resources",
    "Legal",
    "Facilities",
    "Procurement",
    "Partner Desk",
    "Night Shift",
    "Outbound Sales",
    "Renewals",
    "Customer Success",
];

/// Calls per local hour, Monday to Friday and at weekends.
const WEEKDAY_HOURS: [u64; 24] = [
    2, 1, 1, 1, 1, 2, 5, 12, 30, 45, 50, 48, 40, 44, 48, 46, 40, 30, 18, 12, 9, 7, 5, 3,
];
const WEEKEND_HOURS: [u64; 24] = [
    3, 2, 1, 1, 1, 1, 2, 4, 8, 12, 14, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3,
];
/// Relative volume Monday..Sunday.
const WEEKDAY_VOLUME: [u64; 7] = [100, 105, 105, 100, 90, 30, 20];

/// Call durations, lognormal-ish: (from, to (exclusive), weight), seconds.
const DURATIONS: [(i64, i64, u64); 10] = [
    (10, 20, 6),
    (20, 40, 12),
    (40, 60, 13),
    (60, 120, 20),
    (120, 180, 14),
    (180, 300, 13),
    (300, 600, 11),
    (600, 1200, 7),
    (1200, 2400, 3),
    (2400, 3601, 1),
];

const OUTBOUND_PPM: u64 = 600_000;
const INTERNATIONAL_PPM: u64 = 150_000;
const INBOUND_INTERNATIONAL_PPM: u64 = 50_000;
const RECORDED_PPM: u64 = 80_000;
const BILLED_PPM: u64 = 970_000;
const RECORDING_RATE: i64 = 2_500;
const SMS_OUTBOUND_PPM: u64 = 550_000;
const SMS_INTERNATIONAL_PPM: u64 = 70_000;
const SMS_OUTBOUND_PRICE: i64 = 7_900;
const SMS_INBOUND_PRICE: i64 = 7_500;

fn number_price(kind: NumberKind) -> Micros {
    Micros(match kind {
        NumberKind::Local => 1_150_000,
        NumberKind::TollFree => 2_150_000,
        NumberKind::Mobile => 1_500_000,
    })
}

fn country_index(code: &str) -> Option<usize> {
    COUNTRIES.iter().position(|c| c.code == code)
}

/// The per-minute rate (micros of the account's currency) of a call of an account.
fn call_rate(spec: &AccountSpec, direction: Direction, country: &str) -> i64 {
    match direction {
        Direction::Inbound => spec.inbound_rate,
        Direction::Outbound if country == spec.home => spec.domestic_rate,
        Direction::Outbound => {
            country_index(country).map_or(spec.domestic_rate, |i| COUNTRIES[i].rate)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(s: &mut String, v: u64) {
    for i in (0..16).rev() {
        s.push(HEX[((v >> (i * 4)) & 15) as usize] as char);
    }
}

/// `prefix` + 32 hex digits; unique for distinct `serial`s (the low half is a bijection of it).
fn sid(prefix: &str, random: u64, serial: u64) -> String {
    let mut s = String::with_capacity(prefix.len() + 32);
    s.push_str(prefix);
    push_hex(&mut s, random);
    push_hex(&mut s, mix(serial ^ 0x5EED_F00D));
    s
}

fn phone(rng: &mut Rng, pattern: &str) -> String {
    let mut s = String::with_capacity(pattern.len());
    for b in pattern.bytes() {
        match b {
            b'#' => s.push((b'0' + rng.below(10) as u8) as char),
            b'N' => s.push((b'2' + rng.below(8) as u8) as char),
            _ => s.push(b as char),
        }
    }
    s
}

fn midnight(day: NaiveDate) -> i64 {
    day.and_time(NaiveTime::MIN).and_utc().timestamp()
}

/// The first day of the window: the 1st of the month 12 months before `today`'s month.
fn window_start(today: NaiveDate) -> NaiveDate {
    let months = today.year() * 12 + today.month0() as i32 - 12;
    NaiveDate::from_ymd_opt(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(today)
}

/// The window in Unix seconds, both ends inclusive.
fn window(today: NaiveDate) -> (i64, i64) {
    (midnight(window_start(today)), midnight(today) + 86_399)
}

/// Splits `total` over the weights exactly (running floor of the cumulative share).
fn allocate(total: usize, weights: &[u64]) -> Vec<usize> {
    let sum: u128 = weights.iter().map(|&w| w as u128).sum::<u128>().max(1);
    let mut running: u128 = 0;
    let mut given = 0usize;
    weights
        .iter()
        .map(|&w| {
            running += w as u128;
            let upto = (total as u128 * running / sum) as usize;
            let n = upto - given;
            given = upto;
            n
        })
        .collect()
}

struct Day {
    start: i64,
    weekend: bool,
}

/// The days of the window with their relative traffic: weekday pattern, growth from 70 % to
/// 130 % over the period, quiet holidays.
fn days(today: NaiveDate) -> (Vec<Day>, Vec<u64>) {
    let first = window_start(today);
    let list: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= today).collect();
    let last = (list.len().max(2) - 1) as u64;
    let mut out = Vec::with_capacity(list.len());
    let mut weights = Vec::with_capacity(list.len());
    for (i, day) in list.iter().enumerate() {
        let weekday = day.weekday().num_days_from_monday() as usize;
        let growth = 70 + 60 * i as u64 / last;
        let holiday = matches!((day.month(), day.day()), (12, 24..=26) | (1, 1));
        let w = WEEKDAY_VOLUME[weekday] * growth * if holiday { 30 } else { 100 };
        out.push(Day {
            start: midnight(*day),
            weekend: weekday >= 5,
        });
        weights.push(w);
    }
    (out, weights)
}

/// Per-day event times, sorted, each with the index of its account: local business hours of
/// the account, moved to UTC (kept in the window).
fn day_times(
    rng: &mut Rng,
    day: &Day,
    count: usize,
    win: (i64, i64),
    tables: &Tables,
    out: &mut Vec<(i64, u8)>,
) {
    out.clear();
    let hours = if day.weekend {
        &tables.weekend
    } else {
        &tables.weekday
    };
    for _ in 0..count {
        let a = rng.weighted(&tables.shares);
        let local = rng.weighted(hours) as i64 * 3600 + rng.below(3600) as i64;
        let mut t = day.start + local - ACCOUNTS[a].utc_offset_hours * 3600;
        if t < win.0 || t > win.1 {
            t = day.start + local;
        }
        out.push((t, a as u8));
    }
    out.sort_unstable();
}

struct Tables {
    shares: Vec<u64>,
    weekday: Vec<u64>,
    weekend: Vec<u64>,
    durations: Vec<u64>,
}

/// An account while generating.
struct Ctx {
    spec: &'static AccountSpec,
    id: String,
    currency: Currency,
    customers: Vec<String>,
    customer_weights: Vec<u64>,
    numbers: Vec<(String, NumberKind)>,
    /// Indices of the numbers that place outbound calls (not toll-free).
    callers: Vec<usize>,
    home: usize,
    foreign: Vec<usize>,
    foreign_weights: Vec<u64>,
}

impl Ctx {
    fn foreign_country(&self, rng: &mut Rng) -> usize {
        self.foreign[rng.weighted(&self.foreign_weights)]
    }
}

// Stream numbers of the PRNG, one per purpose.
const STREAM_ACCOUNTS: u64 = 1;
const STREAM_CUSTOMERS: u64 = 2;
const STREAM_NUMBERS: u64 = 3;
const STREAM_CALLS: u64 = 4;
const STREAM_SMS: u64 = 5;

struct Node {
    id: String,
    parent: Option<usize>,
    depth: u8,
    name: String,
    children: Vec<usize>,
}

/// The customer tree of one account; ids continue from `next_id`.
/// About `spec.customers` customers (± 5), or exactly `exact`.
fn customer_tree(
    rng: &mut Rng,
    spec: &AccountSpec,
    exact: Option<usize>,
    next_id: &mut usize,
) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut add = |nodes: &mut Vec<Node>, parent: Option<usize>, name: String| {
        *next_id += 1;
        let depth = parent.map_or(0, |p| nodes[p].depth + 1);
        nodes.push(Node {
            id: format!("cus-{:04}", *next_id),
            parent,
            depth,
            name,
            children: Vec::new(),
        });
        let id = nodes.len() - 1;
        if let Some(p) = parent {
            nodes[p].children.push(id);
        }
    };
    for root in spec.roots {
        add(&mut nodes, None, root.to_string());
    }
    let about = (spec.customers + rng.below(11)).saturating_sub(5) as usize;
    let target = exact.unwrap_or(about).max(spec.roots.len());
    let roots = spec.roots.len();
    let mut middle: Vec<usize> = Vec::new();
    while nodes.len() < target {
        let parent = if middle.is_empty() || rng.chance(350_000) {
            rng.below(roots as u64) as usize
        } else {
            *rng.pick(&middle)
        };
        let names = if nodes[parent].depth == 0 {
            spec.offices
        } else {
            DEPARTMENTS
        };
        let taken: Vec<&str> = nodes[parent]
            .children
            .iter()
            .map(|&c| nodes[c].name.as_str())
            .collect();
        let offset = rng.below(names.len() as u64) as usize;
        let name = (0..names.len())
            .map(|k| names[(offset + k) % names.len()])
            .find(|n| !taken.contains(n))
            .map(str::to_string)
            .unwrap_or_else(|| format!("{} {}", names[offset], taken.len() + 1));
        add(&mut nodes, Some(parent), name);
        if nodes[parent].depth == 0 {
            middle.push(nodes.len() - 1);
        }
    }
    nodes
}

/// Generates everything, handing batches to `sink` in dependency order (accounts, customers,
/// users, then calls with their sessions and billables interleaved per batch, then SMS, then
/// numbers). Deterministic: the same options give the same data, byte for byte.
pub fn generate<E>(
    opts: &DemoOptions,
    sink: &mut dyn FnMut(DemoBatch) -> Result<(), E>,
) -> Result<DemoSummary, E> {
    let batch = opts.batch_size.max(1);
    let mut summary = DemoSummary::default();
    let win = window(opts.today);
    let tables = Tables {
        shares: cumulative(
            ACCOUNTS
                .iter()
                .enumerate()
                .map(|(i, a)| match opts.customers {
                    // The big account takes 90 % of the calls; the others share the rest as before.
                    Some(_) if i == 0 => 90,
                    Some(_) => a.share * 10 / (100 - ACCOUNTS[0].share),
                    None => a.share,
                }),
        ),
        weekday: cumulative(WEEKDAY_HOURS),
        weekend: cumulative(WEEKEND_HOURS),
        durations: cumulative(DURATIONS.iter().map(|d| d.2)),
    };

    // Accounts.
    let mut rng = Rng::new(opts.seed, STREAM_ACCOUNTS);
    let mut accounts = Vec::new();
    for spec in &ACCOUNTS {
        let mut account_sid = String::with_capacity(34);
        account_sid.push_str("AC");
        push_hex(&mut account_sid, rng.next_u64());
        push_hex(&mut account_sid, rng.next_u64());
        accounts.push(Account {
            id: spec.id.to_string(),
            name: spec.name.to_string(),
            account_sid,
            home_country: spec.home.to_string(),
            // The specs' codes are constants (a test checks they parse).
            currency: Currency::new(spec.currency).unwrap_or_default(),
        });
    }

    // Customers.
    let mut rng = Rng::new(opts.seed, STREAM_CUSTOMERS);
    let mut next_id = 0;
    let mut customers = Vec::new();
    let mut ctxs = Vec::new();
    let mut customer_user: Option<String> = None;
    for (i, (spec, account)) in ACCOUNTS.iter().zip(&accounts).enumerate() {
        let big = opts.customers.filter(|_| i == 0);
        let nodes = customer_tree(&mut rng, spec, big, &mut next_id);
        if customer_user.is_none() {
            customer_user = nodes
                .iter()
                .find(|n| n.depth == 0 && !n.children.is_empty())
                .or(nodes.first())
                .map(|n| n.id.clone());
        }
        let weights = match big {
            // Equally active, so every customer has calls on most days.
            Some(_) => cumulative(nodes.iter().map(|_| 1)),
            None => cumulative(nodes.iter().map(|_| rng.range(1, 12))),
        };
        for node in &nodes {
            customers.push(Customer {
                id: node.id.clone(),
                account_id: account.id.clone(),
                parent_id: node.parent.map(|p| nodes[p].id.clone()),
                name: node.name.clone(),
            });
        }
        // The specs' home countries are in COUNTRIES (a test checks it).
        let home = country_index(spec.home).unwrap_or(0);
        let foreign: Vec<usize> = (0..COUNTRIES.len()).filter(|&i| i != home).collect();
        ctxs.push(Ctx {
            spec,
            id: account.id.clone(),
            currency: account.currency,
            customers: nodes.into_iter().map(|n| n.id).collect(),
            customer_weights: weights,
            numbers: Vec::new(),
            callers: Vec::new(),
            home,
            foreign_weights: cumulative(foreign.iter().map(|&i| COUNTRIES[i].weight)),
            foreign,
        });
    }

    // Numbers (generated now: calls use them; emitted last).
    let mut rng = Rng::new(opts.seed, STREAM_NUMBERS);
    let mut seen = HashSet::new();
    for ctx in &mut ctxs {
        let spec = ctx.spec;
        let count = rng.range(spec.numbers.0, spec.numbers.1);
        while (ctx.numbers.len() as u64) < count {
            let roll = rng.below(100);
            let kind = if ctx.numbers.is_empty() || roll < 80 {
                NumberKind::Local
            } else if roll < 90 {
                NumberKind::TollFree
            } else {
                NumberKind::Mobile
            };
            let patterns = match kind {
                NumberKind::Local => spec.local,
                NumberKind::TollFree => spec.toll_free,
                NumberKind::Mobile => spec.mobile,
            };
            let pattern = *rng.pick(patterns);
            let number = phone(&mut rng, pattern);
            if seen.insert(number.clone()) {
                if kind != NumberKind::TollFree {
                    ctx.callers.push(ctx.numbers.len());
                }
                ctx.numbers.push((number, kind));
            }
        }
    }

    summary.accounts = accounts.len();
    sink(DemoBatch::Accounts(accounts.clone()))?;
    summary.customers = customers.len();
    for chunk in customers.chunks(batch) {
        sink(DemoBatch::Customers(chunk.to_vec()))?;
    }

    // Users.
    let user = |i: usize, display: &str, role: Role, account_ids: Vec<String>| NewUser {
        email: DEMO_SIGN_INS[i].1.to_string(),
        display_name: display.to_string(),
        password: DEMO_SIGN_INS[i].2.to_string(),
        role,
        account_ids,
        customer_id: None,
    };
    let first = accounts[0].id.clone();
    let mut customer = user(2, "Demo Customer", Role::Customer, vec![first.clone()]);
    customer.customer_id = customer_user;
    sink(DemoBatch::Users(vec![
        user(
            0,
            "Demo Administrator",
            Role::SystemAdministrator,
            Vec::new(),
        ),
        user(1, "Demo Manager", Role::Manager, vec![first]),
        customer,
    ]))?;

    // Calls, sessions, billables.
    let (day_list, day_weights) = days(opts.today);
    let mut rng = Rng::new(opts.seed, STREAM_CALLS);
    let mut times = Vec::new();
    let mut calls = Vec::with_capacity(batch);
    let mut sessions = Vec::with_capacity(batch);
    let mut billables = Vec::with_capacity(batch);
    let mut serial: u64 = 0;
    for (day, count) in day_list.iter().zip(allocate(opts.calls, &day_weights)) {
        day_times(&mut rng, day, count, win, &tables, &mut times);
        for &(start_time, a) in &times {
            let ctx = &ctxs[a as usize];
            let spec = ctx.spec;
            let customer = &ctx.customers[rng.weighted(&ctx.customer_weights)];
            let (direction, country, from, to) = if rng.chance(OUTBOUND_PPM) {
                let c = if rng.chance(INTERNATIONAL_PPM) {
                    ctx.foreign_country(&mut rng)
                } else {
                    ctx.home
                };
                let from = ctx.numbers[*rng.pick(&ctx.callers)].0.clone();
                let pattern = rng_pattern(&mut rng, c);
                let to = phone(&mut rng, pattern);
                (Direction::Outbound, c, from, to)
            } else {
                let c = if rng.chance(INBOUND_INTERNATIONAL_PPM) {
                    ctx.foreign_country(&mut rng)
                } else {
                    ctx.home
                };
                let pattern = rng_pattern(&mut rng, c);
                let from = phone(&mut rng, pattern);
                let to = rng.pick(&ctx.numbers).0.clone();
                (Direction::Inbound, c, from, to)
            };
            let (lo, hi, _) = DURATIONS[rng.weighted(&tables.durations)];
            let duration = lo + rng.below((hi - lo) as u64) as i64;
            let minutes = billed_minutes(duration);
            let country = COUNTRIES[country].code;
            let price = Micros(minutes * call_rate(spec, direction, country));
            let recorded = rng.chance(RECORDED_PPM);
            serial += 1;
            let call_sid = sid("CA", rng.next_u64(), serial);
            let session_id = format!("ses-{serial:09}");
            if rng.chance(BILLED_PPM) {
                let by_session = rng.chance(500_000);
                billables.push(DemoBillable {
                    account_id: ctx.id.clone(),
                    customer_id: customer.clone(),
                    call_sid: call_sid.clone(),
                    session_id: by_session.then(|| session_id.clone()),
                });
            }
            sessions.push(CallSession {
                id: session_id,
                account_id: ctx.id.clone(),
                customer_id: customer.clone(),
                call_sid: call_sid.clone(),
            });
            calls.push(CallRecord {
                account_id: ctx.id.clone(),
                sid: call_sid,
                start_time,
                direction,
                from,
                to,
                country: country.to_string(),
                duration_secs: duration,
                price,
                currency: ctx.currency,
                recording_duration_secs: if recorded { duration } else { 0 },
                recording_price: Micros(if recorded {
                    minutes * RECORDING_RATE
                } else {
                    0
                }),
            });
            if calls.len() >= batch {
                flush_calls(
                    sink,
                    &mut summary,
                    &mut calls,
                    &mut sessions,
                    &mut billables,
                    batch,
                )?;
            }
        }
    }
    if !calls.is_empty() {
        flush_calls(
            sink,
            &mut summary,
            &mut calls,
            &mut sessions,
            &mut billables,
            batch,
        )?;
    }

    // SMS.
    let mut rng = Rng::new(opts.seed, STREAM_SMS);
    let total_sms = (opts.calls as u128 * 3 / 26) as usize;
    let mut sms = Vec::with_capacity(batch.min(total_sms.max(1)));
    for (day, count) in day_list.iter().zip(allocate(total_sms, &day_weights)) {
        day_times(&mut rng, day, count, win, &tables, &mut times);
        for &(sent_at, a) in &times {
            let ctx = &ctxs[a as usize];
            let outbound = rng.chance(SMS_OUTBOUND_PPM);
            let country = if rng.chance(SMS_INTERNATIONAL_PPM) {
                ctx.foreign_country(&mut rng)
            } else {
                ctx.home
            };
            let segments = match rng.below(100) {
                0..=69 => 1,
                70..=91 => 2,
                _ => 3,
            };
            serial += 1;
            sms.push(SmsRecord {
                account_id: ctx.id.clone(),
                sid: sid("SM", rng.next_u64(), serial),
                sent_at,
                direction: if outbound {
                    Direction::Outbound
                } else {
                    Direction::Inbound
                },
                country: COUNTRIES[country].code.to_string(),
                segments,
                price: Micros(
                    segments
                        * if outbound {
                            SMS_OUTBOUND_PRICE
                        } else {
                            SMS_INBOUND_PRICE
                        },
                ),
            });
            if sms.len() >= batch {
                summary.sms += sms.len();
                sink(DemoBatch::Sms(std::mem::take(&mut sms)))?;
            }
        }
    }
    if !sms.is_empty() {
        summary.sms += sms.len();
        sink(DemoBatch::Sms(sms))?;
    }

    // Number rental: every number, on the 1st of each of the 13 months.
    let first_month = window_start(opts.today);
    let mut rentals = Vec::new();
    for m in 0..13 {
        let Some(month) = first_month.checked_add_months(chrono::Months::new(m)) else {
            break;
        };
        if month > opts.today {
            break;
        }
        let charged_at = midnight(month);
        for ctx in &ctxs {
            for (number, kind) in &ctx.numbers {
                rentals.push(NumberRental {
                    account_id: ctx.id.clone(),
                    number: number.clone(),
                    kind: *kind,
                    charged_at,
                    price: number_price(*kind),
                });
                if rentals.len() >= batch {
                    summary.numbers += rentals.len();
                    sink(DemoBatch::Numbers(std::mem::take(&mut rentals)))?;
                }
            }
        }
    }
    if !rentals.is_empty() {
        summary.numbers += rentals.len();
        sink(DemoBatch::Numbers(rentals))?;
    }
    Ok(summary)
}

fn rng_pattern(rng: &mut Rng, country: usize) -> &'static str {
    let patterns: &'static [&'static str] = COUNTRIES[country].patterns;
    patterns[rng.below(patterns.len() as u64) as usize]
}

fn flush_calls<E>(
    sink: &mut dyn FnMut(DemoBatch) -> Result<(), E>,
    summary: &mut DemoSummary,
    calls: &mut Vec<CallRecord>,
    sessions: &mut Vec<CallSession>,
    billables: &mut Vec<DemoBillable>,
    batch: usize,
) -> Result<(), E> {
    summary.calls += calls.len();
    summary.billables += billables.len();
    let calls = std::mem::replace(calls, Vec::with_capacity(batch));
    let sessions = std::mem::replace(sessions, Vec::with_capacity(batch));
    let billables = std::mem::replace(billables, Vec::with_capacity(batch));
    sink(DemoBatch::Calls(calls))?;
    sink(DemoBatch::Sessions(sessions))?;
    sink(DemoBatch::Billables(billables))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};
    use std::hash::{DefaultHasher, Hasher};

    fn opts(calls: usize) -> DemoOptions {
        DemoOptions {
            seed: 2026,
            today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            calls,
            batch_size: 4_000,
            customers: None,
        }
    }

    #[test]
    fn a_big_account_is_active_on_most_days() {
        let o = DemoOptions {
            customers: Some(300),
            ..opts(DemoOptions::calls_for_customers(300))
        };
        let (all, summary) = collect(&o);
        let first: Vec<&Customer> = all
            .customers
            .iter()
            .filter(|c| c.account_id == "acc-northwind")
            .collect();
        assert_eq!(first.len(), 300);
        assert!(summary.customers > 300);
        let mut active: HashSet<(&str, i64)> = HashSet::new();
        let by_sid: HashMap<&str, i64> = all
            .calls
            .iter()
            .map(|c| (c.sid.as_str(), c.start_time.div_euclid(86_400)))
            .collect();
        for b in all
            .billables
            .iter()
            .filter(|b| b.account_id == "acc-northwind")
        {
            active.insert((b.customer_id.as_str(), by_sid[b.call_sid.as_str()]));
        }
        let days = by_sid.values().collect::<HashSet<_>>().len();
        let share = active.len() as f64 / (300 * days) as f64;
        assert!(share > 0.6, "{share}");
    }

    #[derive(Default)]
    struct All {
        accounts: Vec<Account>,
        customers: Vec<Customer>,
        users: Vec<NewUser>,
        calls: Vec<CallRecord>,
        sessions: Vec<CallSession>,
        billables: Vec<DemoBillable>,
        sms: Vec<SmsRecord>,
        numbers: Vec<NumberRental>,
        order: Vec<&'static str>,
    }

    fn collect(o: &DemoOptions) -> (All, DemoSummary) {
        let mut all = All::default();
        let summary = generate::<String>(o, &mut |b| {
            match b {
                DemoBatch::Accounts(v) => {
                    all.order.push("accounts");
                    all.accounts.extend(v)
                }
                DemoBatch::Customers(v) => {
                    all.order.push("customers");
                    all.customers.extend(v)
                }
                DemoBatch::Users(v) => {
                    all.order.push("users");
                    all.users.extend(v)
                }
                DemoBatch::Calls(v) => {
                    assert!(v.len() <= o.batch_size);
                    all.order.push("calls");
                    all.calls.extend(v)
                }
                DemoBatch::Sessions(v) => {
                    all.order.push("sessions");
                    all.sessions.extend(v)
                }
                DemoBatch::Billables(v) => {
                    all.order.push("billables");
                    all.billables.extend(v)
                }
                DemoBatch::Sms(v) => {
                    all.order.push("sms");
                    all.sms.extend(v)
                }
                DemoBatch::Numbers(v) => {
                    all.order.push("numbers");
                    all.numbers.extend(v)
                }
            }
            Ok(())
        })
        .unwrap();
        (all, summary)
    }

    struct HashWriter(DefaultHasher);
    impl std::fmt::Write for HashWriter {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }

    fn fingerprint(o: &DemoOptions) -> (u64, usize) {
        use std::fmt::Write;
        let mut h = HashWriter(DefaultHasher::new());
        let mut batches = 0;
        generate::<String>(o, &mut |b| {
            batches += 1;
            write!(h, "{b:?}").map_err(|e| e.to_string())
        })
        .unwrap();
        (h.0.finish(), batches)
    }

    #[test]
    fn demo_is_deterministic() {
        let o = opts(20_000);
        let a = fingerprint(&o);
        assert_eq!(a, fingerprint(&o));
        assert!(a.1 > 10);
        let other = DemoOptions { seed: 7, ..o };
        assert_ne!(a.0, fingerprint(&other).0);
    }

    #[test]
    fn demo_counts_and_invariants() {
        let o = opts(20_000);
        let (all, summary) = collect(&o);

        // Order of the batches: dependencies first.
        let pos = |k: &str| all.order.iter().position(|x| *x == k).unwrap();
        let last = |k: &str| all.order.iter().rposition(|x| *x == k).unwrap();
        assert!(pos("accounts") < pos("customers"));
        assert!(last("customers") < pos("users"));
        assert!(pos("users") < pos("calls"));
        assert!(last("billables") < pos("sms"));
        assert!(last("sms") < pos("numbers"));
        for w in all.order.windows(3) {
            if w[0] == "calls" {
                assert_eq!(w[1..], ["sessions", "billables"]);
            }
        }

        // Accounts.
        assert!(all.accounts.len() >= 3);
        let account_ids: HashSet<&str> = all.accounts.iter().map(|a| a.id.as_str()).collect();
        for a in &all.accounts {
            assert_eq!(a.account_sid.len(), 34);
            assert!(a.account_sid.starts_with("AC"));
            assert!(a.account_sid[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        }
        let codes: Vec<(&str, &str)> = all
            .accounts
            .iter()
            .map(|a| (a.home_country.as_str(), a.currency.code()))
            .collect();
        assert_eq!(codes, [("US", "USD"), ("GB", "GBP"), ("DE", "EUR")]);

        // Customers: a forest per account, parents first.
        assert!(
            (150..=250).contains(&all.customers.len()),
            "{}",
            all.customers.len()
        );
        let mut seen: HashMap<&str, &str> = HashMap::new();
        let mut depth: HashMap<&str, usize> = HashMap::new();
        for c in &all.customers {
            assert!(account_ids.contains(c.account_id.as_str()));
            let d = match &c.parent_id {
                None => 0,
                Some(p) => {
                    assert_eq!(seen.get(p.as_str()), Some(&c.account_id.as_str()), "{c:?}");
                    depth[p.as_str()] + 1
                }
            };
            assert!(d <= 2);
            assert!(
                seen.insert(&c.id, &c.account_id).is_none(),
                "duplicate {}",
                c.id
            );
            depth.insert(&c.id, d);
        }
        for a in &all.accounts {
            let roots = all
                .customers
                .iter()
                .filter(|c| c.account_id == a.id && c.parent_id.is_none())
                .count();
            assert!((3..=5).contains(&roots));
        }
        // Sibling names are unique.
        let mut names = HashSet::new();
        for c in &all.customers {
            assert!(names.insert((c.parent_id.clone(), c.account_id.clone(), c.name.clone())));
        }

        // Users.
        assert_eq!(all.users.len(), 3);
        for (u, (role, email, password)) in all.users.iter().zip(DEMO_SIGN_INS) {
            assert_eq!(u.role.as_str(), role);
            assert_eq!(u.email, email);
            assert_eq!(u.password, password);
            for a in &u.account_ids {
                assert!(account_ids.contains(a.as_str()));
            }
        }
        assert!(all.users[0].account_ids.is_empty());
        assert_eq!(all.users[1].account_ids, [all.accounts[0].id.clone()]);
        let cu = &all.users[2];
        let cid = cu.customer_id.as_deref().unwrap();
        let c = all.customers.iter().find(|c| c.id == cid).unwrap();
        assert_eq!(cu.account_ids, std::slice::from_ref(&c.account_id));
        assert_eq!(c.account_id, all.accounts[0].id);
        assert!(c.parent_id.is_none());
        assert!(all
            .customers
            .iter()
            .any(|x| x.parent_id.as_deref() == Some(cid)));

        // Calls.
        assert_eq!(all.calls.len(), 20_000);
        assert_eq!(summary.calls, 20_000);
        let (start, end) = window(o.today);
        assert_eq!(
            start,
            midnight(NaiveDate::from_ymd_opt(2025, 11, 1).unwrap())
        );
        let mut sids = HashSet::new();
        let (mut outbound, mut international, mut recorded) = (0usize, 0usize, 0usize);
        let mut per_account: HashMap<&str, usize> = HashMap::new();
        let mut months = HashSet::new();
        let spec = |id: &str| ACCOUNTS.iter().find(|s| s.id == id).unwrap();
        let own_numbers: HashSet<(&str, &str)> = all
            .numbers
            .iter()
            .map(|n| (n.account_id.as_str(), n.number.as_str()))
            .collect();
        for c in &all.calls {
            assert!(
                sids.insert((c.account_id.as_str(), c.sid.as_str())),
                "{}",
                c.sid
            );
            assert!(c.sid.starts_with("CA") && c.sid.len() == 34);
            assert!(c.start_time >= start && c.start_time <= end, "{c:?}");
            let day = chrono::DateTime::from_timestamp(c.start_time, 0).unwrap();
            months.insert((day.year(), day.month()));
            assert!((10..=3600).contains(&c.duration_secs));
            assert!(c.from.starts_with('+') && c.to.starts_with('+'));
            assert!(c.from.len() >= 11 && c.to.len() >= 11);
            assert!(c.from[1..].bytes().all(|b| b.is_ascii_digit()));
            let s = spec(&c.account_id);
            assert_eq!(c.currency.code(), s.currency);
            assert!(country_index(s.home).is_some(), "{}", s.home);
            let rate = call_rate(s, c.direction, &c.country);
            assert!(rate > 0);
            assert!(c.price.0 > 0);
            assert_eq!(c.price, Micros(billed_minutes(c.duration_secs) * rate));
            if c.direction == Direction::Outbound {
                outbound += 1;
                if c.country != s.home {
                    international += 1;
                    assert!((20_000..=450_000).contains(&rate));
                    assert!(c.price.0 >= 20_000);
                }
                assert!(own_numbers.contains(&(c.account_id.as_str(), c.from.as_str())));
            } else {
                assert_eq!(rate, s.inbound_rate);
                assert!(own_numbers.contains(&(c.account_id.as_str(), c.to.as_str())));
            }
            if c.recording_duration_secs > 0 {
                recorded += 1;
                assert_eq!(c.recording_duration_secs, c.duration_secs);
                assert_eq!(
                    c.recording_price,
                    Micros(billed_minutes(c.duration_secs) * RECORDING_RATE)
                );
            } else {
                assert_eq!(c.recording_price, Micros::ZERO);
            }
            *per_account.entry(&c.account_id).or_default() += 1;
        }
        assert_eq!(months.len(), 13);
        let pct = |n: usize, d: usize| n as f64 * 100.0 / d as f64;
        let out_pct = pct(outbound, all.calls.len());
        assert!((55.0..65.0).contains(&out_pct), "{out_pct}");
        let intl = pct(international, outbound);
        assert!((10.0..=20.0).contains(&intl), "{intl}");
        let rec = pct(recorded, all.calls.len());
        assert!((5.0..=11.0).contains(&rec), "{rec}");
        let shares: Vec<f64> = all
            .accounts
            .iter()
            .map(|a| pct(per_account[a.id.as_str()], all.calls.len()))
            .collect();
        assert!((46.0..54.0).contains(&shares[0]), "{shares:?}");
        assert!((26.0..34.0).contains(&shares[1]), "{shares:?}");
        assert!((16.0..24.0).contains(&shares[2]), "{shares:?}");
        // More calls on weekdays and in the later months.
        let weekday = all
            .calls
            .iter()
            .filter(|c| {
                let d = chrono::DateTime::from_timestamp(c.start_time, 0).unwrap();
                d.weekday().num_days_from_monday() < 5
            })
            .count();
        assert!(pct(weekday, all.calls.len()) > 80.0);
        let mid = (start + end) / 2;
        let early = all.calls.iter().filter(|c| c.start_time < mid).count();
        assert!(early * 10 < all.calls.len() * 45);

        // Sessions and billables.
        assert_eq!(all.sessions.len(), all.calls.len());
        let customer_account: HashMap<&str, &str> = all
            .customers
            .iter()
            .map(|c| (c.id.as_str(), c.account_id.as_str()))
            .collect();
        let call_account: HashMap<&str, &str> = all
            .calls
            .iter()
            .map(|c| (c.sid.as_str(), c.account_id.as_str()))
            .collect();
        let mut session_by_id = HashMap::new();
        for s in &all.sessions {
            assert_eq!(call_account[s.call_sid.as_str()], s.account_id);
            assert_eq!(customer_account[s.customer_id.as_str()], s.account_id);
            assert!(session_by_id.insert(s.id.as_str(), s).is_none());
        }
        assert_eq!(summary.billables, all.billables.len());
        let billed = pct(all.billables.len(), all.calls.len());
        assert!((95.0..99.0).contains(&billed), "{billed}");
        let mut with_session = 0;
        let mut billed_sids = HashSet::new();
        for b in &all.billables {
            assert_eq!(call_account[b.call_sid.as_str()], b.account_id);
            assert_eq!(customer_account[b.customer_id.as_str()], b.account_id);
            assert!(billed_sids.insert(b.call_sid.as_str()));
            if let Some(s) = &b.session_id {
                with_session += 1;
                let s = session_by_id[s.as_str()];
                assert_eq!(s.call_sid, b.call_sid);
                assert_eq!(s.customer_id, b.customer_id);
            }
        }
        let half = pct(with_session, all.billables.len());
        assert!((45.0..55.0).contains(&half), "{half}");

        // SMS.
        assert_eq!(all.sms.len(), 20_000 * 3 / 26);
        assert_eq!(summary.sms, all.sms.len());
        let mut sms_sids = HashSet::new();
        for m in &all.sms {
            assert!(sms_sids.insert(m.sid.as_str()));
            assert!(m.sid.starts_with("SM") && m.sid.len() == 34);
            assert!(m.sent_at >= start && m.sent_at <= end);
            assert!((1..=3).contains(&m.segments));
            let per = match m.direction {
                Direction::Outbound => SMS_OUTBOUND_PRICE,
                Direction::Inbound => SMS_INBOUND_PRICE,
            };
            assert_eq!(m.price, Micros(m.segments * per));
            assert!(account_ids.contains(m.account_id.as_str()));
        }

        // Numbers.
        assert_eq!(summary.numbers, all.numbers.len());
        let mut charge_days = HashSet::new();
        for a in &all.accounts {
            let distinct: HashSet<&str> = all
                .numbers
                .iter()
                .filter(|n| n.account_id == a.id)
                .map(|n| n.number.as_str())
                .collect();
            assert!((10..=60).contains(&distinct.len()), "{}", distinct.len());
            let rentals = all.numbers.iter().filter(|n| n.account_id == a.id).count();
            assert_eq!(rentals, distinct.len() * 13);
        }
        for n in &all.numbers {
            let day = chrono::DateTime::from_timestamp(n.charged_at, 0).unwrap();
            assert_eq!(day.day(), 1);
            assert_eq!(day.timestamp() % 86_400, 0);
            assert!(n.charged_at >= start && n.charged_at <= end);
            charge_days.insert(n.charged_at);
            assert_eq!(n.price, number_price(n.kind));
            assert!(n.number.starts_with('+'));
        }
        assert_eq!(charge_days.len(), 13);
        let kinds: HashSet<NumberKind> = all.numbers.iter().map(|n| n.kind).collect();
        assert!(kinds.contains(&NumberKind::Local));
        assert!(kinds.len() >= 2);
    }

    #[test]
    fn demo_window_and_edge_options() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(window_start(d(2026, 11, 22)), d(2025, 11, 1));
        assert_eq!(window_start(d(2026, 1, 31)), d(2025, 1, 1));
        assert_eq!(window_start(d(2026, 12, 1)), d(2025, 12, 1));
        assert_eq!(allocate(10, &[1, 1, 1]).iter().sum::<usize>(), 10);
        assert_eq!(allocate(0, &[5, 0, 5]), [0, 0, 0]);

        // No calls, batch size 0: still accounts, customers, users, numbers.
        let o = DemoOptions {
            calls: 0,
            batch_size: 0,
            ..opts(0)
        };
        let (all, summary) = collect(&DemoOptions {
            batch_size: 1_000,
            ..o.clone()
        });
        assert_eq!(summary.calls, 0);
        assert_eq!(summary.sms, 0);
        assert!(all.numbers.len() > 13 * 30);
        // The sink's error stops the generation and is returned.
        let mut n = 0;
        let err = generate::<String>(&o, &mut |_| {
            n += 1;
            if n == 2 {
                Err("disk full".into())
            } else {
                Ok(())
            }
        });
        assert_eq!(err, Err("disk full".to_string()));
        // The default is today and the documented sizes.
        let def = DemoOptions::default();
        assert_eq!(
            (def.seed, def.calls, def.batch_size),
            (2026, 520_000, 10_000)
        );
    }
}
