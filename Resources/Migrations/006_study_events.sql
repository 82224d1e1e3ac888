-- 006: the durable path after a study is indexed, and leases for work that
-- must run on one node only. Released: never edit, add a new numbered file.

-- Every change the index records, in order, written in the same transaction
-- as the index row: nothing that happens after a study is indexed can be
-- lost by a crash between the two. Each consumer (patient linking, consent
-- marks, auto-share, the audit's "stored" report; later order matching,
-- routing, reporting) keeps its own cursor and catches up after a restart.
CREATE TABLE study_events (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  orthanc_id  TEXT NOT NULL,
  study_uid   TEXT NOT NULL,
  kind        TEXT NOT NULL,     -- indexed | stable | deleted
  at          INTEGER NOT NULL   -- Unix seconds
);
CREATE TABLE study_event_cursors (
  consumer    TEXT PRIMARY KEY,
  seq         INTEGER NOT NULL,  -- the last event this consumer has handled
  updated_at  INTEGER NOT NULL
);

-- Whether the study's last indexing saw it complete (Orthanc's StableStudy).
-- Orthanc forgets which studies it still waited on when it restarts, so the
-- reconcile at start completes those still marked 0. Rows from before this
-- migration were complete already.
ALTER TABLE studies ADD COLUMN stable INTEGER NOT NULL DEFAULT 0;
UPDATE studies SET stable = 1;

-- Work that must run once across the nodes sharing this database (the audit
-- chain writer, the syslog forwarder, retrieve jobs, reconcile, pruning, a
-- watch folder): whoever holds an unexpired lease does it, and renews it.
CREATE TABLE leases (
  name        TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  expires_at  INTEGER NOT NULL
);
