#pragma once
// Federation as a module: one query at any site returns the patient's
// studies held at every peer site (what leaves this site decided by the one
// consent decision), a remote study pulled home by a retrieve job, the
// peer-facing /bridge/federation/v1 and the staff-facing routes.
#include <functional>
#include <memory>
#include <string>

#include "Common/Module.h"
#include "Common/StudyEvents.h"
#include "Federation/FederationService.h"
#include "Federation/FederationSettings.h"
#include "Federation/RetrieveJobs.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"
#include "Registry/SiteStore.h"

namespace HospitalBridge {

class FederationModule : public IModule {
 public:
  using ConsentDecision = std::function<PatientConsent(const std::string& registryPatientId)>;

  FederationModule(const ModuleContext& context, const FederationSettings& settings, SiteStore& sites,
                   PatientStore& patients, StudyIndexStore& studies, ConsentDecision consent);

  std::string Name() const override { return "federation"; }
  void Start() override;
  void Stop() override;
  void Describe(Json::Value& section) override;

 private:
  const FederationSettings settings_;
  std::unique_ptr<FederationService> service_;
  std::unique_ptr<RetrieveJobs> retrieve_;
};

}  // namespace HospitalBridge
