-- Account totals of billing_rollup: per tier and period, the sums of all its customers' rows and
-- how many customers were billed (billed_calls > 0), so a series of whole periods of an account
-- reads one row per period however many customers it has. Kept in the transaction of every
-- write of billing_rollup; filled here from what billing_rollup holds now.
CREATE TABLE billing_totals (
    account_id TEXT NOT NULL,
    tier INTEGER NOT NULL,
    start INTEGER NOT NULL,
    customers_billed BIGINT NOT NULL,
    billed_calls BIGINT NOT NULL,
    international_calls BIGINT NOT NULL,
    international_micros BIGINT NOT NULL,
    recorded_calls BIGINT NOT NULL,
    PRIMARY KEY (account_id, tier, start)
) WITHOUT ROWID;

INSERT INTO billing_totals (account_id, tier, start, customers_billed, billed_calls, international_calls, international_micros, recorded_calls)
SELECT account_id, tier, start, SUM(CASE WHEN billed_calls > 0 THEN 1 ELSE 0 END), SUM(billed_calls),
    SUM(international_calls), SUM(international_micros), SUM(recorded_calls)
FROM billing_rollup GROUP BY account_id, tier, start;
