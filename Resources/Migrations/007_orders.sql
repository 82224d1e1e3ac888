-- 007: imaging orders (service requests), what the modality worklist offers,
-- how arriving studies are tied to them, and the studies staff must match by
-- hand. Released: never edit, add a new numbered file.

CREATE TABLE orders (
  id                    INTEGER PRIMARY KEY AUTOINCREMENT,
  accession             TEXT NOT NULL UNIQUE,   -- AccessionNumber, unique at this site
  study_uid             TEXT NOT NULL UNIQUE,   -- StudyInstanceUID minted at creation
  registry_patient      TEXT NOT NULL DEFAULT '',  -- "PAT-..." when the national ID is known
  national_id           TEXT NOT NULL DEFAULT '',
  patient_id            TEXT NOT NULL,          -- this site's PatientID
  issuer                TEXT NOT NULL DEFAULT '',  -- IssuerOfPatientID
  patient_name          TEXT NOT NULL,          -- DICOM PN (FAMILY^GIVEN^MIDDLE)
  birth_date            TEXT NOT NULL DEFAULT '',  -- DICOM DA
  sex                   TEXT NOT NULL DEFAULT '',  -- M, F, O or ''
  procedure_code        TEXT NOT NULL DEFAULT '',
  procedure_scheme      TEXT NOT NULL DEFAULT '',
  procedure_description TEXT NOT NULL DEFAULT '',
  modality              TEXT NOT NULL,
  station_aet           TEXT NOT NULL DEFAULT '',
  station_name          TEXT NOT NULL DEFAULT '',
  location              TEXT NOT NULL DEFAULT '',
  scheduled_date        TEXT NOT NULL,          -- DICOM DA, the hospital's local time
  scheduled_time        TEXT NOT NULL,          -- DICOM TM (HHMMSS), local time
  priority              TEXT NOT NULL,          -- stat | urgent | routine
  referring_physician   TEXT NOT NULL DEFAULT '',  -- DICOM PN
  reason                TEXT NOT NULL DEFAULT '',
  notes                 TEXT NOT NULL DEFAULT '',
  status                TEXT NOT NULL,          -- scheduled | arrived | in-progress | completed | reported | cancelled | discontinued
  status_reason         TEXT NOT NULL DEFAULT '',
  source                TEXT NOT NULL,          -- rest | fhir
  placer_id             TEXT NOT NULL DEFAULT '',  -- the ordering system's own identifier
  fhir_resource         TEXT NOT NULL DEFAULT '',  -- the ServiceRequest as received
  created_at            INTEGER NOT NULL,
  created_by            TEXT NOT NULL,
  updated_at            INTEGER NOT NULL
);
CREATE INDEX orders_schedule ON orders (scheduled_date, scheduled_time);
CREATE INDEX orders_status ON orders (status, scheduled_date);
CREATE INDEX orders_patient ON orders (patient_id);

-- Every change of an order, oldest first.
CREATE TABLE order_history (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id    INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,             -- the audit action (order.created, order.arrived, ...)
  from_status TEXT NOT NULL DEFAULT '',
  to_status   TEXT NOT NULL DEFAULT '',
  detail      TEXT NOT NULL DEFAULT '{}' -- JSON
);
CREATE INDEX order_history_order ON order_history (order_id);

-- The studies that fulfil an order (a study fulfils at most one).
CREATE TABLE order_studies (
  orthanc_id  TEXT PRIMARY KEY,
  study_uid   TEXT NOT NULL,
  order_id    INTEGER NOT NULL,
  matched_by  TEXT NOT NULL,             -- study-uid | accession | reconciled
  linked_at   INTEGER NOT NULL
);
CREATE INDEX order_studies_order ON order_studies (order_id);
CREATE INDEX order_studies_uid ON order_studies (study_uid);

-- Arrived studies that match no order (or an order that no longer expects
-- images): the reconciliation list.
CREATE TABLE order_mismatches (
  orthanc_id    TEXT PRIMARY KEY,
  study_uid     TEXT NOT NULL,
  kind          TEXT NOT NULL,           -- no-order | order-cancelled | patient-differs
  order_id      INTEGER,                 -- the order it named, when it named one
  patient_id    TEXT NOT NULL DEFAULT '',
  patient_name  TEXT NOT NULL DEFAULT '',
  accession     TEXT NOT NULL DEFAULT '',
  study_date    TEXT NOT NULL DEFAULT '',
  modalities    TEXT NOT NULL DEFAULT '',  -- "CT\MR"
  description   TEXT NOT NULL DEFAULT '',
  detected_at   INTEGER NOT NULL,
  resolved_at   INTEGER NOT NULL DEFAULT 0,
  resolved_by   TEXT NOT NULL DEFAULT '',
  resolution    TEXT NOT NULL DEFAULT ''   -- attached | dismissed | deleted
);
CREATE INDEX order_mismatches_open ON order_mismatches (resolved_at, detected_at);

-- Staff attached a study to an order: the study is copied in Orthanc with
-- the order's identifiers, then the original is deleted once the copy is
-- complete. Each step is recorded so that a restart goes on from where it was.
CREATE TABLE order_attachments (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id           INTEGER NOT NULL,
  source_orthanc_id  TEXT NOT NULL,
  source_study_uid   TEXT NOT NULL,
  source_instances   INTEGER NOT NULL DEFAULT 0,
  state              TEXT NOT NULL,        -- pending | copying | verifying | done | failed
  job_id             TEXT NOT NULL DEFAULT '',   -- unused: instances are copied one by one
  target_orthanc_id  TEXT NOT NULL DEFAULT '',
  requested_by       TEXT NOT NULL,
  requested_address  TEXT NOT NULL DEFAULT '',
  requested_at       INTEGER NOT NULL,
  finished_at        INTEGER NOT NULL DEFAULT 0,
  error              TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_attachments_state ON order_attachments (state);

-- Counters of generated accession numbers, one per expanded prefix (so a
-- pattern with the date starts again every day).
CREATE TABLE order_counters (
  prefix  TEXT PRIMARY KEY,
  value   INTEGER NOT NULL
);
