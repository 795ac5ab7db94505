-- 0004: what the reporter needs besides 0002's reports and deliveries.
--
-- reports.gz keeps the exact gzip bytes delivered, so a rerun (after a
-- crash, or a retry the next day) sends the very same report, byte for
-- byte, with the same report-id.  report_lookups caches the DNS and
-- MTA-STS lookups per UTC day (RFC 8460 reports cover one day; a policy
-- looked up once that day is the policy of the whole day's report).
-- report_deliveries.state gains two values: sending (an attempt is in
-- flight) and interrupted (the reporter died during an attempt whose
-- outcome is unknown; never retried, so nothing is delivered twice).

ALTER TABLE reports ADD COLUMN gz bytea;
-- The human-readable part of mailed reports (totals, failures, unknowns).
ALTER TABLE reports ADD COLUMN summary text;

CREATE TABLE report_lookups (
	day date NOT NULL,
	kind text NOT NULL,                 -- tlsrpt, sts, tlsa
	name text NOT NULL,                 -- the domain or MX host asked
	result jsonb NOT NULL,
	looked_up timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (day, kind, name)
);
