#pragma once
// The plugin's typed configuration: the "HospitalBridge" section of
// orthanc.json merged over Resources/DefaultConfiguration.json, validated once
// at start. Code reads these fields, never raw JSON.
#include <json/json.h>

#include <cstdint>
#include <string>
#include <vector>

namespace HospitalBridge {

struct SecuritySettings {
  std::string bootstrapAdminUsername;
  std::string bootstrapAdminPasswordVariable;
  std::string bootstrapAdminPasswordFile;
  uint32_t passwordHashIterations = 600000;
  int sessionIdleMinutes = 30;
  int sessionMaxHours = 12;
  int credentialCacheSeconds = 300;
  int maxFailuresPerUser = 5;
  int maxFailuresPerAddress = 20;
  int throttleWindowMinutes = 15;
  int lockoutMinutes = 15;
  size_t maxRequestBodyBytes = 1024 * 1024;
  std::vector<std::string> trustedProxies;  // checked by TrustedProxies
};

struct StudyIndexSettings {
  bool enabled = true;
  int refreshDelayMs = 500;
  bool reconcileAtStart = true;
  int eventDelayMs = 0;
  int defaultPageSize = 50;
  int maxPageSize = 500;
};

struct RegistrySettings {
  bool enabled = true;
  enum class NationalIdSource { kPatientId, kOtherPatientIds, kIssuerOfPatientId, kNone };
  NationalIdSource nationalIdSource = NationalIdSource::kPatientId;
  std::string nationalIdPattern = "^[0-9]{6,20}$";
  std::string nationalIdIssuer = "NATIONAL";
};

struct FederationSettings {
  bool enabled = true;
  int peerTimeoutMs = 3000;
  size_t maxAnswerBytes = 8192 * 1024;
};

enum class ConsentKind { kShare, kFederation, kResearch };

struct ConsentSettings {
  bool enabled = true;
  // Decision without any valid record: true = permit (opt-out).
  bool sharePermitsByDefault = false;
  bool federationPermitsByDefault = true;
  bool researchPermitsByDefault = false;
};

struct AuditSettings {
  bool enabled = true;
  int retentionDays = 0;
  bool syslogEnabled = false;
  std::string syslogHost = "127.0.0.1";
  int syslogPort = 514;
  bool syslogTcp = false;
  int syslogRetryMs = 2000;
};

struct AutoShareSettings {
  bool enabled = false;
  std::vector<std::string> modalities;
  std::vector<std::string> callingAets;
  int validDays = 30;
};

struct SharesSettings {
  bool enabled = true;
  std::string publicBaseUrl;  // "" = the address the staff request came to
  int defaultValidDays = 30;
  int maxValidDays = 365;
  bool allowNoSecondFactor = false;
  int maxFailedUnlocks = 5;
  int sessionMinutes = 60;
  int maxFailuresPerAddress = 20;
  int windowMinutes = 10;
  int lockoutMinutes = 15;
  int pendingSlipHours = 72;
  uint32_t secretHashIterations = 100000;
  AutoShareSettings autoShare;
};

struct WatchFolder {
  std::string path;
  std::string processedPath;
  std::string failedPath;
  bool deleteAfterImport = false;
};

struct WatchFolderSettings {
  std::vector<WatchFolder> folders;  // empty: the watcher does not run
  int scanIntervalMs = 2000;
  int settleMs = 3000;
};

// What the plugin needs to know of Orthanc's own configuration.
struct OrthancSettings {
  std::string name;
  std::string dicomAet;
  bool remoteAccessAllowed = false;
  bool sslEnabled = false;
  bool authenticationEnabled = false;
  bool authenticationExplicit = false;  // "AuthenticationEnabled" present in the file
};

struct Configuration {
  std::string siteId;
  std::string siteName;
  std::string databasePath;
  bool webAppEnabled = true;
  StudyIndexSettings studyIndex;
  RegistrySettings registry;
  FederationSettings federation;
  ConsentSettings consent;
  AuditSettings audit;
  SharesSettings shares;
  WatchFolderSettings watchFolders;
  SecuritySettings security;
  OrthancSettings orthanc;
};

// The embedded defaults, as documented JSON.
Json::Value DefaultConfigurationJson();

// Merges `section` over `defaults`. Throws StartupError naming the first
// offending option ("HospitalBridge.Security.Foo") for an unknown option or a
// value whose type differs from the default's.
Json::Value MergeConfiguration(const Json::Value& defaults, const Json::Value& section);

// Reads Orthanc's whole configuration (as given to the plugin) and builds the
// typed configuration, checking ranges. Throws StartupError.
Configuration LoadConfiguration(const Json::Value& orthancConfiguration);

}  // namespace HospitalBridge
