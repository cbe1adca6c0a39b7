//! What every SQLite connection of the process gets, registered by `sqlite3_auto_extension`
//! ([`install`], called before the pool opens its first connection, so no connection can lack
//! it): the `evo_pack` aggregate, and the planner's stability guarantee.
//!
//! `evo_pack(…)` packs a query's rows into one text, the form every whole-account read of
//! [`super::Store::packed`] takes on SQLite. The text is exactly what
//! `group_concat(printf('%s␟%s…', a, b, …), char(30))` gives (fields separated by U+001F, rows by
//! U+001E, in the order the rows arrive; NULL when there is no row), at about half the cost over
//! 10,000 roll-up rows: SQLite's `printf` turns each integer into text through its general
//! formatter, and `group_concat` grows its buffer a step at a time. Here an integer is read as an
//! integer and written by `itoa`; any other value is taken as SQLite's own text of it
//! (`sqlite3_value_text`, which is what `printf('%s')` prints), NULL as nothing.
//!
//! `SQLITE_DBCONFIG_ENABLE_QPSG` (the query planner stability guarantee): a statement's plan does
//! not depend on the values bound to it. Without it the bundled SQLite (built with STAT4) looks
//! each bound value up in `sqlite_stat4` when it plans, and so marks the statement to be planned
//! again whenever a value is bound anew: after `analyze` every write of NewBillable's group
//! commit parsed and planned its select of the new billables' calls again (~140,000 instructions
//! per commit, 9 % of a single write's under load; callgrind, 2026-12-07), and each read its
//! terms. Our statements bind account ids, days and keys to primary-key prefixes, where the plan
//! is the same for every value.
//!
//! This is the only FFI in the store; nothing in it can unwind across the C boundary (no
//! panicking call; memory is reserved fallibly, and a failure is reported to SQLite as
//! SQLITE_NOMEM, which fails the statement).

use libsqlite3_sys as ffi;
use std::os::raw::{c_char, c_int};
use std::sync::OnceLock;

/// The function's SQL name, NUL-terminated for the C API.
const NAME: &[u8] = b"evo_pack\0";
const FIELD_SEP: u8 = super::FIELD_SEP as u8;
const ROW_SEP: u8 = super::ROW_SEP as u8;

/// One aggregate's state, kept in the context SQLite allocates for it (zeroed before the first
/// row): the rows so far, in a buffer from SQLite's allocator, so that [`finish`] hands the buffer
/// itself to SQLite as the result instead of a copy. `buf` is null until the first row, and
/// non-null from then on (so an empty first row still counts as a row, as in `group_concat`);
/// each row after the first starts with [`ROW_SEP`].
#[repr(C)]
struct Packed {
    buf: *mut u8,
    len: usize,
    cap: usize,
}

impl Packed {
    /// Room for `more` bytes after `len`; false when SQLite's allocator refuses (the buffer
    /// then stays as it was, still owned here). Grows four-fold, from 64 KiB: a term of 10,000
    /// roll-up rows (~600 KB) is copied twice on the way, not four times.
    ///
    /// # Safety
    /// `buf` is null or a block of `cap` bytes from SQLite's allocator.
    unsafe fn reserve(&mut self, more: usize) -> bool {
        let Some(need) = self.len.checked_add(more) else {
            return false;
        };
        if need <= self.cap && !self.buf.is_null() {
            return true;
        }
        let cap = need.max(self.cap.saturating_mul(4)).max(1 << 16);
        // SAFETY: `buf` is null or SQLite's own block (the caller's promise).
        let grown = unsafe { ffi::sqlite3_realloc64(self.buf.cast(), cap as u64) };
        if grown.is_null() {
            return false;
        }
        self.buf = grown.cast();
        self.cap = cap;
        true
    }

    /// Appends `bytes`.
    ///
    /// # Safety
    /// [`Packed::reserve`] made room for them.
    unsafe fn push(&mut self, bytes: &[u8]) {
        // SAFETY: `len + bytes.len() <= cap` (the caller's promise); the source is not ours.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.buf.add(self.len), bytes.len());
        }
        self.len += bytes.len();
    }
}

