//! Reading a carrier call ledger from CSV (`import-calls FILE.csv`).
//!
//! The columns are documented in [`COLUMNS`] (rendered by [`documentation`]); they follow a
//! carrier's call-log export (Twilio's column names work as they are). [`LedgerReader`] streams the
//! file: it holds one record at a time, never the whole file, and yields one [`RowOutcome`] per
//! record, a call, a skipped line (blank, comment, repeated header) or a rejected row with its line
//! number and the precise reason, so a bad row never hides among the good ones.
//!
//! The CSV dialect is RFC 4180: comma-separated, fields optionally in double quotes, `""` for a
//! quote inside a quoted field, commas and line breaks allowed inside quotes, CRLF or LF line
//! ends, an optional UTF-8 byte-order mark. Line numbers count physical lines (a quoted field
//! spanning 3 lines moves the next row's number by 3); a row's number is the line it starts on.

use std::io::Read;

use chrono::{DateTime, NaiveDateTime};
use evo_billing_core::money::{Currency, Micros};

use super::csv_reader::{Bytes, Raw, Records};
use crate::model::{CallRecord, Direction};

/// The documented columns, in the canonical order: (header, required, description). Header names
/// are matched case-insensitively, ignoring spaces, underscores and hyphens, so "Start Time",
/// "start_time" and "StartTime" all match; column order in the file is free; extra columns are
/// ignored.
pub const COLUMNS: &[(&str, bool, &str)] = &[
    (
        "Sid",
        true,
        "the carrier's call SID (e.g. CA + 32 hex digits), unique per account (alias header: CallSid)",
    ),
    (
        "AccountSid",
        false,
        "Twilio-style account SID; when absent the --account option says which account",
    ),
    (
        "StartTime",
        true,
        "ISO-8601 date-time (2026-03-01T17:45:00Z or with offset) or 'YYYY-MM-DD HH:MM:SS' (UTC) or RFC 2822 as Twilio exports ('Sun, 01 Mar 2026 17:45:00 +0000')",
    ),
    (
        "Direction",
        true,
        "inbound | outbound | outbound-api | outbound-dial",
    ),
    (
        "From",
        true,
        "the calling number (E.164 like +12065550100, or a client:/sip: address)",
    ),
    ("To", true, "the called number (E.164, or a client:/sip: address)"),
    (
        "Country",
        true,
        "ISO 3166-1 alpha-2 of the destination (ToCountry in Twilio exports is accepted as a header alias)",
    ),
    ("Duration", true, "seconds"),
    (
        "Price",
        true,
        "decimal, negative Twilio-style prices are taken as costs (absolute value)",
    ),
    (
        "PriceUnit",
        false,
        "ISO 4217; must be the account's currency (a row in another is rejected); empty: the account's (alias header: Currency)",
    ),
    ("RecordingDuration", false, "seconds, default 0"),
    ("RecordingPrice", false, "decimal, default 0"),
];

/// Other header names accepted for a column (normalized: lower case, no spaces/underscores).
const ALIASES: &[(&str, usize)] = &[
    ("callsid", SID),
    ("tocountry", COUNTRY),
    ("destinationcountry", COUNTRY),
    ("currency", PRICE_UNIT),
];

const SID: usize = 0;
const ACCOUNT_SID: usize = 1;
const START_TIME: usize = 2;
const DIRECTION: usize = 3;
const FROM: usize = 4;
const TO: usize = 5;
const COUNTRY: usize = 6;
const DURATION: usize = 7;
const PRICE: usize = 8;
const PRICE_UNIT: usize = 9;
const RECORDING_DURATION: usize = 10;
const RECORDING_PRICE: usize = 11;

/// A record longer than this is taken for an unbalanced quote and skipped to the next line end.
const MAX_RECORD_BYTES: usize = 1 << 20;

/// One call read from the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    /// The physical line the row starts on (the header is line 1).
    pub line: u64,
    /// The row's AccountSid, when the file has that column and the field is not empty.
    pub account_sid: Option<String>,
    /// The row's PriceUnit; `None` when empty: the currency of the call's account.
    pub price_unit: Option<Currency>,
    /// The call, with `account_id` left empty and `currency` to be confirmed against the
    /// account's: the importer fills and checks them.
    pub call: CallRecord,
}

