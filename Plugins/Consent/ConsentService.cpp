#include "Consent/ConsentService.h"

#include <ctime>

#include "Common/Time.h"

namespace HospitalBridge {
namespace {
std::string TodayUtc() {
  time_t now = time(nullptr);
  struct tm parts {};
  gmtime_r(&now, &parts);
  char buffer[16];
  strftime(buffer, sizeof(buffer), "%Y%m%d", &parts);
  return buffer;
}
}  // namespace

const char* ConsentKindName(ConsentKind kind) {
  switch (kind) {
    case ConsentKind::kShare:
      return "share";
    case ConsentKind::kFederation:
      return "federation";
    case ConsentKind::kResearch:
      return "research";
  }
  return "";
}

bool ParseConsentKind(const std::string& name, ConsentKind& kind) {
  for (ConsentKind candidate : {ConsentKind::kShare, ConsentKind::kFederation, ConsentKind::kResearch}) {
    if (name == ConsentKindName(candidate)) {
      kind = candidate;
      return true;
    }
  }
  return false;
}

ConsentService::ConsentService(ConsentStore& store, PatientStore& patients, StudyIndexStore& studies,
                               const ConsentSettings& settings, const std::string& localSiteId)
    : store_(store), patients_(patients), studies_(studies), settings_(settings), localSiteId_(localSiteId) {}

ConsentDecision ConsentService::Current(const std::string& patientId, ConsentKind kind,
                                        const std::string& today) {
  const std::string date = today.empty() ? TodayUtc() : today;
  const std::string name = ConsentKindName(kind);
  for (const ConsentRecord& record : store_.History(patientId)) {  // newest first: the latest wins
    if (record.kind != name) continue;
    if (!record.validFrom.empty() && date < record.validFrom) continue;
    if (!record.validUntil.empty() && date > record.validUntil) continue;
    return ConsentDecision{record.decision == "permit", "record", record.id, record.validUntil};
  }
  ConsentDecision fallback;
  fallback.source = "default";
  switch (kind) {
    case ConsentKind::kShare:
      fallback.permit = settings_.sharePermitsByDefault;
      break;
    case ConsentKind::kFederation:
      fallback.permit = settings_.federationPermitsByDefault;
      break;
    case ConsentKind::kResearch:
      fallback.permit = settings_.researchPermitsByDefault;
      break;
  }
  return fallback;
}

ConsentRecord ConsentService::Record(ConsentRecord record, const std::string& attachment) {
  ConsentKind kind = ConsentKind::kShare;
  ParseConsentKind(record.kind, kind);
  bool permittedBefore = Permits(record.patientId, kind);
  ConsentRecord stored = store_.Add(record, attachment);
  std::optional<Patient> patient = patients_.Find(record.patientId);
  if (patient) MarkPatientStudies(*patient);
  if (permittedBefore && !Permits(record.patientId, kind)) {
    for (const auto& listener : deniedListeners_) listener(record.patientId, kind);
  }
  return stored;
}

void ConsentService::WriteMarks(const std::string& studyUid, const std::string& patientId) {
  bool federation = !Permits(patientId, ConsentKind::kFederation);
  bool share = !Permits(patientId, ConsentKind::kShare);
  store_.SetRestrictions(studyUid, federation, share);
}

PatientConsent ConsentService::Decide(const std::string& registryPatientId) {
  PatientConsent consent;
  if (registryPatientId.empty()) {
    consent.sharePermitted = settings_.sharePermitsByDefault;
    consent.federationPermitted = settings_.federationPermitsByDefault;
    consent.researchPermitted = settings_.researchPermitsByDefault;
    return consent;
  }
  consent.sharePermitted = Permits(registryPatientId, ConsentKind::kShare);
  consent.federationPermitted = Permits(registryPatientId, ConsentKind::kFederation);
  consent.researchPermitted = Permits(registryPatientId, ConsentKind::kResearch);
  return consent;
}

void ConsentService::MarkStudy(const StudyRecord& study) {
  std::optional<Patient> patient = patients_.FindByIdentifier(localSiteId_, study.patientId);
  if (!patient) return;
  const std::string id = patient->mergedInto.empty() ? patient->id : patient->mergedInto;
  WriteMarks(study.studyUid, id);
}

void ConsentService::MarkPatientStudies(const Patient& patient) {
  for (const PatientIdentifier& identifier : patient.identifiers) {
    if (identifier.siteId != localSiteId_) continue;
    StudyFilter filter;
    filter.patientId = identifier.localId;
    filter.limit = 1000;
    for (const StudyRecord& study : studies_.Search(filter).studies) WriteMarks(study.studyUid, patient.id);
  }
}

}  // namespace HospitalBridge
