#pragma once
// The registries as a module: the sites (this one and its peers) and the
// patient index keyed by national ID, each study filed under its patient as
// it is indexed (the "patient-link" consumer), and /bridge/sites and
// /bridge/patients. The stores exist with Modules.Registry off (empty), for
// the sites page and the modules that look a patient up.
#include <memory>
#include <string>

#include "Common/Module.h"
#include "Index/StudyEventPipeline.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientLinker.h"
#include "Registry/PatientStore.h"
#include "Registry/RegistrySettings.h"
#include "Registry/SiteStore.h"

namespace HospitalBridge {

class RegistryModule : public IModule {
 public:
  // `pipeline`: where the patient link joins (null: the index is off).
  RegistryModule(const ModuleContext& context, const RegistrySettings& settings, StudyIndexStore& studies,
                 StudyEventPipeline* pipeline, int maxPageSize);

  std::string Name() const override { return "registry"; }
  void Describe(Json::Value& section) override;

  bool Enabled() const { return settings_.enabled; }
  SiteStore& Sites() { return sites_; }
  PatientStore& Patients() { return patients_; }
  // The patient store when the registry is on, else null.
  PatientStore* PatientsIfEnabled() { return settings_.enabled ? &patients_ : nullptr; }
  // The registry patient ("PAT-...") this site's PatientID of `study` is
  // filed under (after a merge, the patient it was merged into); "" if none.
  std::string RegistryPatientOf(const StudyRecord& study);

 private:
  const RegistrySettings settings_;
  const std::string siteId_;
  SiteStore sites_;
  PatientStore patients_;
  std::unique_ptr<PatientLinker> linker_;
};

}  // namespace HospitalBridge