/// What became of one record of the file. Reasons start with `line N: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Row(LedgerRow),
    /// Blank lines, comment lines starting with `#`, a repeated header row.
    Skipped {
        line: u64,
        reason: String,
    },
    /// A row that is not a valid call, e.g. "line 17: Duration 'abc' is not a whole number of
    /// seconds".
    Rejected {
        line: u64,
        reason: String,
    },
}

impl RowOutcome {
    pub fn line(&self) -> u64 {
        match self {
            RowOutcome::Row(row) => row.line,
            RowOutcome::Skipped { line, .. } | RowOutcome::Rejected { line, .. } => *line,
        }
    }
}

/// The columns as a Markdown section (for the docs and `--help`).
pub fn documentation() -> String {
    let mut out = String::new();
    out.push_str("### Call ledger CSV (`import-calls FILE.csv`)\n\n");
    out.push_str(
        "One call per row, comma-separated (RFC 4180: fields may be quoted with `\"`, a quote inside \
         quotes is doubled, quoted fields may contain commas and line breaks), UTF-8 (a byte-order \
         mark is allowed), CRLF or LF line ends. The first row is the header. Header names match \
         case-insensitively, ignoring spaces, underscores and hyphens (`Start Time`, `start_time` \
         and `StartTime` are the same column); the columns may come in any order and other columns \
         are ignored, so a carrier's call-log export (e.g. Twilio's) loads as it is.\n\n",
    );
    out.push_str("| Column | Required | Description |\n|---|---|---|\n");
    for (name, required, description) in COLUMNS {
        out.push_str(&format!(
            "| `{name}` | {} | {} |\n",
            if *required { "yes" } else { "no" },
            description.replace('|', "\\|")
        ));
    }
    out.push_str(
        "\nBlank lines, physical lines starting with `#` and a repeated header row are skipped (a quoted field that starts with `#` is data). A row with \
         a bad value (or a number of fields different from the header's) is rejected with its line \
         number and the reason; the other rows load. Line numbers count physical lines of the \
         file.\n\nExample:\n\n```csv\nSid,StartTime,Direction,From,To,Country,Duration,Price,PriceUnit,RecordingDuration,RecordingPrice\n\
         CA0123456789abcdef0123456789abcdef,2026-03-01T17:45:00Z,outbound-api,+12065550100,+442071234567,GB,125,-0.075,USD,125,-0.0075\n```\n",
    );
    out
}

