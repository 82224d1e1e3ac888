#pragma once
// GET /bridge/system: what an administrator checks first.
#include <functional>
#include <string>
#include <vector>

#include "Common/OrthancRest.h"
#include "Common/Router.h"
#include "Common/Settings.h"
#include "Common/Storage.h"

namespace HospitalBridge {

struct SystemInfoSources {
  const SiteSettings& site;
  // Which modules are on ({"StudyIndex": true, ...}).
  Json::Value modules;
  IDatabase& database;
  IOrthancRest& orthanc;
  std::string orthancVersion;
  // The modules' own sections (index, registry, audit, shares, ...).
  std::vector<std::function<void(Json::Value& answer)>> sections;
};

void RegisterSystemRoutes(Router& router, SystemInfoSources sources);

}  // namespace HospitalBridge
