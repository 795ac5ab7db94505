-- 0002: TLS-RPT reports we generate and their deliveries (RFC 8460).
--
-- One report per policy domain per UTC day.  The JSON is kept verbatim
-- as sent (before gzip); every delivery attempt to every rua destination
-- is recorded so that nothing is sent twice and failures are retried.

CREATE TABLE reports (
	report_id text PRIMARY KEY,
	day date NOT NULL,
	policy_domain text NOT NULL,
	policy_type text NOT NULL,          -- sts, tlsa, no-policy-found
	filename text NOT NULL,             -- RFC 8460 section 3 name
	generated timestamptz NOT NULL DEFAULT now(),
	successful bigint NOT NULL,
	failed bigint NOT NULL,
	unknown bigint NOT NULL,            -- sessions with tls = unknown
	body jsonb NOT NULL,                -- the report as sent
	lookups jsonb,                      -- TXT/MTA-STS/TLSA lookups used
	UNIQUE (day, policy_domain)
);

CREATE TABLE report_deliveries (
	report_id text NOT NULL REFERENCES reports ON DELETE CASCADE,
	destination text NOT NULL,          -- the rua URI
	state text NOT NULL,                -- pending, sent, failed, suppressed
	attempts integer NOT NULL DEFAULT 0,
	first_attempt timestamptz,
	last_attempt timestamptz,
	next_attempt timestamptz,
	last_error text,
	delivered timestamptz,
	PRIMARY KEY (report_id, destination)
);
CREATE INDEX ON report_deliveries (state, next_attempt);