/// Header normalization: lower case without spaces, underscores and hyphens.
fn normalize(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn column_of(header: &str) -> Option<usize> {
    let n = normalize(header);
    COLUMNS
        .iter()
        .position(|(name, _, _)| normalize(name) == n)
        .or_else(|| ALIASES.iter().find(|(a, _)| *a == n).map(|(_, c)| *c))
}

fn column_list() -> String {
    COLUMNS
        .iter()
        .map(|(name, required, _)| {
            if *required {
                name.to_string()
            } else {
                format!("{name} (optional)")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// The ledger layer.

/// Why the header of a ledger file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

/// Streams a call ledger CSV: checks the header in [`LedgerReader::new`], then yields one
/// [`RowOutcome`] per record.
pub struct LedgerReader<R: Read> {
    records: Records<R>,
    /// The header's fields as written.
    header: Vec<String>,
    /// The header's fields normalized (to recognize a repeated header row).
    header_norm: Vec<String>,
    /// For each documented column, its index in the file.
    cols: [Option<usize>; 12],
}

impl<R: Read> LedgerReader<R> {
    /// Reads and checks the header: a missing required column is an `Err` naming it and listing
    /// the documented columns. Blank and `#` comment lines before the header are allowed.
    pub fn new(reader: R) -> Result<Self, HeaderError> {
        let src = Bytes::new(reader)?;
        let mut records = Records {
            src,
            line: 1,
            done: false,
            max_record: MAX_RECORD_BYTES,
        };
        let (line, raw) = loop {
            match records.next_record() {
                Err((line, e)) => {
                    return Err(HeaderError::Invalid(format!(
                        "line {line}: cannot read the file: {e}"
                    )))
                }
                Ok(None) => {
                    return Err(HeaderError::Invalid(format!(
                        "the file is empty: expected a header row naming the columns: {}",
                        column_list()
                    )))
                }
                Ok(Some(Raw::Comment { .. })) => continue,
                Ok(Some(Raw::Broken { reason, .. })) => {
                    return Err(HeaderError::Invalid(format!(
                        "the header row cannot be read: {reason}"
                    )))
                }
                Ok(Some(Raw::Fields { line, fields })) => {
                    if fields.iter().all(|f| f.trim_ascii().is_empty()) {
                        continue;
                    }
                    break (line, fields);
                }
            }
        };
        let mut header = Vec::with_capacity(raw.len());
        for field in raw {
            let text = String::from_utf8(field).map_err(|_| {
                HeaderError::Invalid(format!("line {line}: the header row is not valid UTF-8"))
            })?;
            header.push(text.trim().to_string());
        }
        let mut cols = [None; 12];
        for (i, name) in header.iter().enumerate() {
            if let Some(c) = column_of(name) {
                if let Some(previous) = cols[c] {
                    return Err(HeaderError::Invalid(format!(
                        "line {line}: the header names the column {} twice ('{}' and '{}')",
                        COLUMNS[c].0, header[previous], name
                    )));
                }
                cols[c] = Some(i);
            }
        }
        let missing: Vec<&str> = COLUMNS
            .iter()
            .zip(cols)
            .filter(|((_, required, _), at)| *required && at.is_none())
            .map(|((name, _, _), _)| *name)
            .collect();
        if !missing.is_empty() {
            return Err(HeaderError::Invalid(format!(
                "line {line}: the header lacks the required column{} {}; the documented columns \
                 are: {} (header names match case-insensitively, ignoring spaces and underscores)",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                column_list()
            )));
        }
        let header_norm = header.iter().map(|h| normalize(h)).collect();
        Ok(LedgerReader {
            records,
            header,
            header_norm,
            cols,
        })
    }

    /// The header's fields, as written in the file.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Bytes of the file consumed so far (for a progress bar against the file's size).
    pub fn bytes_read(&self) -> u64 {
        self.records.src.consumed
    }

    /// The physical line the reader is on.
    pub fn line(&self) -> u64 {
        self.records.line
    }

    fn field_name(&self, index: usize) -> String {
        match self.header.get(index) {
            Some(name) if !name.is_empty() => format!("field {} ({name})", index + 1),
            _ => format!("field {}", index + 1),
        }
    }

    fn convert(&self, line: u64, fields: Vec<Vec<u8>>) -> RowOutcome {
        let skipped = |what: &str| RowOutcome::Skipped {
            line,
            reason: format!("line {line}: {what}"),
        };
        let rejected = |why: String| RowOutcome::Rejected {
            line,
            reason: format!("line {line}: {why}"),
        };
        if fields.len() == 1 && fields[0].trim_ascii().is_empty() {
            return skipped("blank line");
        }
        if fields.iter().all(|f| f.trim_ascii().is_empty()) {
            return skipped("empty row (only separators)");
        }
        let mut texts = Vec::with_capacity(fields.len());
        for (i, field) in fields.into_iter().enumerate() {
            match String::from_utf8(field) {
                Ok(text) => texts.push(text),
                Err(e) => {
                    return rejected(format!(
                        "{} is not valid UTF-8 (invalid byte at offset {})",
                        self.field_name(i),
                        e.utf8_error().valid_up_to()
                    ))
                }
            }
        }
        if texts.len() == self.header.len()
            && texts
                .iter()
                .zip(&self.header_norm)
                .all(|(t, h)| normalize(t) == *h)
        {
            return skipped("repeated header row");
        }
        if texts.len() != self.header.len() {
            return rejected(format!(
                "{} field{}, but the header has {}",
                texts.len(),
                if texts.len() == 1 { "" } else { "s" },
                self.header.len()
            ));
        }
        let get = |c: usize| self.cols[c].map_or("", |i| texts[i].trim());
        let mut errors: Vec<String> = Vec::new();

        let sid = get(SID);
        if sid.is_empty() {
            errors.push("Sid is empty".into());
        }
        let account_sid = Some(get(ACCOUNT_SID))
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let start = get(START_TIME);
        let start_time = parse_time(start);
        if start_time.is_none() {
            errors.push(if start.is_empty() {
                "StartTime is empty".into()
            } else {
                format!(
                    "StartTime '{}' is not a date-time (expected ISO-8601 like \
                     2026-03-01T17:45:00Z, 'YYYY-MM-DD HH:MM:SS' in UTC, or RFC 2822 like \
                     'Sun, 01 Mar 2026 17:45:00 +0000')",
                    clip(start)
                )
            });
        }
        let direction_text = get(DIRECTION);
        let direction = Direction::parse(direction_text);
        if direction.is_none() {
            errors.push(format!(
                "Direction '{}' is not inbound, outbound, outbound-api or outbound-dial",
                clip(direction_text)
            ));
        }
        let from = get(FROM);
        if from.is_empty() {
            errors.push("From is empty".into());
        }
        let to = get(TO);
        if to.is_empty() {
            errors.push("To is empty".into());
        }
        let country_text = get(COUNTRY);
        let country =
            if country_text.len() == 2 && country_text.bytes().all(|b| b.is_ascii_alphabetic()) {
                Some(country_text.to_ascii_uppercase())
            } else {
                errors.push(format!(
                    "Country '{}' is not an ISO 3166-1 alpha-2 code (two letters, e.g. US)",
                    clip(country_text)
                ));
                None
            };
        let duration = seconds("Duration", get(DURATION), false, &mut errors);
        let price = amount("Price", get(PRICE), false, &mut errors);
        let unit = get(PRICE_UNIT);
        let currency = if unit.is_empty() {
            Some(None)
        } else {
            match Currency::new(unit) {
                Ok(c) => Some(Some(c)),
                Err(_) => {
                    errors.push(format!(
                        "PriceUnit '{}' is not an ISO 4217 currency code (3 letters, e.g. USD)",
                        clip(unit)
                    ));
                    None
                }
            }
        };
        let recording_duration = seconds(
            "RecordingDuration",
            get(RECORDING_DURATION),
            true,
            &mut errors,
        );
        let recording_price = amount("RecordingPrice", get(RECORDING_PRICE), true, &mut errors);

        match (
            errors.is_empty(),
            start_time,
            direction,
            country,
            duration,
            price,
            currency,
            recording_duration,
            recording_price,
        ) {
            (
                true,
                Some(start_time),
                Some(direction),
                Some(country),
                Some(duration_secs),
                Some(price),
                Some(currency),
                Some(recording_duration_secs),
                Some(recording_price),
            ) => RowOutcome::Row(LedgerRow {
                line,
                account_sid,
                price_unit: currency,
                call: CallRecord {
                    account_id: String::new(),
                    sid: sid.to_string(),
                    start_time,
                    direction,
                    from: from.to_string(),
                    to: to.to_string(),
                    country,
                    duration_secs,
                    price,
                    currency: currency.unwrap_or_default(),
                    recording_duration_secs,
                    recording_price,
                },
            }),
            _ => rejected(errors.join("; ")),
        }
    }
}

impl<R: Read> Iterator for LedgerReader<R> {
    type Item = RowOutcome;

    fn next(&mut self) -> Option<RowOutcome> {
        match self.records.next_record() {
            Ok(None) => None,
            Ok(Some(Raw::Comment { line })) => Some(RowOutcome::Skipped {
                line,
                reason: format!("line {line}: comment line"),
            }),
            Ok(Some(Raw::Broken { line, reason })) => Some(RowOutcome::Rejected { line, reason }),
            Ok(Some(Raw::Fields { line, fields })) => Some(self.convert(line, fields)),
            Err((line, e)) => Some(RowOutcome::Rejected {
                line,
                reason: format!("line {line}: read error, the rest of the file is not read: {e}"),
            }),
        }
    }
}

/// A value quoted in a message: at most 40 characters.
fn clip(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    }
}

/// Whole non-negative seconds; `12.0` is accepted (spreadsheets write that), `12.5` is not.
fn seconds(name: &str, text: &str, optional: bool, errors: &mut Vec<String>) -> Option<i64> {
    if text.is_empty() {
        if optional {
            return Some(0);
        }
        errors.push(format!("{name} is empty"));
        return None;
    }
    let whole = match text.find('.') {
        Some(i) if text[i + 1..].bytes().all(|b| b == b'0') => &text[..i],
        _ => text,
    };
    let (negative, digits) = match whole.as_bytes().first() {
        Some(b'-') => (true, &whole[1..]),
        Some(b'+') => (false, &whole[1..]),
        _ => (false, whole),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        errors.push(format!(
            "{name} '{}' is not a whole number of seconds",
            clip(text)
        ));
        return None;
    }
    if negative && digits.bytes().any(|b| b != b'0') {
        errors.push(format!("{name} '{}' is negative", clip(text)));
        return None;
    }
    match digits.parse::<i64>() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push(format!("{name} '{}' is too large", clip(text)));
            None
        }
    }
}

/// A decimal amount, negative (Twilio-style) taken as its absolute value.
fn amount(name: &str, text: &str, optional: bool, errors: &mut Vec<String>) -> Option<Micros> {
    if text.is_empty() {
        if optional {
            return Some(Micros::ZERO);
        }
        errors.push(format!("{name} is empty (is the call priced yet?)"));
        return None;
    }
    match text.parse::<Micros>() {
        Ok(v) => Some(v.abs()),
        Err(_) => {
            errors.push(format!(
                "{name} '{}' is not a decimal amount (e.g. -0.0085)",
                clip(text)
            ));
            None
        }
    }
}

/// Unix seconds of a start time in one of the documented formats.
fn parse_time(text: &str) -> Option<i64> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Some(t.timestamp());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f %:z",
        "%Y-%m-%d %H:%M:%S%.f %z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.timestamp());
        }
    }
    let naive = s
        .strip_suffix(" UTC")
        .or_else(|| s.strip_suffix(" GMT"))
        .or_else(|| s.strip_suffix('Z'))
        .unwrap_or(s);
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(t.and_utc().timestamp());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn outcomes(data: &[u8]) -> Vec<RowOutcome> {
        LedgerReader::new(data).unwrap().collect()
    }

    fn ts(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).unwrap().timestamp()
    }

    const SAMPLE: &str = "\u{FEFF}Sid,Notes,Start Time,Direction,From,To,ToCountry,Duration,Price,Currency,Recording_Duration,recording price\r\n\
CA001,plain,2026-03-01T17:45:00Z,outbound-api,+12065550100,+442071234567,gb,125,-0.0750,usd,0,0\r\n\
CA002,\"Smith, John\r\nsecond line\",2026-03-01 18:00:00,inbound,+12065550101,+12065550100,US,60,-0.0085,USD,60,-0.0025\r\n\
\r\n\
# exported 2026-03-02, \"unbalanced quote\r\n\
CA003,x,2026-03-02T09:00:00+01:00,outbound-dial,+12065550100,+4930123456,DE,abc,-0.1,USD,,\r\n\
CA004,x,2026-02-30 10:00:00,outbound,+12065550100,+12065550199,US,10,-0.01,USD,,\r\n\
CA005,x,2026-03-02 10:00:00,outbound,+1,+1\r\n\
SID,notes,StartTime,direction,FROM,to,To Country,duration,price,currency,RecordingDuration,RecordingPrice\r\n\
CA006,\"say \"\"hi\"\"\",\"Sun, 01 Mar 2026 17:45:00 +0000\",outbound,+12065550100,+525512345678,MX,30,-0.0300,USD,,\r\n\
CA007,x,2026-03-03 08:00:00,sideways,+1206,+1206,USA,-5,ten,dollars,1.5,\r\n\
CA008,last,2026-03-03T08:00:00.250-05:00,inbound,client:alice,+12065550100,US,0,0,EUR,,";

    #[test]
    fn import_realistic_sample() {
        let out = outcomes(SAMPLE.as_bytes());
        let lines: Vec<u64> = out.iter().map(RowOutcome::line).collect();
        assert_eq!(lines, [2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13], "{out:#?}");

        let RowOutcome::Row(r) = &out[0] else {
            panic!("{:?}", out[0])
        };
        assert_eq!(r.account_sid, None);
        let c = &r.call;
        assert_eq!(c.account_id, "");
        assert_eq!(c.sid, "CA001");
        assert_eq!(c.start_time, ts("2026-03-01T17:45:00Z"));
        assert_eq!(c.direction, Direction::Outbound);
        assert_eq!(
            (c.from.as_str(), c.to.as_str()),
            ("+12065550100", "+442071234567")
        );
        assert_eq!(c.country, "GB");
        assert_eq!(c.duration_secs, 125);
        assert_eq!(c.price, Micros(75_000));
        assert_eq!(c.currency, Currency::USD);
        assert_eq!(
            (c.recording_duration_secs, c.recording_price),
            (0, Micros::ZERO)
        );

        // A quoted field with a comma and a line break: the row is line 3, spans 3–4.
        let RowOutcome::Row(r) = &out[1] else {
            panic!("{:?}", out[1])
        };
        assert_eq!(r.line, 3);
        assert_eq!(r.call.start_time, ts("2026-03-01T18:00:00Z"));
        assert_eq!(r.call.direction, Direction::Inbound);
        assert_eq!(r.call.price, Micros(8_500));
        assert_eq!(r.call.recording_duration_secs, 60);
        assert_eq!(r.call.recording_price, Micros(2_500));

        assert!(
            matches!(&out[2], RowOutcome::Skipped { reason, .. } if reason == "line 5: blank line")
        );
        assert!(
            matches!(&out[3], RowOutcome::Skipped { reason, .. } if reason == "line 6: comment line")
        );
        let RowOutcome::Rejected { reason, .. } = &out[4] else {
            panic!("{:?}", out[4])
        };
        assert_eq!(
            reason,
            "line 7: Duration 'abc' is not a whole number of seconds"
        );
        let RowOutcome::Rejected { reason, .. } = &out[5] else {
            panic!("{:?}", out[5])
        };
        assert!(
            reason.starts_with("line 8: StartTime '2026-02-30 10:00:00' is not a date-time"),
            "{reason}"
        );
        let RowOutcome::Rejected { reason, .. } = &out[6] else {
            panic!("{:?}", out[6])
        };
        assert_eq!(reason, "line 9: 6 fields, but the header has 12");
        assert!(
            matches!(&out[7], RowOutcome::Skipped { reason, .. } if reason == "line 10: repeated header row")
        );

        // Twilio's RFC 2822 date (quoted because of its comma), doubled quotes in another field.
        let RowOutcome::Row(r) = &out[8] else {
            panic!("{:?}", out[8])
        };
        assert_eq!(r.call.start_time, ts("2026-03-01T17:45:00Z"));
        assert_eq!(r.call.country, "MX");
        assert_eq!(r.call.price, Micros(30_000));

        // Every problem of a row is named.
        let RowOutcome::Rejected { reason, .. } = &out[9] else {
            panic!("{:?}", out[9])
        };
        for part in [
            "line 12: ",
            "Direction 'sideways'",
            "Country 'USA'",
            "Duration '-5' is negative",
            "Price 'ten'",
            "PriceUnit 'dollars'",
            "RecordingDuration '1.5' is not a whole number",
        ] {
            assert!(reason.contains(part), "{part} not in {reason}");
        }

        // The last row has no line end; offsets and fractions are read.
        let RowOutcome::Row(r) = &out[10] else {
            panic!("{:?}", out[10])
        };
        assert_eq!(r.line, 13);
        assert_eq!(r.call.start_time, ts("2026-03-03T13:00:00Z"));
        assert_eq!(r.call.from, "client:alice");
        assert_eq!(r.call.currency.code(), "EUR");
        assert_eq!(r.call.price, Micros::ZERO);
    }

    #[test]
    fn import_reordered_columns_and_account_sid() {
        let data = "duration,TO,from,Country,price,direction,StartTime,AccountSid,sid\n\
                    61,+442071234567,+12065550100,GB,0.0226,outbound,2026-01-05 09:30:00 UTC,AC00000000000000000000000000000001,CAabc\n\
                    7,+12065550100,+12065550111,us,-0.0085,inbound,2026-01-05T09:31:00,,CAdef\n";
        let mut reader = LedgerReader::new(data.as_bytes()).unwrap();
        assert_eq!(reader.header()[0], "duration");
        let out: Vec<RowOutcome> = reader.by_ref().collect();
        assert_eq!(reader.bytes_read(), data.len() as u64);
        let RowOutcome::Row(a) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(a.line, 2);
        assert_eq!(
            a.account_sid.as_deref(),
            Some("AC00000000000000000000000000000001")
        );
        assert_eq!(a.call.sid, "CAabc");
        assert_eq!(a.call.duration_secs, 61);
        assert_eq!(a.call.to, "+442071234567");
        assert_eq!(a.call.price, Micros(22_600));
        assert_eq!(a.call.start_time, ts("2026-01-05T09:30:00Z"));
        let RowOutcome::Row(b) = &out[1] else {
            panic!("{out:?}")
        };
        assert_eq!(b.line, 3);
        assert_eq!(b.account_sid, None);
        assert_eq!(b.call.country, "US");
        assert_eq!(b.call.currency, Currency::USD);
        assert_eq!(b.call.start_time, ts("2026-01-05T09:31:00Z"));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn import_header_errors() {
        let err = LedgerReader::new(&b"Sid,Start Time,From,To,Price\n"[..])
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("lacks the required columns Direction, Country, Duration"),
            "{err}"
        );
        for name in [
            "Sid",
            "AccountSid",
            "StartTime",
            "PriceUnit",
            "RecordingPrice",
        ] {
            assert!(err.contains(name), "{err}");
        }
        let err = LedgerReader::new(&b""[..]).err().unwrap().to_string();
        assert!(err.contains("empty"), "{err}");
        let err = LedgerReader::new(
            &b"Sid,StartTime,Direction,From,To,Country,Duration,Price,Currency,PriceUnit\n"[..],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("PriceUnit twice"), "{err}");
        let err = LedgerReader::new(&b"Sid,\xff\n"[..])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("UTF-8"), "{err}");
        // Comment and blank lines before the header are fine; the header is then on line 3.
        let out = outcomes(
            b"# ledger\n\nSid,StartTime,Direction,From,To,Country,Duration,Price\nCA1,2026-01-01 00:00:00,in,+1,+2,US,1,0.01\n",
        );
        assert_eq!(out.len(), 1);
        assert!(matches!(&out[0], RowOutcome::Row(r) if r.line == 4));
    }

    const HEADER: &str = "Sid,StartTime,Direction,From,To,Country,Duration,Price\n";

    #[test]
    fn import_bad_bytes_and_quotes() {
        let mut data = HEADER.as_bytes().to_vec();
        data.extend_from_slice(b"CA1,2026-01-01 00:00:00,in,+1\xff\xfe,+2,US,1,0.01\n");
        data.extend_from_slice(b"CA2,2026-01-01 00:00:00,in,+1,+2,US,1,0.01\n");
        data.extend_from_slice(b"CA3,\"2026-01-01\n00:00:00,in,+1,+2,US,1,0.01\n");
        let out = outcomes(&data);
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(
            matches!(&out[0], RowOutcome::Rejected { line: 2, reason } if reason.contains("field 4 (From) is not valid UTF-8"))
        );
        assert!(matches!(&out[1], RowOutcome::Row(r) if r.line == 3));
        assert!(
            matches!(&out[2], RowOutcome::Rejected { line: 4, reason } if reason.contains("never closed"))
        );

        // An unbalanced quote in a big file: the record is cut at the size limit, and the rows
        // after the next line end load.
        let mut data = HEADER.as_bytes().to_vec();
        data.extend_from_slice(b"CA1,\"oops,in,+1,+2,US,1,0.01\n");
        for i in 0..50 {
            data.extend_from_slice(format!("CA{i},x,in,+1,+2,US,1,0.01\n").as_bytes());
        }
        let mut reader = LedgerReader::new(&data[..]).unwrap();
        reader.records.max_record = 200;
        let out: Vec<RowOutcome> = reader.collect();
        assert!(
            matches!(&out[0], RowOutcome::Rejected { line: 2, reason } if reason.contains("longer than 200 bytes")),
            "{out:?}"
        );
        let next = out[1].line();
        assert!(next > 2 && next < 52);
        assert_eq!(out.len(), 1 + 53 - next as usize);
        // Header-only and no final newline.
        assert!(outcomes(HEADER.as_bytes()).is_empty());
        assert!(outcomes(HEADER.trim_end().as_bytes()).is_empty());
        // ",,,," is an empty row, not a rejected one.
        let out = outcomes(format!("{HEADER},,,,,,,\n").as_bytes());
        assert!(matches!(&out[0], RowOutcome::Skipped { line: 2, .. }));
    }

    #[test]
    fn import_time_formats() {
        let t = ts("2026-03-01T17:45:00Z");
        for text in [
            "2026-03-01T17:45:00Z",
            "2026-03-01T18:45:00+01:00",
            "2026-03-01T17:45:00.000Z",
            "2026-03-01 17:45:00",
            "2026-03-01 17:45:00 UTC",
            "2026-03-01T17:45:00",
            "2026-03-01 12:45:00-05:00",
            "2026-03-01 12:45:00 -0500",
            "Sun, 01 Mar 2026 17:45:00 +0000",
            "Sun, 01 Mar 2026 12:45:00 -0500",
        ] {
            assert_eq!(parse_time(text), Some(t), "{text}");
        }
        for bad in [
            "",
            "yesterday",
            "2026-13-01 00:00:00",
            "01/03/2026",
            "2026-03-01",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        let mut errors = Vec::new();
        assert_eq!(seconds("D", "12.00", false, &mut errors), Some(12));
        assert_eq!(seconds("D", "-0", false, &mut errors), Some(0));
        assert_eq!(
            seconds("D", "99999999999999999999", false, &mut errors),
            None
        );
        assert_eq!(errors, ["D '99999999999999999999' is too large"]);
    }

    #[test]
    fn import_documentation_lists_every_column() {
        let doc = documentation();
        for (name, _, _) in COLUMNS {
            assert!(doc.contains(&format!("| `{name}` |")), "{name}");
        }
        assert!(doc.contains("| Column | Required | Description |"));
    }

    /// A reader that makes rows as they are read: the file never exists in memory.
    struct Generated {
        rows: usize,
        next: usize,
        pending: Vec<u8>,
        at: usize,
    }

    impl Read for Generated {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.at == self.pending.len() {
                self.pending.clear();
                self.at = 0;
                if self.next == 0 {
                    self.pending.extend_from_slice(
                        b"Sid,AccountSid,StartTime,Direction,From,To,Country,Duration,Price,PriceUnit,RecordingDuration,RecordingPrice\r\n",
                    );
                }
                while self.pending.len() < 8192 && self.next < self.rows {
                    let i = self.next;
                    self.next += 1;
                    let bad = i % 1000 == 999;
                    self.pending.extend_from_slice(
                        format!(
                            "CA{i:032x},AC{:032x},2026-{:02}-{:02}T{:02}:{:02}:00Z,{},+1206555{:04},+44207{:06},{},{},-{}.{:04},USD,{},\"-0.{:04}\"\r\n",
                            i % 3,
                            i % 12 + 1,
                            i % 28 + 1,
                            i % 24,
                            i % 60,
                            if i.is_multiple_of(3) { "inbound" } else { "outbound-api" },
                            i % 10_000,
                            i % 1_000_000,
                            if i.is_multiple_of(7) { "GB" } else { "US" },
                            if bad { "x".to_string() } else { (i % 3600).to_string() },
                            i % 2,
                            i % 10_000,
                            i % 60,
                            i % 100,
                        )
                        .as_bytes(),
                    );
                }
            }
            let n = out.len().min(self.pending.len() - self.at);
            out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn import_streams_100k_rows() {
        let started = std::time::Instant::now();
        let reader = LedgerReader::new(Generated {
            rows: 100_000,
            next: 0,
            pending: Vec::new(),
            at: 0,
        })
        .unwrap();
        let (mut rows, mut rejected, mut last_line) = (0, 0, 1);
        for outcome in reader {
            assert_eq!(outcome.line(), last_line + 1);
            last_line = outcome.line();
            match outcome {
                RowOutcome::Row(r) => {
                    rows += 1;
                    assert!(r.account_sid.is_some());
                    assert!(r.call.price.0 >= 0);
                }
                RowOutcome::Rejected { .. } => rejected += 1,
                RowOutcome::Skipped { .. } => panic!("nothing to skip"),
            }
        }
        assert_eq!((rows, rejected), (99_900, 100));
        assert_eq!(last_line, 100_001);
        let elapsed = started.elapsed();
        println!("100k rows in {elapsed:?}");
        assert!(elapsed.as_secs() < 60);
    }

    #[test]
    fn import_random_bytes_never_panic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4180);
        let alphabet: &[u8] = b",,,\"\"\n\n\r#  aZ09.-+:TUSD\xef\xbb\xbf\xff\xc3";
        for round in 0..3_000 {
            let len = rng.gen_range(0..300);
            let mut body: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.gen_bool(0.9) {
                        alphabet[rng.gen_range(0..alphabet.len())]
                    } else {
                        rng.gen()
                    }
                })
                .collect();
            // Half the rounds behind a valid header, so the row checks run too.
            if round % 2 == 0 {
                let mut data = HEADER.as_bytes().to_vec();
                data.append(&mut body);
                body = data;
            }
            if let Ok(reader) = LedgerReader::new(&body[..]) {
                let mut previous = 0;
                let mut count = 0;
                for outcome in reader {
                    assert!(outcome.line() > previous, "{outcome:?}");
                    previous = outcome.line();
                    count += 1;
                    assert!(count <= body.len() + 1);
                }
            }
        }
    }
}
