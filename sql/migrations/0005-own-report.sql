-- 0005: sessions that carried only our own TLS-RPT report mail.
--
-- RFC 8460 section 5.3: a sender should not count, in its next report,
-- the sessions used to deliver its reports.  The collector tags them
-- (report_sender as the envelope sender of every message delivered in the
-- session) and the reporter leaves them out.  Not part of the event's
-- JSON form: it is the store's bookkeeping.
ALTER TABLE sessions ADD COLUMN own_report boolean NOT NULL DEFAULT false;
