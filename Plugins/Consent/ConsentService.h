#pragma once
// What a patient allows now, per kind: the latest record valid today wins;
// without one, the configured default (opt-in denies, opt-out permits). Keeps
// the "restricted" marks of the patient's studies in step, so federation and
// auto-share can skip them without re-deciding.
#include <functional>
#include <string>
#include <vector>

#include "Common/StudyEvents.h"
#include "Consent/ConsentSettings.h"
#include "Consent/ConsentStore.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"

namespace HospitalBridge {

struct ConsentDecision {
  bool permit = false;
  std::string source;  // "record" or "default"
  int64_t recordId = 0;
  std::string validUntil;  // DICOM DA or ""
};

const char* ConsentKindName(ConsentKind kind);
bool ParseConsentKind(const std::string& name, ConsentKind& kind);

class ConsentService {
 public:
  ConsentService(ConsentStore& store, PatientStore& patients, StudyIndexStore& studies,
                 const ConsentSettings& settings, const std::string& localSiteId);

  // `today` as DICOM DA; empty = the current UTC date.
  ConsentDecision Current(const std::string& patientId, ConsentKind kind, const std::string& today = "");
  bool Permits(const std::string& patientId, ConsentKind kind) { return Current(patientId, kind).permit; }
  // The one decision for every kind, used alike by federation, share links
  // and the study-event consumers. A patient outside the registry ("") gets
  // the configured defaults.
  PatientConsent Decide(const std::string& registryPatientId);

  // Records a decision and updates the marks of the patient's studies.
  ConsentRecord Record(ConsentRecord record, const std::string& attachment);

  // Called by the index worker for each study it (re)indexes.
  void MarkStudy(const StudyRecord& study);
  // Recomputes the marks of every local study of the patient.
  void MarkPatientStudies(const Patient& patient);

  // Told when a kind becomes denied for a patient (shares revoke their links).
  void OnDenied(std::function<void(const std::string& patientId, ConsentKind kind)> listener) {
    deniedListeners_.push_back(std::move(listener));
  }

 private:
  void WriteMarks(const std::string& studyUid, const std::string& patientId);

  ConsentStore& store_;
  PatientStore& patients_;
  StudyIndexStore& studies_;
  const ConsentSettings settings_;
  const std::string localSiteId_;
  std::vector<std::function<void(const std::string&, ConsentKind)>> deniedListeners_;
};

}  // namespace HospitalBridge
