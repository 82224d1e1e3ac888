#include "Federation/FederationModule.h"

#include "Federation/FederationRoutes.h"

namespace HospitalBridge {

FederationModule::FederationModule(const ModuleContext& context, const FederationSettings& settings,
                                   SiteStore& sites, PatientStore& patients, StudyIndexStore& studies,
                                   ConsentDecision consent)
    : settings_(settings) {
  if (!settings_.enabled) return;
  service_ =
      std::make_unique<FederationService>(context.site, settings_, sites, patients, studies, context.peers);
  if (consent) {
    service_->SetConsentCheck(
        [consent](const std::string& patientId) { return consent(patientId).federationPermitted; });
  }
  retrieve_ = std::make_unique<RetrieveJobs>(context.database, sites, context.peers, context.orthanc,
                                             context.site.siteId, &context.leases);
  RegisterFederationRoutes(context.router,
                           FederationRoutesContext{context.site, *service_, *retrieve_, patients, studies,
                                                   context.orthanc, context.audit});
}

void FederationModule::Start() {
  if (retrieve_) retrieve_->Start();
}

void FederationModule::Stop() {
  if (retrieve_) retrieve_->Stop();
}

void FederationModule::Describe(Json::Value& section) {
  section["enabled"] = service_ != nullptr;
  section["peer_timeout_ms"] = settings_.peerTimeoutMs;
}

}  // namespace HospitalBridge
