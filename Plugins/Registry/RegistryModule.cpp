#include "Registry/RegistryModule.h"

#include "Registry/RegistryRoutes.h"

namespace HospitalBridge {

RegistryModule::RegistryModule(const ModuleContext& context, const RegistrySettings& settings,
                               StudyIndexStore& studies, StudyEventPipeline* pipeline, int maxPageSize)
    : settings_(settings),
      siteId_(context.site.siteId),
      sites_(context.database),
      patients_(context.database) {
  if (!settings_.enabled) return;
  linker_ = std::make_unique<PatientLinker>(patients_, context.orthanc, settings_, siteId_);
  if (pipeline != nullptr) pipeline->Add(*linker_, StudyEventStage::kFile);
  IPeerClient& peers = context.peers;
  RegisterRegistryRoutes(
      context.router, RegistryRoutesContext{context.site, maxPageSize, sites_, patients_, studies,
                                            [&peers](const std::string& name) { return peers.Knows(name); }});
}

void RegistryModule::Describe(Json::Value& section) {
  section["patients"] = static_cast<Json::Int64>(patients_.Count());
  section["sites"] = static_cast<Json::UInt64>(sites_.List().size() + 1);
}

std::string RegistryModule::RegistryPatientOf(const StudyRecord& study) {
  if (!settings_.enabled) return "";
  std::optional<Patient> patient = patients_.FindByIdentifier(siteId_, study.patientId);
  if (!patient) return "";
  return patient->mergedInto.empty() ? patient->id : patient->mergedInto;
}

}  // namespace HospitalBridge
