#pragma once
// Consent as a module: what each patient allowed (sharing, federation,
// research), the one decision every module asks before a study leaves the
// hospital, the marks on restricted studies (the "consent-marks" consumer),
// and /bridge/consents with its FHIR view.
#include <functional>
#include <memory>
#include <string>

#include "Common/Module.h"
#include "Common/StudyEvents.h"
#include "Consent/ConsentMarks.h"
#include "Consent/ConsentService.h"
#include "Consent/ConsentSettings.h"
#include "Consent/ConsentStore.h"
#include "Index/StudyEventPipeline.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"

namespace HospitalBridge {

class ConsentModule : public IModule {
 public:
  // Active only with Modules.Consent and the registry (consent is recorded
  // per registry patient); otherwise every decision is "permitted".
  ConsentModule(const ModuleContext& context, const ConsentSettings& settings, bool registryEnabled,
                PatientStore& patients, StudyIndexStore& studies, StudyEventPipeline* pipeline);

  std::string Name() const override { return "consent"; }
  void Describe(Json::Value& section) override;

  // The one consent decision for a registry patient.
  PatientConsent Decide(const std::string& registryPatientId);
  // The service, or null when consent is off.
  ConsentService* Service() { return service_.get(); }
  // Told when a patient's consent of some kind becomes a denial.
  void OnDenied(std::function<void(const std::string& patientId, ConsentKind kind)> listener);

 private:
  const ConsentSettings settings_;
  ConsentStore store_;
  std::unique_ptr<ConsentService> service_;
  std::unique_ptr<ConsentMarks> marks_;
};

}  // namespace HospitalBridge
