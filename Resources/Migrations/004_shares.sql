-- 004: share links for patients, and what the reception still has to print.
-- Released: never edit, add a new numbered file instead.

-- One link handed to a patient. The token and the second factor are kept
-- only as hashes, so a copy of this file opens nothing.
CREATE TABLE shares (
  id               INTEGER PRIMARY KEY,
  token_hash       BLOB NOT NULL UNIQUE,    -- SHA-256 of the 128-bit token
  scope            TEXT NOT NULL,           -- study | patient
  patient_id       TEXT NOT NULL,           -- DICOM PatientID at this site
  registry_patient TEXT NOT NULL DEFAULT '',-- registry id, to revoke on a consent denial
  patient_name     TEXT NOT NULL DEFAULT '',
  birth_date       TEXT NOT NULL DEFAULT '',-- DICOM DA, shown to staff only
  second_factor    TEXT NOT NULL,           -- pin | birth-date | none
  secret_salt      BLOB,
  secret_hash      BLOB,                    -- PBKDF2 of the PIN or birth date
  can_download     INTEGER NOT NULL DEFAULT 1,
  max_uses         INTEGER,                 -- NULL = unlimited unlocks
  uses             INTEGER NOT NULL DEFAULT 0,
  failed_attempts  INTEGER NOT NULL DEFAULT 0,
  locked_at        INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  created_by       TEXT NOT NULL,
  expires_at       INTEGER NOT NULL,
  revoked_at       INTEGER NOT NULL DEFAULT 0,
  revoked_by       TEXT NOT NULL DEFAULT '',
  revoke_reason    TEXT NOT NULL DEFAULT '',
  last_used_at     INTEGER NOT NULL DEFAULT 0,
  printed_at       INTEGER NOT NULL DEFAULT 0,
  auto             INTEGER NOT NULL DEFAULT 0,
  replaces         INTEGER,
  replaced_by      INTEGER,
  note             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX shares_by_patient ON shares (patient_id, created_at);
CREATE INDEX shares_by_registry_patient ON shares (registry_patient);

-- The studies a share opens, fixed when it is made: a study that arrives
-- later is not shown through an older link.
CREATE TABLE share_studies (
  share_id   INTEGER NOT NULL REFERENCES shares (id),
  orthanc_id TEXT NOT NULL,
  study_uid  TEXT NOT NULL,
  PRIMARY KEY (share_id, orthanc_id)
);
CREATE INDEX share_studies_by_study ON share_studies (orthanc_id);

-- A slip not printed yet keeps the token and PIN it must print, sealed with
-- AES-256-GCM under a key file beside the database (SlipSeal), and nothing
-- else does; the row is deleted once printed (or after PendingSlipHours).
CREATE TABLE share_pending_slips (
  share_id   INTEGER PRIMARY KEY REFERENCES shares (id),
  token      TEXT NOT NULL,
  pin        TEXT NOT NULL DEFAULT '',
  public_url TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Unlocked phones: the cookie's SHA-256, bound to one share, at most an hour.
CREATE TABLE share_sessions (
  session_hash BLOB PRIMARY KEY,
  share_id     INTEGER NOT NULL REFERENCES shares (id),
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  ip           TEXT NOT NULL DEFAULT ''
);
