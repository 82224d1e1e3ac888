-- 001: the foundation. Released: never edit, add a new numbered file instead.

-- The study index mirrors what Orthanc holds, one row per study. Orthanc stays
-- the source of truth: a reconcile can rebuild every row from Orthanc's REST
-- API, so this table is an index for fast searching and paging, not a copy of
-- anything that would be lost. Keyed by Orthanc's ID: Orthanc tells studies
-- apart by PatientID and StudyInstanceUID, so two of its studies may share a
-- StudyInstanceUID (bad data from a modality) and neither may be hidden.
CREATE TABLE studies (
  orthanc_id           TEXT PRIMARY KEY,
  study_uid            TEXT NOT NULL,
  patient_id           TEXT NOT NULL DEFAULT '',
  patient_name         TEXT NOT NULL DEFAULT '',
  patient_birth_date   TEXT NOT NULL DEFAULT '',  -- DICOM DA (YYYYMMDD)
  patient_sex          TEXT NOT NULL DEFAULT '',
  study_date           TEXT NOT NULL DEFAULT '',  -- DICOM DA, sorts as text
  study_time           TEXT NOT NULL DEFAULT '',  -- DICOM TM
  description          TEXT NOT NULL DEFAULT '',
  accession_number     TEXT NOT NULL DEFAULT '',
  modalities           TEXT NOT NULL DEFAULT '',  -- backslash-separated, as in DICOM
  series_count         INTEGER NOT NULL DEFAULT 0,
  instance_count       INTEGER NOT NULL DEFAULT 0,
  first_received       INTEGER NOT NULL DEFAULT 0,  -- Unix seconds, UTC
  last_received        INTEGER NOT NULL DEFAULT 0,
  orthanc_last_update  TEXT NOT NULL DEFAULT '',   -- Orthanc's LastUpdate, to spot changes at reconcile
  sources              TEXT NOT NULL DEFAULT '[]', -- JSON: one entry per series (origin, AET, IP, user)
  indexed_at           INTEGER NOT NULL
);
-- "Newest first" paging walks this index without sorting.
CREATE INDEX studies_newest_first ON studies (study_date DESC, study_time DESC, first_received DESC, orthanc_id);
CREATE INDEX studies_by_uid ON studies (study_uid);
CREATE INDEX studies_by_patient ON studies (patient_id);

-- One row per (modality, study) so that a modality filter uses an index
-- instead of a LIKE over the backslash-separated list.
CREATE TABLE study_modalities (
  modality    TEXT NOT NULL,
  orthanc_id  TEXT NOT NULL REFERENCES studies (orthanc_id) ON DELETE CASCADE,
  PRIMARY KEY (modality, orthanc_id)
);
CREATE INDEX study_modalities_by_study ON study_modalities (orthanc_id);

-- Staff and peer accounts. password_hash is "pbkdf2-sha256$<iterations>$<salt>$<key>"
-- (base64): the iteration count travels with the hash so it can be raised later.
CREATE TABLE users (
  id             INTEGER PRIMARY KEY,
  username       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash  TEXT NOT NULL,
  role           TEXT NOT NULL,
  disabled       INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  last_login_at  INTEGER NOT NULL DEFAULT 0
);

-- Browser sessions. Only the SHA-256 of the cookie's token is kept, so a copy
-- of this file does not let anyone in.
CREATE TABLE sessions (
  token_hash    TEXT PRIMARY KEY,
  user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  remote_ip     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Small facts the plugin keeps between runs (e.g. when the index was last
-- reconciled with Orthanc).
CREATE TABLE plugin_state (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
