-- 009: reading and reporting (issue 14). Released: never edit, add a new
-- numbered file.

-- Report templates, one row per version: a report keeps the row (the exact
-- version) it was written with. Editing a template adds a version; old
-- versions stay for the reports that used them.
CREATE TABLE report_templates (
  id            INTEGER PRIMARY KEY,
  template_key  TEXT NOT NULL,      -- "cxr"; the name routes use
  version       INTEGER NOT NULL,
  name          TEXT NOT NULL,
  modalities    TEXT NOT NULL DEFAULT '',  -- "CR\DX": offered first for these
  exam          TEXT NOT NULL DEFAULT '',
  definition    TEXT NOT NULL,      -- JSON: {"sections": [{id, label, type, ...}]}
  active        INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL,
  created_by    TEXT NOT NULL,
  UNIQUE (template_key, version)
);

-- One row per study that needs (or got) a report: the reading queue and the
-- report's state. The study's identity is copied when it enters the queue so
-- that the queue is one indexed table read.
CREATE TABLE reports (
  id                  INTEGER PRIMARY KEY,
  orthanc_id          TEXT NOT NULL UNIQUE,
  study_uid           TEXT NOT NULL,
  accession           TEXT NOT NULL DEFAULT '',
  patient_id          TEXT NOT NULL DEFAULT '',
  patient_name        TEXT NOT NULL DEFAULT '',
  patient_birth_date  TEXT NOT NULL DEFAULT '',
  patient_sex         TEXT NOT NULL DEFAULT '',
  study_date          TEXT NOT NULL DEFAULT '',
  study_time          TEXT NOT NULL DEFAULT '',
  description         TEXT NOT NULL DEFAULT '',
  modalities          TEXT NOT NULL DEFAULT '',  -- "\CT\MR\": each code between backslashes
  site                TEXT NOT NULL DEFAULT '',
  order_id            INTEGER NOT NULL DEFAULT 0,
  order_ref           TEXT NOT NULL DEFAULT '',  -- the order's ServiceRequest id, when known
  referring           TEXT NOT NULL DEFAULT '',
  reason              TEXT NOT NULL DEFAULT '',
  priority            TEXT NOT NULL DEFAULT 'routine',  -- stat | urgent | routine
  priority_rank       INTEGER NOT NULL DEFAULT 2,       -- 0 stat, 1 urgent, 2 routine
  status              TEXT NOT NULL DEFAULT 'unread',   -- unread | in-progress | draft | preliminary | final | amended
  open                INTEGER NOT NULL DEFAULT 1,       -- still to be read (not final, study present)
  assigned_to         TEXT NOT NULL DEFAULT '',
  assigned_at         INTEGER NOT NULL DEFAULT 0,
  queued_at           INTEGER NOT NULL,
  due_at              INTEGER NOT NULL,
  study_gone          INTEGER NOT NULL DEFAULT 0,
  latest_version      INTEGER NOT NULL DEFAULT 0,       -- 0: nothing written yet
  signed_version      INTEGER NOT NULL DEFAULT 0,       -- the newest signed version
  final_at            INTEGER NOT NULL DEFAULT 0,       -- the first final signature (release to patients)
  critical            INTEGER NOT NULL DEFAULT 0,
  updated_at          INTEGER NOT NULL
);
CREATE INDEX reports_queue ON reports (open, priority_rank, due_at, id);
CREATE INDEX reports_assignee ON reports (assigned_to, open);
CREATE INDEX reports_study_uid ON reports (study_uid);
CREATE INDEX reports_patient ON reports (patient_id);

