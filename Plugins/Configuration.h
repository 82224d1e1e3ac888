#pragma once
// The plugin's whole typed configuration, as the composition root holds it:
// the site (Common/Settings.h) and each module's own settings, read by the
// module's Read...Settings function. Code below the root sees only the site
// and its own module's part.
#include <json/json.h>

#include "Audit/AuditSettings.h"
#include "Common/Settings.h"
#include "Consent/ConsentSettings.h"
#include "Federation/FederationSettings.h"
#include "Import/WatchFolderSettings.h"
#include "Index/StudyIndexSettings.h"
#include "Orders/OrdersSettings.h"
#include "Registry/RegistrySettings.h"
#include "Reports/ReportsSettings.h"
#include "Router/RouterSettings.h"
#include "Security/SecuritySettings.h"
#include "Share/ShareSettings.h"
#include "Viewer/ViewerSettings.h"

namespace HospitalBridge {

struct Configuration : SiteSettings {
  StudyIndexSettings studyIndex;
  RegistrySettings registry;
  FederationSettings federation;
  ConsentSettings consent;
  AuditSettings audit;
  SharesSettings shares;
  WatchFolderSettings watchFolders;
  OrdersSettings orders;
  SecuritySettings security;
  ViewerSettings viewer;
  ReportsSettings reports;
  RouterSettings router;

  const SiteSettings& Site() const { return *this; }
};

// Reads Orthanc's whole configuration (as given to the plugin) and builds the
// typed configuration, checking ranges. Throws StartupError.
Configuration LoadConfiguration(const Json::Value& orthancConfiguration);

}  // namespace HospitalBridge
