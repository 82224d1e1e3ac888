#pragma once
// GET /bridge/system: what an administrator checks first.
#include <functional>
#include <string>
#include <vector>

#include "Common/OrthancRest.h"
#include "Common/Router.h"
#include "Common/Settings.h"
#include "Common/Storage.h"
#include "Index/IndexWorker.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"
#include "Registry/SiteStore.h"

namespace HospitalBridge {

struct SystemInfoSources {
  const SiteSettings& site;
  // Which modules are on ({"StudyIndex": true, ...}).
  Json::Value modules;
  IDatabase& database;
  StudyIndexStore& studies;
  IndexWorker* worker;  // null when the study index is switched off
  IOrthancRest& orthanc;
  PatientStore& patients;
  SiteStore& sites;
  std::string orthancVersion;
  // Other modules add their own sections (audit, consent, ...).
  std::vector<std::function<void(Json::Value& answer)>> sections;
};

void RegisterSystemRoutes(Router& router, SystemInfoSources sources);

}  // namespace HospitalBridge
