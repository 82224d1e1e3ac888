-- 003: consent records and the audit trail. Released: never edit, add a new
-- numbered file instead.

-- What each patient allowed. Rows are only ever added: a revocation is a new
-- record with decision 'deny', so the history explains every past decision.
CREATE TABLE consents (
  id               INTEGER PRIMARY KEY,
  patient_id       TEXT NOT NULL REFERENCES patients (id),
  kind             TEXT NOT NULL,     -- share | federation | research
  decision         TEXT NOT NULL,     -- permit | deny
  method           TEXT NOT NULL,     -- verbal | signed-form | attestation | electronic
  valid_from       TEXT NOT NULL DEFAULT '',  -- DICOM DA, '' = from the start
  valid_until      TEXT NOT NULL DEFAULT '',  -- DICOM DA, '' = open-ended
  note             TEXT NOT NULL DEFAULT '',
  attachment       BLOB,
  attachment_type  TEXT NOT NULL DEFAULT '',
  recorded_by      TEXT NOT NULL,
  recorded_at      INTEGER NOT NULL
);
CREATE INDEX consents_by_patient ON consents (patient_id, kind, recorded_at);

-- Studies whose patient's consent denies a use, derived from consents when a
-- study is indexed or a consent recorded; read by federation and auto-share.
CREATE TABLE study_restrictions (
  study_uid   TEXT PRIMARY KEY,
  federation  INTEGER NOT NULL DEFAULT 0,
  share       INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL
);

-- The audit trail: append-only. Each row carries the SHA-256 of the previous
-- row's hash and its own canonical content, so an edited or removed row
-- breaks the chain at a place /bridge/audit/verify can name.
CREATE TABLE audit_events (
  id          INTEGER PRIMARY KEY,
  time_ms     INTEGER NOT NULL,          -- Unix milliseconds, UTC
  actor_name  TEXT NOT NULL,
  actor_role  TEXT NOT NULL,
  actor_kind  TEXT NOT NULL,             -- user | peer | share | dicom | system
  source_ip   TEXT NOT NULL,
  action      TEXT NOT NULL,
  outcome     TEXT NOT NULL,             -- success | failure | denied
  patient_id  TEXT NOT NULL,             -- registry id, '' when unknown
  study_uid   TEXT NOT NULL,
  detail      TEXT NOT NULL,             -- JSON object
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
);
CREATE INDEX audit_by_patient ON audit_events (patient_id, id);
CREATE INDEX audit_by_study ON audit_events (study_uid, id);
CREATE INDEX audit_by_actor ON audit_events (actor_name, id);
CREATE INDEX audit_by_action ON audit_events (action, id);
CREATE INDEX audit_by_time ON audit_events (time_ms);

-- Where the chain starts after retention pruning: the last pruned event's id
-- and hash, so what remains still verifies.
CREATE TABLE audit_checkpoints (
  id              INTEGER PRIMARY KEY,
  last_pruned_id  INTEGER NOT NULL,
  last_hash       TEXT NOT NULL,
  pruned_count    INTEGER NOT NULL,
  at              INTEGER NOT NULL
);

-- "dicom.stored" is one event per study and sender: how many instances of
-- each were reported, so later arrivals report only what is new.
CREATE TABLE audit_stored_reported (
  study_uid   TEXT NOT NULL,
  source_key  TEXT NOT NULL,
  instances   INTEGER NOT NULL,
  PRIMARY KEY (study_uid, source_key)
);
