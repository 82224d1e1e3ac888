#include "Share/AutoShare.h"

#include <algorithm>

#include "Common/Errors.h"
#include "Common/Log.h"

namespace HospitalBridge {
namespace {
bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return !value.empty() && std::find(list.begin(), list.end(), value) != list.end();
}
}  // namespace

void AutoShare::Consume(StudyEventContext& context) {
  if (!settings_.enabled || !context.IsStable() || !context.Study()) return;
  const StudyRecord& study = *context.Study();
  if (!Selects(study)) return;
  Consider(study, true, context.Consent());
}

bool AutoShare::Selects(const StudyRecord& study) const {
  for (const std::string& modality : study.modalities) {
    if (Contains(settings_.modalities, modality)) return true;
  }
  for (const StudySource& source : study.sources) {
    if (Contains(settings_.callingAets, source.aet)) return true;
  }
  return false;
}

bool AutoShare::Consider(const StudyRecord& study, bool stable, const PatientConsent& consent) {
  if (!settings_.enabled || !stable || !Selects(study)) return false;
  if (shares_.Store().HasAutomaticShare(study.orthancId)) return false;
  if (!consent.sharePermitted) {
    Log::Info("auto-share skipped study " + study.studyUid + ": no share consent for the patient");
    return false;
  }
  ShareRequest request;
  request.study = study.orthancId;
  request.validDays = settings_.validDays;
  request.automatic = true;
  try {
    CreatedShare created = shares_.Create(request, AuditActor::System("auto-share"));
    Log::Info("auto-share: link #" + std::to_string(created.share.id) + " made for study " + study.studyUid);
    return true;
  } catch (const DomainError& e) {
    // Orthanc unavailable: the event comes back later. Anything else would
    // fail again the same way: said once, and the study is passed over.
    if (e.GetKind() == DomainError::Kind::kUnavailable) throw;
    Log::Warning("auto-share skipped study " + study.studyUid + ": " + e.what() + " (" + e.Detail() + ")");
    return false;
  }
}

}  // namespace HospitalBridge
