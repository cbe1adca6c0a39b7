-- evo-billing schema (SQLite). Money: BIGINT micro-units. Days: days since 1970-01-01 (UTC).
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    account_sid TEXT NOT NULL UNIQUE,
    home_country TEXT NOT NULL,
    currency TEXT NOT NULL
);

-- A tree per account. path = '/root-id/child-id/.../self-id/' so a subtree is a prefix match.
CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    parent_id TEXT REFERENCES customers(id),
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    breadcrumb TEXT NOT NULL
);
CREATE INDEX customers_by_account_path ON customers(account_id, path);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    customer_id TEXT REFERENCES customers(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE user_accounts (
    user_id TEXT NOT NULL REFERENCES users(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (user_id, account_id)
);

-- Sign-in sessions (bearer tokens and cookies): only a SHA-256 of the token is stored.
CREATE TABLE auth_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked INTEGER NOT NULL DEFAULT 0
);

-- Call sessions tie a call SID to an account and customer (NewBillable.sessionId).
CREATE TABLE call_sessions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    call_sid TEXT NOT NULL
);

-- The carrier's ledger.
CREATE TABLE calls (
    account_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    start_time BIGINT NOT NULL,
    day INTEGER NOT NULL,
    direction TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    country TEXT NOT NULL,
    international INTEGER NOT NULL,
    duration_secs BIGINT NOT NULL,
    price_micros BIGINT NOT NULL,
    currency TEXT NOT NULL,
    recording_secs BIGINT NOT NULL,
    recording_price_micros BIGINT NOT NULL,
    PRIMARY KEY (account_id, sid)
);
-- Roll-up rebuilds read one account's calls of a few days.
CREATE INDEX calls_by_day ON calls(account_id, day);

-- A billable: a call billed to a customer. Unique per (account, call SID): idempotency.
CREATE TABLE billables (
    account_id TEXT NOT NULL,
    call_sid TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    session_id TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, call_sid)
);

CREATE TABLE sms (
    account_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    day INTEGER NOT NULL,
    direction TEXT NOT NULL,
    country TEXT NOT NULL,
    segments BIGINT NOT NULL,
    price_micros BIGINT NOT NULL,
    PRIMARY KEY (account_id, sid)
);

CREATE TABLE number_rentals (
    account_id TEXT NOT NULL,
    number TEXT NOT NULL,
    kind TEXT NOT NULL,
    charged_at BIGINT NOT NULL,
    day INTEGER NOT NULL,
    price_micros BIGINT NOT NULL,
    PRIMARY KEY (account_id, number, day)
);

-- Daily roll-ups, maintained in the same transaction as the writes they summarize.
-- Billing: billed calls (a billable whose call record is in the ledger), per customer and day.
CREATE TABLE billing_daily (
    account_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    day INTEGER NOT NULL,
    billed_calls BIGINT NOT NULL,
    international_calls BIGINT NOT NULL,
    international_micros BIGINT NOT NULL,
    recorded_calls BIGINT NOT NULL,
    PRIMARY KEY (account_id, customer_id, day)
);
-- GetBilling reads one account's days: covering, so the table is never touched.
CREATE INDEX billing_daily_by_day ON billing_daily(account_id, day, customer_id, billed_calls, international_calls, international_micros, recorded_calls);

-- Usage per leaf category (calls-inbound, sms-outbound, phonenumbers-local, recordings...).
CREATE TABLE usage_daily (
    account_id TEXT NOT NULL,
    day INTEGER NOT NULL,
    category TEXT NOT NULL,
    count BIGINT NOT NULL,
    usage_micros BIGINT NOT NULL,
    price_micros BIGINT NOT NULL,
    PRIMARY KEY (account_id, day, category)
);

CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    owner_user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    status_message TEXT,
    params TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    job_id TEXT,
    email TEXT,
    webhook_url TEXT,
    server TEXT,
    locked_until BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    csv TEXT,
    xlsx BLOB,
    webhook_status TEXT,
    email_status TEXT
);
CREATE INDEX reports_queue ON reports(status, created_at);
CREATE INDEX reports_owner ON reports(owner_user_id, created_at);

-- Messages that could not be sent (no SMTP configured, or SMTP failed): nothing is dropped.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
