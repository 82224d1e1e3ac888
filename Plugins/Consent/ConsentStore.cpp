#include "Consent/ConsentStore.h"

#include "Common/Time.h"

namespace HospitalBridge {

Json::Value ConsentRecord::ToJson() const {
  Json::Value json(Json::objectValue);
  json["id"] = static_cast<Json::Int64>(id);
  json["patient_id"] = patientId;
  json["kind"] = kind;
  json["decision"] = decision;
  json["method"] = method;
  json["valid_from"] = Time::DicomDateToIso(validFrom);
  json["valid_until"] = Time::DicomDateToIso(validUntil);
  json["note"] = note;
  json["has_attachment"] = hasAttachment;
  json["attachment_type"] = attachmentType;
  json["recorded_by"] = recordedBy;
  json["recorded_at"] = Time::FormatIsoUtc(recordedAt);
  return json;
}

ConsentRecord ConsentStore::Add(ConsentRecord record, const std::string& attachment) {
  record.recordedAt = Time::NowSeconds();
  record.hasAttachment = !attachment.empty();
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement insert(
      transaction,
      "INSERT INTO consents (patient_id, kind, decision, method, valid_from, valid_until, note, "
      "attachment, attachment_type, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "RETURNING id");
  insert.Bind(1, record.patientId)
      .Bind(2, record.kind)
      .Bind(3, record.decision)
      .Bind(4, record.method)
      .Bind(5, record.validFrom)
      .Bind(6, record.validUntil)
      .Bind(7, record.note);
  if (attachment.empty()) {
    insert.BindNull(8);
  } else {
    insert.BindBlob(8, attachment);
  }
  insert.Bind(9, record.attachmentType).Bind(10, record.recordedBy).Bind(11, record.recordedAt);
  insert.Step();
  record.id = insert.ColumnInt(0);
  insert.Reset();
  transaction.Commit();
  return record;
}

std::vector<ConsentRecord> ConsentStore::History(const std::string& patientId) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(
      transaction,
      "SELECT id, patient_id, kind, decision, method, valid_from, valid_until, note, attachment_type, "
      "attachment IS NOT NULL, recorded_by, recorded_at FROM consents WHERE patient_id = ? "
      "ORDER BY recorded_at DESC, id DESC");
  select.Bind(1, patientId);
  std::vector<ConsentRecord> records;
  while (select.Step()) {
    ConsentRecord r;
    r.id = select.ColumnInt(0);
    r.patientId = select.ColumnText(1);
    r.kind = select.ColumnText(2);
    r.decision = select.ColumnText(3);
    r.method = select.ColumnText(4);
    r.validFrom = select.ColumnText(5);
    r.validUntil = select.ColumnText(6);
    r.note = select.ColumnText(7);
    r.attachmentType = select.ColumnText(8);
    r.hasAttachment = select.ColumnInt(9) != 0;
    r.recordedBy = select.ColumnText(10);
    r.recordedAt = select.ColumnInt(11);
    records.push_back(r);
  }
  return records;
}

bool ConsentStore::Attachment(const std::string& patientId, int64_t id, std::string& data,
                              std::string& type) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(
      transaction,
      "SELECT attachment, attachment_type FROM consents WHERE id = ? AND patient_id = ? AND attachment "
      "IS NOT NULL");
  select.Bind(1, id).Bind(2, patientId);
  if (!select.Step()) return false;
  data = select.ColumnBlob(0);
  type = select.ColumnText(1);
  return true;
}

void ConsentStore::SetRestrictions(const std::string& studyUid, bool federation, bool share) {
  Transaction transaction(database_, TransactionMode::kWrite);
  const int64_t now = Time::NowSeconds();
  Statement upsert(
      transaction,
      "INSERT INTO study_restrictions (study_uid, federation, share, updated_at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (study_uid) DO UPDATE SET federation = ?, share = ?, updated_at = ?");
  upsert.Bind(1, studyUid)
      .Bind(2, federation ? 1 : 0)
      .Bind(3, share ? 1 : 0)
      .Bind(4, now)
      .Bind(5, federation ? 1 : 0)
      .Bind(6, share ? 1 : 0)
      .Bind(7, now)
      .Run();
  transaction.Commit();
}

}  // namespace HospitalBridge
