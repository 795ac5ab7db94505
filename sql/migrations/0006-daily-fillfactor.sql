-- 0006: room in the daily rollup's pages for HOT updates.
--
-- Every batch adds its counts to rows of `daily' that mostly exist
-- already.  With full pages each such update writes a new tuple elsewhere
-- and touches every index; with free room on the page PostgreSQL updates
-- in place (HOT), as no indexed column changes.  Measured on the
-- benchmark's 3-million-line log: about 20% faster collection.
ALTER TABLE daily SET (fillfactor = 50);
