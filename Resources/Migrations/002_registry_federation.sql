-- 002: hospitals, the patient index, and what federation needs to remember.
-- Released: never edit, add a new numbered file instead.

-- Hospitals (sites) this one knows. This site's own identity stays in the
-- configuration; a remote site is reached through an Orthanc peer of that name.
CREATE TABLE sites (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  address       TEXT NOT NULL DEFAULT '',
  phone         TEXT NOT NULL DEFAULT '',
  email         TEXT NOT NULL DEFAULT '',
  orthanc_peer  TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

-- The patient index. Unlike the study index this is a source of truth (staff
-- enter and link it), so rows are never deleted: a merged entry keeps
-- existing with merged_into set, so the merge can be explained later.
CREATE TABLE patients (
  id           TEXT PRIMARY KEY,          -- "PAT-" + 10 random characters
  national_id  TEXT UNIQUE,               -- NULL when unknown
  first_name   TEXT NOT NULL DEFAULT '',
  last_name    TEXT NOT NULL DEFAULT '',
  birth_date   TEXT NOT NULL DEFAULT '',  -- DICOM DA
  sex          TEXT NOT NULL DEFAULT '',
  phone        TEXT NOT NULL DEFAULT '',
  status       TEXT NOT NULL,             -- registered | unlinked
  merged_into  TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX patients_by_last_name ON patients (last_name COLLATE NOCASE);
CREATE INDEX patients_by_birth_date ON patients (birth_date);
CREATE INDEX patients_by_status ON patients (status);

-- Each site's own PatientID for a registry patient. A PatientID names one
-- patient within a site (Orthanc keys patients by it too).
CREATE TABLE patient_identifiers (
  site_id     TEXT NOT NULL,
  local_id    TEXT NOT NULL,
  issuer      TEXT NOT NULL DEFAULT '',
  patient_id  TEXT NOT NULL REFERENCES patients (id),
  PRIMARY KEY (site_id, local_id)
);
CREATE INDEX patient_identifiers_by_patient ON patient_identifiers (patient_id);

-- Why two entries became one, and which identifiers moved.
CREATE TABLE patient_merges (
  id           INTEGER PRIMARY KEY,
  survivor     TEXT NOT NULL,
  merged       TEXT NOT NULL,
  identifiers  TEXT NOT NULL,  -- JSON list of the identifiers that moved
  by_user      TEXT NOT NULL,
  reason       TEXT NOT NULL,
  at           INTEGER NOT NULL
);
CREATE INDEX patient_merges_by_survivor ON patient_merges (survivor);

-- Studies pulled from another site. Kept apart from the study index because
-- the index is rebuilt from Orthanc, which does not know where a study came from.
CREATE TABLE study_origins (
  study_uid     TEXT PRIMARY KEY,
  site_id       TEXT NOT NULL,
  job_id        TEXT NOT NULL,
  retrieved_at  INTEGER NOT NULL
);

-- Pulls of remote studies, resumed after a restart.
CREATE TABLE retrieve_jobs (
  id                 TEXT PRIMARY KEY,
  site_id            TEXT NOT NULL,
  study_uid          TEXT NOT NULL,
  state              TEXT NOT NULL,  -- pending | running | succeeded | failed
  instances_total    INTEGER NOT NULL DEFAULT 0,
  instances_done     INTEGER NOT NULL DEFAULT 0,
  instances_skipped  INTEGER NOT NULL DEFAULT 0,
  error              TEXT NOT NULL DEFAULT '',
  requested_by       TEXT NOT NULL DEFAULT '',
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
);
CREATE INDEX retrieve_jobs_newest ON retrieve_jobs (created_at DESC);
