#include "Share/ShareAudit.h"

#include "Common/Crypto.h"

namespace HospitalBridge {

void AuditShare(IAuditSink& audit, const std::string& action, const Share& share, const AuditActor& actor,
                const std::string& outcome, Json::Value detail, const std::string& studyUid) {
  AuditEvent event = MakeAuditEvent(action, actor, outcome);
  event.dicomPatientId = share.patientId;
  event.patientId = share.registryPatient;
  event.studyUid = studyUid;
  if (studyUid.empty() && share.studies.size() == 1) event.studyUid = share.studies.front().studyUid;
  event.detail = std::move(detail);
  event.detail["share_id"] = static_cast<Json::Int64>(share.id);
  audit.Record(event);
}

std::string HashShareSecret(const std::string& secret, const std::string& salt, uint32_t iterations) {
  return Crypto::Pbkdf2Sha256(secret, salt, iterations, 32);
}

}  // namespace HospitalBridge