/// Registers [`register`] for every SQLite connection opened from now on (once per process);
/// answers SQLite's result code of the registration (`SQLITE_OK` = 0 on success).
pub fn install() -> c_int {
    static RC: OnceLock<c_int> = OnceLock::new();
    // SAFETY: `register` has the signature SQLite calls an automatic extension with, and it is a
    // plain function that lives as long as the process.
    *RC.get_or_init(|| unsafe { ffi::sqlite3_auto_extension(Some(register)) })
}

/// Called by SQLite for each new connection: sets the stability guarantee and adds the
/// aggregate (a failure of either fails the connection's opening).
unsafe extern "C" fn register(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection SQLite is opening; ENABLE_QPSG takes an int and an
    // optional int pointer for the setting read back (none here).
    let rc = unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            std::ptr::null_mut::<c_int>(),
        )
    };
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    // SAFETY: `db` is the connection SQLite is opening; NAME is NUL-terminated; the callbacks
    // match the aggregate signatures, and no user data or destructor is passed.
    unsafe {
        ffi::sqlite3_create_function_v2(
            db,
            NAME.as_ptr().cast(),
            -1,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS,
            std::ptr::null_mut(),
            None,
            Some(step),
            Some(finish),
            None,
        )
    }
}

/// This aggregate's state (see [`Packed`]). With `allocate` false none is made when none exists
/// (there was no row): null then.
unsafe fn state(ctx: *mut ffi::sqlite3_context, allocate: bool) -> *mut Packed {
    let size = if allocate {
        std::mem::size_of::<Packed>() as c_int
    } else {
        0
    };
    // SAFETY: `ctx` is the context SQLite passed to the callback; SQLite's allocator aligns to 8
    // bytes, enough for the pointer and the two sizes.
    unsafe { ffi::sqlite3_aggregate_context(ctx, size).cast() }
}

/// Appends one row: its fields, each after a separator.
unsafe extern "C" fn step(
    ctx: *mut ffi::sqlite3_context,
    n: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes `n` valid values in `argv` for this call, and the state is this
    // aggregate's own (zeroed when made), alive until `finish`; every push follows a reserve.
    unsafe {
        let p = state(ctx, true);
        if p.is_null() {
            return ffi::sqlite3_result_error_nomem(ctx);
        }
        let p = &mut *p;
        let first = p.buf.is_null();
        if !p.reserve(1) {
            return ffi::sqlite3_result_error_nomem(ctx);
        }
        if !first {
            p.push(&[ROW_SEP]);
        }
        let mut digits = itoa::Buffer::new();
        for i in 0..usize::try_from(n).unwrap_or(0) {
            let value = *argv.add(i);
            let field: &[u8] = match ffi::sqlite3_value_type(value) {
                ffi::SQLITE_INTEGER => digits.format(ffi::sqlite3_value_int64(value)).as_bytes(),
                ffi::SQLITE_NULL => &[],
                _ => {
                    let text = ffi::sqlite3_value_text(value);
                    let len = usize::try_from(ffi::sqlite3_value_bytes(value)).unwrap_or(0);
                    if text.is_null() {
                        &[]
                    } else {
                        std::slice::from_raw_parts(text, len)
                    }
                }
            };
            if !p.reserve(field.len() + 1) {
                return ffi::sqlite3_result_error_nomem(ctx);
            }
            if i > 0 {
                p.push(&[FIELD_SEP]);
            }
            p.push(field);
        }
    }
}

