#include "Configuration.h"

namespace HospitalBridge {

Configuration LoadConfiguration(const Json::Value& orthanc) {
  const Json::Value merged =
      MergeConfiguration(DefaultConfigurationJson(), orthanc.get("HospitalBridge", Json::Value()));
  const SettingsReader read(merged, orthanc);
  Configuration config;
  static_cast<SiteSettings&>(config) = ReadSiteSettings(read);
  config.studyIndex = ReadStudyIndexSettings(read);
  config.registry = ReadRegistrySettings(read);
  config.federation = ReadFederationSettings(read);
  config.consent = ReadConsentSettings(read);
  config.audit = ReadAuditSettings(read);
  config.shares = ReadSharesSettings(read);
  config.watchFolders = ReadWatchFolderSettings(read);
  config.orders = ReadOrdersSettings(read);
  config.security = ReadSecuritySettings(read);
  config.viewer = ReadViewerSettings(read);
  config.reports = ReadReportsSettings(read);
  config.router = ReadRouterSettings(read);
  return config;
}

}  // namespace HospitalBridge
