-- 0003: what "tlsflow serve" reads beyond 0001/0002.
--
-- * daily (domain, day): the domain detail page and API read one domain's
--   days; the primary key leads with day, so without this they would scan
--   every domain of the range.
-- * reports (policy_domain, day): the reports sent for one domain.
-- * collector_counters: one row per source that a collector updates with
--   its counters (those it logs on SIGUSR1) whenever it stores a batch, so
--   that the Health page can show them.  Counts are since `started' (a
--   restarted collector starts again from zero).  Until collectors write
--   it the table stays empty and Health shows the checkpoints only.

CREATE INDEX daily_domain_day ON daily (domain, day);
CREATE INDEX reports_domain_day ON reports (policy_domain, day);

CREATE TABLE collector_counters (
	kind text NOT NULL,          -- as checkpoints.kind
	host text NOT NULL,          -- as checkpoints.host
	name text NOT NULL,          -- as checkpoints.name
	started timestamptz NOT NULL,   -- when this collector process started
	updated timestamptz NOT NULL DEFAULT now(),
	last_event timestamptz,      -- log time of the newest line or packet
	lines bigint NOT NULL DEFAULT 0,     -- lines (or packets) read
	events bigint NOT NULL DEFAULT 0,    -- session events emitted
	other bigint NOT NULL DEFAULT 0,     -- other programs' lines, skipped
	unused bigint NOT NULL DEFAULT 0,    -- MTA lines that carry nothing
	malformed bigint NOT NULL DEFAULT 0, -- MTA lines that did not parse
	truncated bigint NOT NULL DEFAULT 0, -- lines cut at 8 KiB
	badtime bigint NOT NULL DEFAULT 0,   -- timestamps that did not parse
	evicted bigint NOT NULL DEFAULT 0,   -- open sessions dropped (memcap)
	expired bigint NOT NULL DEFAULT 0,   -- open sessions closed when idle
	PRIMARY KEY (kind, host, name)
);

-- RFC 3339 UTC text of a time, as the API shows it (2026-11-22T10:00:01Z).
CREATE FUNCTION tlsflow_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
