-- 0001: session events, their daily rollup, and source checkpoints.
--
-- sessions holds one row per SMTP session (DESIGN.md section 2),
-- partitioned by UTC day (no indexes: writes are the hot path, and readers
-- use the rollups or scan one day); partitions are made on demand by
-- tlsflow_ensure_day() and dropped by "tlsflow db prune".  No sequences
-- and no cross-domain unique keys, so the tables can be distributed on
-- domain later.

CREATE TABLE sessions (
	ts timestamptz NOT NULL,
	source text,
	host text,
	direction text,
	domain text,
	peer_host text,
	peer_ip inet,
	peer_port integer,
	peer_helo text,
	local_ip inet,
	local_port integer,
	tls text NOT NULL,
	tls_version text,
	cipher text,
	cipher_bits integer,
	trust text,
	result text,
	reason text,
	policy text,
	messages integer NOT NULL DEFAULT 0,
	status text,
	queue_ids text[],
	origin text
) PARTITION BY RANGE (ts);

-- The daily rollup the dashboard and reporter read.  Empty string stands
-- for "none" so that the key has no NULLs.  Kept in step with sessions by
-- the writer, in the same transaction as the rows it counts.
CREATE TABLE daily (
	day date NOT NULL,
	direction text NOT NULL,
	domain text NOT NULL,
	tls text NOT NULL,
	result text NOT NULL,
	trust text NOT NULL,
	sessions bigint NOT NULL,
	messages bigint NOT NULL,
	PRIMARY KEY (day, direction, domain, tls, result, trust)
);

-- Where each source stopped: committed with the events read before it.
CREATE TABLE checkpoints (
	kind text NOT NULL,          -- file, journal, pcap, synthetic
	host text NOT NULL,          -- the MTA host running the collector
	name text NOT NULL,          -- path, journal name, interface
	inode bigint,
	off bigint,                  -- everything before it is stored
	resume_off bigint,           -- where to re-read from (<= off): the
	                             -- first line of a session still open
	first_hash text,             -- hash of the file's first line
	cursor text,                 -- journald cursor
	updated timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (kind, host, name)
);

-- Create the partition of sessions holding `d' unless it exists.  Several
-- collectors may race here: the advisory lock serialises them.
CREATE FUNCTION tlsflow_ensure_day(d date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	part text := format('sessions_%s', to_char(d, 'YYYYMMDD'));
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('tlsflow_ensure_day'));
	IF to_regclass(part) IS NULL THEN
		EXECUTE format(
		    'CREATE TABLE %I PARTITION OF sessions FOR VALUES '
		    'FROM (%L) TO (%L)', part,
		    (d::timestamp AT TIME ZONE 'UTC'),
		    ((d + 1)::timestamp AT TIME ZONE 'UTC'));
	END IF;
END $$;

-- Drop the session partitions wholly before `keep_from'; returns how many.
CREATE FUNCTION tlsflow_prune(keep_from date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	n integer := 0;
BEGIN
	FOR r IN
		SELECT c.relname
		FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'sessions'::regclass
		  AND c.relname ~ '^sessions_[0-9]{8}$'
		  AND to_date(substr(c.relname, 10), 'YYYYMMDD') < keep_from
	LOOP
		EXECUTE format('DROP TABLE %I', r.relname);
		n := n + 1;
	END LOOP;
	RETURN n;
END $$;
