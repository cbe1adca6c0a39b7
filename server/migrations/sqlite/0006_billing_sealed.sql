-- Sealed periods: one row per account, tier and period holding the packed text of all its
-- customers' billing_rollup rows (what a read of that period would scan), so a read of a closed
-- period of 10,000 customers fetches one value instead of scanning 10,000 rows. A seal is valid
-- only while its `gen` equals the period's `billing_totals.gen`, which every write of the
-- period's roll-up rows increments in its own transaction: a stale seal is never used.
ALTER TABLE billing_totals ADD COLUMN gen BIGINT NOT NULL DEFAULT 0;

CREATE TABLE billing_sealed (
    account_id TEXT NOT NULL,
    tier INTEGER NOT NULL,
    start INTEGER NOT NULL,
    gen BIGINT NOT NULL,
    packed TEXT NOT NULL,
    PRIMARY KEY (account_id, tier, start)
);
