-- Roll-ups in tiers: for each period of each tier (0 day, 1 ISO week, 2 calendar month,
-- 3 calendar year; `start` is the day number of the period's first day), the sums of its days.
-- Tier 0 is what billing_daily and usage_daily were; tiers 1-3 are built from it by the server
-- after this migration (it knows the calendar). Ordered (account, tier, start, key) so that one
-- period of an account is one contiguous range, in key order.
CREATE TABLE billing_rollup (
    account_id TEXT NOT NULL,
    tier BIGINT NOT NULL,
    start BIGINT NOT NULL,
    customer_id TEXT NOT NULL,
    billed_calls BIGINT NOT NULL,
    international_calls BIGINT NOT NULL,
    international_micros BIGINT NOT NULL,
    recorded_calls BIGINT NOT NULL,
    -- INCLUDE: index-only scans of a period read the sums from the index itself.
    PRIMARY KEY (account_id, tier, start, customer_id)
        INCLUDE (billed_calls, international_calls, international_micros, recorded_calls)
);

CREATE TABLE usage_rollup (
    account_id TEXT NOT NULL,
    tier BIGINT NOT NULL,
    start BIGINT NOT NULL,
    category TEXT NOT NULL,
    count BIGINT NOT NULL,
    usage_micros BIGINT NOT NULL,
    price_micros BIGINT NOT NULL,
    PRIMARY KEY (account_id, tier, start, category)
);

INSERT INTO billing_rollup (account_id, tier, start, customer_id, billed_calls, international_calls, international_micros, recorded_calls)
SELECT account_id, 0, day, customer_id, billed_calls, international_calls, international_micros, recorded_calls FROM billing_daily;
INSERT INTO usage_rollup (account_id, tier, start, category, count, usage_micros, price_micros)
SELECT account_id, 0, day, category, count, usage_micros, price_micros FROM usage_daily;

DROP TABLE billing_daily;
DROP TABLE usage_daily;
-- Ask the server to build tiers 1-3 from tier 0.
INSERT INTO settings (key, value) VALUES ('rollup_tiers', 'rebuild')
ON CONFLICT (key) DO UPDATE SET value = 'rebuild';
