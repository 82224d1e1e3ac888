#pragma once
// /bridge/sites and /bridge/patients.
#include <functional>

#include "Common/Router.h"
#include "Common/Settings.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"
#include "Registry/SiteStore.h"

namespace HospitalBridge {

struct RegistryRoutesContext {
  const SiteSettings& site;
  int maxPageSize;  // StudyIndex.MaxPageSize
  SiteStore& sites;
  PatientStore& patients;
  StudyIndexStore& studies;
  // Whether Orthanc knows a peer of that name ("OrthancPeers").
  std::function<bool(const std::string&)> peerExists;
};

void RegisterRegistryRoutes(Router& router, RegistryRoutesContext context);

// Differences between what staff entered and what the DICOM of a study says.
Json::Value Discrepancies(const Patient& patient, const StudyRecord& study);

}  // namespace HospitalBridge
