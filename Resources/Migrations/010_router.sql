-- 010: the router's durable queue. Released: never edit, add a new numbered file.

-- One delivery per (study, destination, trigger): "study" for the images,
-- "report:<id>" for a signed report. States: queued, sending, waiting (a
-- precondition is missing: the platform's ServiceRequest, an accession
-- number), retrying (next_attempt_at), failed (dead letter, with the
-- reason), delivered. Instances arriving after a delivery queue the same row
-- again (an update), never a second one.
CREATE TABLE router_deliveries (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  study_uid           TEXT NOT NULL,
  orthanc_id          TEXT NOT NULL,
  destination         TEXT NOT NULL,
  trigger_key         TEXT NOT NULL,
  rule                TEXT NOT NULL,
  accession           TEXT NOT NULL DEFAULT '',
  patient_name        TEXT NOT NULL DEFAULT '',
  state               TEXT NOT NULL,
  reason              TEXT NOT NULL DEFAULT '',
  attempts            INTEGER NOT NULL DEFAULT 0,
  next_attempt_at     INTEGER NOT NULL DEFAULT 0,   -- Unix milliseconds
  instances_received  INTEGER NOT NULL DEFAULT 0,
  instances_sent      INTEGER NOT NULL DEFAULT 0,
  instances_confirmed INTEGER NOT NULL DEFAULT 0,
  remote_id           TEXT NOT NULL DEFAULT '',     -- e.g. the ImagingStudy id
  remote_url          TEXT NOT NULL DEFAULT '',
  payload             TEXT NOT NULL DEFAULT '',     -- a report's content
  update_pending      INTEGER NOT NULL DEFAULT 0,   -- instances came while sending
  created_at          INTEGER NOT NULL,             -- Unix seconds
  updated_at          INTEGER NOT NULL,
  delivered_at        INTEGER NOT NULL DEFAULT 0,
  UNIQUE (study_uid, destination, trigger_key)
);
CREATE INDEX router_deliveries_due ON router_deliveries (state, next_attempt_at);
CREATE INDEX router_deliveries_accession ON router_deliveries (accession);

-- What each delivery has sent, by SOP Instance UID: a send interrupted by a
-- crash goes on with what is missing, and an update sends only new instances.
CREATE TABLE router_sent_instances (
  delivery_id       INTEGER NOT NULL,
  sop_instance_uid  TEXT NOT NULL,
  confirmed         INTEGER NOT NULL DEFAULT 0,
  sent_at           INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, sop_instance_uid)
);

-- Studies a rule matched but that were not sent, and why (the patient
-- refused the sharing the rule needs).
CREATE TABLE router_decisions (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  study_uid    TEXT NOT NULL,
  rule         TEXT NOT NULL,
  destination  TEXT NOT NULL,
  decision     TEXT NOT NULL,
  reason       TEXT NOT NULL,
  at           INTEGER NOT NULL,
  UNIQUE (study_uid, rule, destination)
);
