-- Notifications as durable intentions: written in the transaction that ends a report, sent by a
-- delivery worker (at least once, each attempt recorded), taken over after a crash. The id is
-- the idempotency key a webhook receiver sees (X-Evo-Delivery-Id). Times in milliseconds since
-- the epoch, so that short retry delays (and tests) are exact.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL,
    owner_user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    locked_until_ms BIGINT,
    locked_by TEXT,
    last_result TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_ms);
CREATE INDEX deliveries_owner ON deliveries(owner_user_id, status);
CREATE INDEX deliveries_report ON deliveries(report_id);
CREATE INDEX reports_owner_status ON reports(owner_user_id, status);
