#include "Share/SharePresentation.h"

#include "Common/Time.h"

namespace HospitalBridge {

Json::Value ShareToJson(const Share& share, StudyIndexStore& studies, int64_t now) {
  Json::Value json(Json::objectValue);
  json["id"] = static_cast<Json::Int64>(share.id);
  json["status"] = share.Status(now);
  json["scope"] = share.scope;
  json["patient_id"] = share.patientId;
  json["patient_name"] = share.patientName;
  json["patient_birth_date"] = Time::DicomDateToIso(share.birthDate);
  json["registry_patient"] = share.registryPatient;
  json["studies"] = Json::Value(Json::arrayValue);
  for (const ShareStudyRef& ref : share.studies) {
    Json::Value study(Json::objectValue);
    study["id"] = ref.orthancId;
    study["study_uid"] = ref.studyUid;
    std::optional<StudyRecord> record = studies.FindByOrthancId(ref.orthancId);
    study["date"] = record ? Time::DicomDateToIso(record->studyDate) : "";
    study["description"] = record ? record->description : "";
    study["modalities"] = Json::Value(Json::arrayValue);
    if (record) {
      for (const std::string& modality : record->modalities) study["modalities"].append(modality);
    }
    study["available"] = record.has_value();
    json["studies"].append(study);
  }
  json["second_factor"] = share.secondFactor;
  json["permissions"] = Json::Value(Json::arrayValue);
  json["permissions"].append("view");
  if (share.canDownload) json["permissions"].append("download");
  json["max_uses"] = share.maxUses > 0 ? Json::Value(static_cast<Json::Int64>(share.maxUses)) : Json::Value();
  json["uses"] = static_cast<Json::Int64>(share.uses);
  json["failed_attempts"] = static_cast<Json::Int64>(share.failedAttempts);
  json["created_at"] = Time::FormatIsoUtc(share.createdAt);
  json["created_by"] = share.createdBy;
  json["expires_at"] = Time::FormatIsoUtc(share.expiresAt);
  json["revoked_at"] = Time::FormatIsoUtc(share.revokedAt);
  json["revoked_by"] = share.revokedBy;
  json["revoke_reason"] = share.revokeReason;
  json["locked_at"] = Time::FormatIsoUtc(share.lockedAt);
  json["last_used_at"] = Time::FormatIsoUtc(share.lastUsedAt);
  json["printed_at"] = Time::FormatIsoUtc(share.printedAt);
  json["auto"] = share.automatic;
  json["replaces"] =
      share.replaces > 0 ? Json::Value(static_cast<Json::Int64>(share.replaces)) : Json::Value();
  json["replaced_by"] =
      share.replacedBy > 0 ? Json::Value(static_cast<Json::Int64>(share.replacedBy)) : Json::Value();
  json["slip_pending"] = share.slipPending;
  json["note"] = share.note;
  return json;
}

}  // namespace HospitalBridge
