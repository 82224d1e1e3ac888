#include "Common/AuditEvent.h"

#include "Common/Crypto.h"
#include "Common/Json.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kField = '\x1f';   // unit separator
const char kRecord = '\x1e';  // record separator

}  // namespace

std::string AuditEvent::Canonical() const {
  std::string text = std::to_string(id);
  for (const std::string* field :
       {&actorName, &actorRole, &actorKind, &sourceIp, &action, &outcome, &patientId, &studyUid}) {
    text += kField;
    text += *field;
  }
  text += kField + std::to_string(timeMs) + kField + JsonText::WriteExact(detail);
  return text;
}

std::string AuditEvent::ChainHash(const std::string& previousHash, const std::string& canonical) {
  return Crypto::Sha256Hex(previousHash + kRecord + canonical);
}

Json::Value AuditEvent::ToJson() const {
  Json::Value json(Json::objectValue);
  json["id"] = static_cast<Json::Int64>(id);
  json["time"] = Time::FormatIsoUtcMilliseconds(timeMs);
  json["actor"]["name"] = actorName;
  json["actor"]["role"] = actorRole;
  json["actor"]["kind"] = actorKind;
  json["source_ip"] = sourceIp;
  json["action"] = action;
  json["outcome"] = outcome;
  json["patient_id"] = patientId;
  json["study_uid"] = studyUid;
  json["detail"] = detail;
  json["hash"] = hash;
  return json;
}

}  // namespace HospitalBridge