/// Gives the packed text (NULL without rows): the buffer itself, which SQLite frees with
/// `sqlite3_free` when it is done with it. SQLite calls this once per aggregate that saw a row,
/// also when its statement is reset or fails part way, so the buffer is never left behind.
unsafe extern "C" fn finish(ctx: *mut ffi::sqlite3_context) {
    // SAFETY: the state is null or this aggregate's own; its buffer is null or a block of
    // SQLite's allocator holding `len` bytes of UTF-8 (separators, integers and SQLite's own
    // text of values), whose ownership passes to SQLite here and is forgotten by the state.
    unsafe {
        let p = state(ctx, false);
        if p.is_null() || (*p).buf.is_null() {
            return ffi::sqlite3_result_null(ctx);
        }
        let (buf, len) = ((*p).buf, (*p).len);
        (*p).buf = std::ptr::null_mut();
        (*p).len = 0;
        (*p).cap = 0;
        ffi::sqlite3_result_text64(
            ctx,
            buf.cast(),
            len as u64,
            Some(ffi::sqlite3_free),
            ffi::SQLITE_UTF8 as u8,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::{c_int, ffi};
    use proptest::prelude::*;
    use sqlx::Row;

    /// A value of any SQLite storage class (blobs aside: no packed field is one).
    #[derive(Clone, Debug)]
    enum Value {
        Int(i64),
        Real(f64),
        Text(String),
        Null,
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            4 => any::<i64>().prop_map(Value::Int),
            2 => (-1_000_000i64..1_000_000).prop_map(Value::Int),
            1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::Real),
            3 => "[a-z0-9é€🦀 _-]{0,12}".prop_map(Value::Text),
            1 => Just(Value::Null),
        ]
    }

    /// `evo_pack` and `group_concat(printf(…))` over the same rows, in the same order.
    async fn both(
        db: &Store,
        rows: &[Vec<Value>],
        width: usize,
    ) -> (Option<String>, Option<String>) {
        let mut conn = db.pool.acquire().await.unwrap();
        let columns: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
        sqlx::query("DROP TABLE IF EXISTS packed_rows")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query(&format!(
            "CREATE TABLE packed_rows (n INTEGER PRIMARY KEY, {})",
            columns.join(", ")
        ))
        .execute(&mut *conn)
        .await
        .unwrap();
        let insert = format!("INSERT INTO packed_rows VALUES (?{})", ", ?".repeat(width));
        for (n, row) in rows.iter().enumerate() {
            let mut q = sqlx::query(&insert).bind(n as i64);
            for v in row {
                q = match v {
                    Value::Int(i) => q.bind(*i),
                    Value::Real(f) => q.bind(*f),
                    Value::Text(t) => q.bind(t.clone()),
                    Value::Null => q.bind(None::<String>),
                };
            }
            q.execute(&mut *conn).await.unwrap();
        }
        let list = columns.join(", ");
        let format = vec!["%s"; width].join("\u{1f}");
        let row = sqlx::query(&format!(
            "SELECT (SELECT evo_pack({list}) FROM (SELECT * FROM packed_rows ORDER BY n)), \
             (SELECT group_concat(printf('{format}', {list}), char(30)) \
              FROM (SELECT * FROM packed_rows ORDER BY n))"
        ))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        (row.get(0), row.get(1))
    }

    fn rows(width: usize) -> impl Strategy<Value = Vec<Vec<Value>>> {
        proptest::collection::vec(proptest::collection::vec(value(), width), 0..40)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The packed text is byte for byte what `group_concat(printf('%s␟…'), char(30))` gives,
        /// NULL without rows, whatever the values' types (the store relies on this on SQLite).
        #[test]
        fn evo_pack_equals_group_concat_of_printf(
            (width, rows) in (1usize..6).prop_flat_map(|w| (Just(w), rows(w)))
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let (packed, concat) = rt.block_on(async {
                let db = Store::connect("sqlite::memory:").await.unwrap();
                both(&db, &rows, width).await
            });
            prop_assert_eq!(packed.is_none(), rows.is_empty());
            prop_assert_eq!(packed, concat);
        }
    }

    #[tokio::test]
    async fn evo_pack_edges() {
        let db = Store::connect("sqlite::memory:").await.unwrap();
        let extremes = vec![
            vec![Value::Int(i64::MIN), Value::Int(i64::MAX), Value::Int(0)],
            vec![Value::Text(String::new()), Value::Null, Value::Int(-1)],
            vec![
                Value::Real(0.1),
                Value::Real(-2.5e300),
                Value::Text("c-00001".into()),
            ],
        ];
        let (packed, concat) = both(&db, &extremes, 3).await;
        assert_eq!(
            packed.as_deref(),
            Some("-9223372036854775808\u{1f}9223372036854775807\u{1f}0\u{1e}\u{1f}\u{1f}-1\u{1e}0.1\u{1f}-2.5e+300\u{1f}c-00001")
        );
        assert_eq!(packed, concat);
        // A row whose only field is empty is still a row, as in group_concat.
        let empty = vec![
            vec![Value::Text(String::new())],
            vec![Value::Text("x".into())],
        ];
        let (packed, concat) = both(&db, &empty, 1).await;
        assert_eq!(packed.as_deref(), Some("\u{1e}x"));
        assert_eq!(packed, concat);
        // Grouped: one text per group, each from its own state.
        let mut conn = db.pool.acquire().await.unwrap();
        let groups: Vec<(i64, String)> = sqlx::query_as(
            "SELECT n % 2, evo_pack(n, c0) FROM packed_rows GROUP BY n % 2 ORDER BY 1",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        assert_eq!(
            groups,
            vec![(0, "0\u{1f}".to_string()), (1, "1\u{1f}x".to_string())]
        );
    }

    /// How often a statement was planned again while it ran with a new value bound each time,
    /// on a table whose first key column is skewed and analyzed (so STAT4 has samples for it).
    fn replans(db: *mut ffi::sqlite3) -> i32 {
        let sql = b"SELECT count(*) FROM skewed WHERE a = ?1\0";
        let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
        // SAFETY: `db` is an open connection held locked by the caller; `sql` is NUL-terminated;
        // `stmt` is finalized before returning; every bound text is a static NUL-terminated
        // string (SQLITE_STATIC: SQLite does not copy or free it).
        unsafe {
            let rc = ffi::sqlite3_prepare_v2(
                db,
                sql.as_ptr().cast(),
                -1,
                &mut stmt,
                std::ptr::null_mut(),
            );
            assert_eq!(rc, ffi::SQLITE_OK);
            for value in [&b"big\0"[..], b"small\0", b"big\0", b"none\0"] {
                let rc = ffi::sqlite3_bind_text(
                    stmt,
                    1,
                    value.as_ptr().cast(),
                    -1,
                    ffi::SQLITE_STATIC(),
                );
                assert_eq!(rc, ffi::SQLITE_OK);
                assert_eq!(ffi::sqlite3_step(stmt), ffi::SQLITE_ROW);
                ffi::sqlite3_reset(stmt);
            }
            let n = ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
            ffi::sqlite3_finalize(stmt);
            n
        }
    }

    /// Every connection plans a statement once, whatever values are bound to it later; the same
    /// statement with the setting turned off is planned again for each new value (so the bundled
    /// library has STAT4, and the check can fail).
    #[tokio::test]
    async fn bound_values_do_not_replan() {
        use sqlx::Connection;
        assert_eq!(super::install(), ffi::SQLITE_OK);
        let mut conn = sqlx::sqlite::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query(
            "CREATE TABLE skewed (a TEXT NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b))",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
             INSERT INTO skewed SELECT CASE WHEN i <= 1990 THEN 'big' ELSE 'small' || i END, i FROM n",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query("ANALYZE").execute(&mut conn).await.unwrap();
        let samples: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_stat4")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(samples > 0, "no STAT4 samples");
        let mut handle = conn.lock_handle().await.unwrap();
        let db = handle.as_raw_handle().as_ptr();
        let setting = |set: c_int| {
            let mut now: c_int = -1;
            // SAFETY: the connection is locked by `handle`; the pointer receives the setting.
            let rc = unsafe {
                ffi::sqlite3_db_config(
                    db,
                    ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                    set,
                    &mut now as *mut c_int,
                )
            };
            assert_eq!(rc, ffi::SQLITE_OK);
            now
        };
        assert_eq!(setting(-1), 1, "a new connection has the guarantee on");
        assert_eq!(replans(db), 0);
        assert_eq!(setting(0), 0);
        assert!(
            replans(db) >= 3,
            "without the guarantee each new value replans"
        );
    }
}
