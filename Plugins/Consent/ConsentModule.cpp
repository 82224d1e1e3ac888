#include "Consent/ConsentModule.h"

#include "Consent/ConsentRoutes.h"

namespace HospitalBridge {

ConsentModule::ConsentModule(const ModuleContext& context, const ConsentSettings& settings,
                             bool registryEnabled, PatientStore& patients, StudyIndexStore& studies,
                             StudyEventPipeline* pipeline)
    : settings_(settings), store_(context.database) {
  if (!settings_.enabled || !registryEnabled) return;
  service_ = std::make_unique<ConsentService>(store_, patients, studies, settings_, context.site.siteId);
  RegisterConsentRoutes(context.router,
                        ConsentRoutesContext{context.site, *service_, store_, patients, context.audit});
  if (pipeline != nullptr) {
    marks_ = std::make_unique<ConsentMarks>(store_);
    pipeline->Add(*marks_, StudyEventStage::kMark);
  }
}

void ConsentModule::Describe(Json::Value& section) {
  section["enabled"] = service_ != nullptr;
  section["defaults"]["share"] = settings_.sharePermitsByDefault ? "opt-out" : "opt-in";
  section["defaults"]["federation"] = settings_.federationPermitsByDefault ? "opt-out" : "opt-in";
  section["defaults"]["research"] = settings_.researchPermitsByDefault ? "opt-out" : "opt-in";
}

PatientConsent ConsentModule::Decide(const std::string& registryPatientId) {
  return service_ ? service_->Decide(registryPatientId) : PatientConsent{true, true, true};
}

void ConsentModule::OnDenied(std::function<void(const std::string& patientId, ConsentKind kind)> listener) {
  if (service_) service_->OnDenied(std::move(listener));
}

}  // namespace HospitalBridge