-- The versions of a report. A signed version never changes again: its
-- canonical content, hash and PDF are what was signed. An amendment is a new
-- version (an addendum) that is signed in its turn.
CREATE TABLE report_versions (
  id             INTEGER PRIMARY KEY,
  report_id      INTEGER NOT NULL REFERENCES reports (id),
  version        INTEGER NOT NULL,
  kind           TEXT NOT NULL,     -- original | final (a preliminary made final) | addendum
  template_id    INTEGER NOT NULL REFERENCES report_templates (id),
  content        TEXT NOT NULL,     -- JSON: {"sections": {id: value}, "critical": bool, "addendum": text}
  author         TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  signed_status  TEXT NOT NULL DEFAULT '',  -- '' (draft) | preliminary | final | amended
  signed_by      TEXT NOT NULL DEFAULT '',
  signed_role    TEXT NOT NULL DEFAULT '',
  signed_at      INTEGER NOT NULL DEFAULT 0,
  canonical      TEXT NOT NULL DEFAULT '',  -- the exact text the hash covers
  content_hash   TEXT NOT NULL DEFAULT '',  -- SHA-256 of canonical, hex
  pdf            BLOB,
  pdf_instance   TEXT NOT NULL DEFAULT '',  -- Orthanc ID of the Encapsulated PDF
  sr_instance    TEXT NOT NULL DEFAULT '',  -- Orthanc ID of the Basic Text SR
  delivered_at   INTEGER NOT NULL DEFAULT 0,
  delivery_error TEXT NOT NULL DEFAULT '',
  UNIQUE (report_id, version)
);
-- Signed versions whose carriers are not in Orthanc yet (the delivery worker's list).
CREATE INDEX report_versions_undelivered ON report_versions (delivered_at, signed_at);

-- To whom and when a critical finding was told.
CREATE TABLE report_critical_communications (
  id               INTEGER PRIMARY KEY,
  report_id        INTEGER NOT NULL REFERENCES reports (id),
  version          INTEGER NOT NULL,
  communicated_to  TEXT NOT NULL,
  communicated_at  INTEGER NOT NULL,
  method           TEXT NOT NULL DEFAULT '',
  note             TEXT NOT NULL DEFAULT '',
  recorded_by      TEXT NOT NULL,
  recorded_at      INTEGER NOT NULL
);
CREATE INDEX report_critical_report ON report_critical_communications (report_id);

-- Every change to a report, numbered: the reading queue's pages wait on the
-- newest number (long polling) and a browser that reconnects asks for what
-- came after the last one it saw, so it misses nothing.
CREATE TABLE report_changes (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  report_id  INTEGER NOT NULL,
  kind       TEXT NOT NULL,   -- queued | claimed | assigned | released | saved | signed | amended | delivered | gone | updated
  actor      TEXT NOT NULL DEFAULT '',
  at         INTEGER NOT NULL
);

-- The shipped templates (version 1 each).
INSERT INTO report_templates (template_key, version, name, modalities, exam, definition, created_at, created_by) VALUES
('chest-xray', 1, 'Chest X-ray', '\CR\DX\', 'chest',
 '{"sections":[{"id":"clinical","label":"Clinical information","type":"text"},{"id":"technique","label":"Technique","type":"text","default":"PA and lateral views of the chest."},{"id":"comparison","label":"Comparison","type":"line","default":"None."},{"id":"lungs","label":"Lungs","type":"choice","options":["Clear","Consolidation","Nodule","Interstitial changes","Collapse"]},{"id":"pleura","label":"Pleura","type":"choice","options":["Normal","Effusion","Pneumothorax","Thickening"]},{"id":"heart","label":"Heart size","type":"choice","options":["Normal","Enlarged"]},{"id":"findings","label":"Findings","type":"text","required":true},{"id":"impression","label":"Impression","type":"text","required":true}]}',
 0, 'HospitalBridge'),
('ct-head', 1, 'CT head', '\CT\', 'head',
 '{"sections":[{"id":"clinical","label":"Clinical information","type":"text"},{"id":"technique","label":"Technique","type":"text","default":"Axial CT of the head without intravenous contrast."},{"id":"comparison","label":"Comparison","type":"line","default":"None."},{"id":"haemorrhage","label":"Intracranial haemorrhage","type":"choice","options":["None","Subdural","Extradural","Subarachnoid","Intraparenchymal"]},{"id":"ventricles","label":"Ventricles","type":"choice","options":["Normal","Dilated","Effaced"]},{"id":"midline","label":"Midline shift","type":"choice","options":["None","Present"]},{"id":"findings","label":"Findings","type":"text","required":true},{"id":"impression","label":"Impression","type":"text","required":true}]}',
 0, 'HospitalBridge'),
('ct-abdomen', 1, 'CT abdomen and pelvis', '\CT\', 'abdomen',
 '{"sections":[{"id":"clinical","label":"Clinical information","type":"text"},{"id":"technique","label":"Technique","type":"text","default":"Axial CT of the abdomen and pelvis after intravenous contrast, portal venous phase."},{"id":"comparison","label":"Comparison","type":"line","default":"None."},{"id":"organs","label":"Solid organs","type":"multichoice","options":["Liver normal","Spleen normal","Pancreas normal","Kidneys normal","Adrenals normal"]},{"id":"bowel","label":"Bowel","type":"choice","options":["Normal","Obstruction","Wall thickening","Free air"]},{"id":"fluid","label":"Free fluid","type":"choice","options":["None","Small","Moderate","Large"]},{"id":"findings","label":"Findings","type":"text","required":true},{"id":"impression","label":"Impression","type":"text","required":true}]}',
 0, 'HospitalBridge'),
('us-abdomen', 1, 'Ultrasound abdomen', '\US\', 'abdomen',
 '{"sections":[{"id":"clinical","label":"Clinical information","type":"text"},{"id":"technique","label":"Technique","type":"text","default":"Real-time ultrasound of the upper abdomen."},{"id":"liver","label":"Liver","type":"choice","options":["Normal","Fatty","Coarse","Focal lesion"]},{"id":"gallbladder","label":"Gallbladder","type":"choice","options":["Normal","Stones","Wall thickening","Not seen"]},{"id":"kidneys","label":"Kidneys","type":"choice","options":["Normal","Hydronephrosis","Cyst","Stone"]},{"id":"findings","label":"Findings","type":"text","required":true},{"id":"impression","label":"Impression","type":"text","required":true}]}',
 0, 'HospitalBridge'),
('mr-brain', 1, 'MR brain', '\MR\', 'brain',
 '{"sections":[{"id":"clinical","label":"Clinical information","type":"text"},{"id":"technique","label":"Technique","type":"text","default":"Multiplanar multisequence MR imaging of the brain."},{"id":"comparison","label":"Comparison","type":"line","default":"None."},{"id":"white_matter","label":"White matter","type":"choice","options":["Normal","Small vessel changes","Demyelination"]},{"id":"diffusion","label":"Diffusion restriction","type":"choice","options":["None","Present"]},{"id":"enhancement","label":"Abnormal enhancement","type":"choice","options":["None","Present","Not given"]},{"id":"findings","label":"Findings","type":"text","required":true},{"id":"impression","label":"Impression","type":"text","required":true}]}',
 0, 'HospitalBridge');
