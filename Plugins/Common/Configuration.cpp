#include "Common/Configuration.h"

#include <regex.h>

#include "Common/EmbeddedResources.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Text.h"

namespace HospitalBridge {
namespace {
const char kSection[] = "HospitalBridge";

std::string TypeName(const Json::Value& value) {
  switch (value.type()) {
    case Json::nullValue:
      return "null";
    case Json::intValue:
    case Json::uintValue:
      return "an integer";
    case Json::realValue:
      return "a number";
    case Json::stringValue:
      return "a string";
    case Json::booleanValue:
      return "a boolean";
    case Json::arrayValue:
      return "a list";
    case Json::objectValue:
      return "an object";
  }
  return "a value";
}

bool SameKind(const Json::Value& expected, const Json::Value& actual) {
  if (expected.isIntegral() && !expected.isBool()) return actual.isIntegral() && !actual.isBool();
  return expected.type() == actual.type();
}

void MergeInto(const Json::Value& defaults, const Json::Value& user, const std::string& path,
               Json::Value& merged) {
  if (!user.isObject()) {
    throw StartupError("invalid configuration option " + path + ": expected an object, got " +
                       TypeName(user));
  }
  for (const std::string& key : user.getMemberNames()) {
    const std::string optionPath = path + "." + key;
    if (!defaults.isMember(key)) {
      std::string known;
      for (const std::string& candidate : defaults.getMemberNames()) {
        known += (known.empty() ? "" : ", ") + candidate;
      }
      throw StartupError("unknown configuration option " + optionPath + " (options known in " + path + ": " +
                         known + ")");
    }
    const Json::Value& expected = defaults[key];
    const Json::Value& actual = user[key];
    if (expected.isObject()) {
      MergeInto(expected, actual, optionPath, merged[key]);
    } else if (!SameKind(expected, actual)) {
      throw StartupError("invalid configuration option " + optionPath + ": expected " + TypeName(expected) +
                         ", got " + TypeName(actual));
    } else {
      merged[key] = actual;
    }
  }
}

class Reader {
 public:
  explicit Reader(const Json::Value& merged) : merged_(merged) {}

  const Json::Value& At(const std::string& dottedPath) const {
    const Json::Value* node = &merged_;
    size_t start = 0;
    while (true) {
      size_t dot = dottedPath.find('.', start);
      node = &(*node)[dottedPath.substr(start, dot - start)];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return *node;
  }

  std::string String(const std::string& path) const { return At(path).asString(); }
  bool Bool(const std::string& path) const { return At(path).asBool(); }

  int64_t Integer(const std::string& path, int64_t min, int64_t max) const {
    const Json::Value& value = At(path);
    if (!value.isInt64() || value.asInt64() < min || value.asInt64() > max) {
      throw StartupError("invalid configuration option " + std::string(kSection) + "." + path +
                         ": must be between " + std::to_string(min) + " and " + std::to_string(max) +
                         ", got " + JsonText::Write(value));
    }
    return value.asInt64();
  }

 private:
  const Json::Value& merged_;
};

[[noreturn]] void Invalid(const std::string& path, const std::string& why) {
  throw StartupError("invalid configuration option " + std::string(kSection) + "." + path + ": " + why);
}

bool BoolOption(const Json::Value& orthanc, const char* name, bool fallback) {
  return orthanc.isMember(name) && orthanc[name].isBool() ? orthanc[name].asBool() : fallback;
}
}  // namespace

namespace {
std::vector<std::string> StringList(const Json::Value& list, const std::string& path) {
  std::vector<std::string> values;
  for (const Json::Value& item : list) {
    if (!item.isString() || item.asString().empty()) Invalid(path, "must be a list of non-empty strings");
    values.push_back(item.asString());
  }
  return values;
}
}  // namespace

Json::Value DefaultConfigurationJson() {
  std::string text;
  if (!FindEmbeddedFile("Resources/DefaultConfiguration.json", text)) {
    throw StartupError("the embedded default configuration is missing (build problem)");
  }
  return JsonText::ParseConfiguration(text, "the embedded default configuration");
}

Json::Value MergeConfiguration(const Json::Value& defaults, const Json::Value& section) {
  Json::Value merged = defaults;
  if (!section.isNull()) MergeInto(defaults, section, kSection, merged);
  return merged;
}

Configuration LoadConfiguration(const Json::Value& orthanc) {
  Json::Value merged = MergeConfiguration(DefaultConfigurationJson(), orthanc.get(kSection, Json::Value()));
  Reader read(merged);
  Configuration config;

  config.siteId = read.String("Site.Id");
  if (!Text::IsIdentifier(config.siteId, "_-", 1, 32)) {
    Invalid("Site.Id", "use 1 to 32 letters, digits, '-' or '_', got \"" + config.siteId + "\"");
  }
  config.siteName = read.String("Site.Name");
  if (config.siteName.empty() || config.siteName.size() > 128)
    Invalid("Site.Name", "must be 1 to 128 characters");

  config.databasePath = read.String("DatabasePath");
  if (config.databasePath.empty()) {
    std::string folder =
        orthanc.get("IndexDirectory", orthanc.get("StorageDirectory", "OrthancStorage")).asString();
    config.databasePath = folder + "/hospitalbridge.db";
  }

  config.webAppEnabled = read.Bool("Modules.WebApp");
  StudyIndexSettings& index = config.studyIndex;
  index.enabled = read.Bool("Modules.StudyIndex");
  index.refreshDelayMs = static_cast<int>(read.Integer("StudyIndex.RefreshDelayMs", 50, 60000));
  index.reconcileAtStart = read.Bool("StudyIndex.ReconcileAtStart");
  index.eventDelayMs = static_cast<int>(read.Integer("StudyIndex.EventDelayMs", 0, 60000));
  index.defaultPageSize = static_cast<int>(read.Integer("StudyIndex.DefaultPageSize", 1, 1000));
  index.maxPageSize = static_cast<int>(read.Integer("StudyIndex.MaxPageSize", 1, 1000));
  if (index.defaultPageSize > index.maxPageSize) {
    Invalid("StudyIndex.DefaultPageSize",
            "must not exceed StudyIndex.MaxPageSize (" + std::to_string(index.maxPageSize) + ")");
  }

  RegistrySettings& registry = config.registry;
  registry.enabled = read.Bool("Modules.Registry");
  const std::string source = read.String("Registry.NationalId.Source");
  if (source == "PatientID") {
    registry.nationalIdSource = RegistrySettings::NationalIdSource::kPatientId;
  } else if (source == "OtherPatientIDs") {
    registry.nationalIdSource = RegistrySettings::NationalIdSource::kOtherPatientIds;
  } else if (source == "IssuerOfPatientID") {
    registry.nationalIdSource = RegistrySettings::NationalIdSource::kIssuerOfPatientId;
  } else if (source == "None") {
    registry.nationalIdSource = RegistrySettings::NationalIdSource::kNone;
  } else {
    Invalid("Registry.NationalId.Source",
            "must be PatientID, OtherPatientIDs, IssuerOfPatientID or None, got \"" + source + "\"");
  }
  registry.nationalIdPattern = read.String("Registry.NationalId.Pattern");
  regex_t compiled;
  if (regcomp(&compiled, registry.nationalIdPattern.c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
    Invalid("Registry.NationalId.Pattern", "not a valid regular expression: " + registry.nationalIdPattern);
  }
  regfree(&compiled);
  registry.nationalIdIssuer = read.String("Registry.NationalId.Issuer");

  FederationSettings& federation = config.federation;
  federation.enabled = read.Bool("Modules.Federation");
  if (federation.enabled && !registry.enabled) {
    Invalid("Modules.Federation", "needs Modules.Registry (peers are answered by national ID)");
  }
  federation.peerTimeoutMs = static_cast<int>(read.Integer("Federation.PeerTimeoutMs", 100, 60000));
  federation.maxAnswerBytes =
      static_cast<size_t>(read.Integer("Federation.MaxAnswerKilobytes", 16, 65536)) * 1024;

  ConsentSettings& consent = config.consent;
  consent.enabled = read.Bool("Modules.Consent");
  if (consent.enabled && !registry.enabled) {
    Invalid("Modules.Consent", "needs Modules.Registry (consent is recorded per registry patient)");
  }
  auto defaultDecision = [&](const std::string& path) {
    const std::string value = read.String(path);
    if (value != "opt-in" && value != "opt-out")
      Invalid(path, "must be opt-in or opt-out, got \"" + value + "\"");
    return value == "opt-out";
  };
  consent.federationPermitsByDefault = defaultDecision("Consent.Federation");
  consent.sharePermitsByDefault = defaultDecision("Consent.Share");
  consent.researchPermitsByDefault = defaultDecision("Consent.Research");

  AuditSettings& audit = config.audit;
  audit.enabled = read.Bool("Modules.Audit");
  audit.retentionDays = static_cast<int>(read.Integer("Audit.RetentionDays", 0, 36500));
  audit.syslogEnabled = read.Bool("Audit.Syslog.Enabled");
  audit.syslogHost = read.String("Audit.Syslog.Host");
  if (audit.syslogEnabled && audit.syslogHost.empty()) Invalid("Audit.Syslog.Host", "must not be empty");
  audit.syslogPort = static_cast<int>(read.Integer("Audit.Syslog.Port", 1, 65535));
  const std::string protocol = read.String("Audit.Syslog.Protocol");
  if (protocol != "udp" && protocol != "tcp") Invalid("Audit.Syslog.Protocol", "must be udp or tcp");
  audit.syslogTcp = protocol == "tcp";
  audit.syslogRetryMs = static_cast<int>(read.Integer("Audit.Syslog.RetryIntervalMs", 100, 600000));
  if (audit.syslogEnabled && !audit.enabled) Invalid("Audit.Syslog.Enabled", "needs Modules.Audit");

  SharesSettings& shares = config.shares;
  shares.enabled = read.Bool("Modules.Shares");
  shares.publicBaseUrl = read.String("Shares.PublicBaseUrl");
  while (!shares.publicBaseUrl.empty() && shares.publicBaseUrl.back() == '/') shares.publicBaseUrl.pop_back();
  if (!shares.publicBaseUrl.empty() && shares.publicBaseUrl.rfind("http://", 0) != 0 &&
      shares.publicBaseUrl.rfind("https://", 0) != 0) {
    Invalid("Shares.PublicBaseUrl",
            "must start with https:// (or http://), got \"" + shares.publicBaseUrl + "\"");
  }
  shares.defaultValidDays = static_cast<int>(read.Integer("Shares.DefaultValidDays", 1, 3650));
  shares.maxValidDays = static_cast<int>(read.Integer("Shares.MaxValidDays", 1, 3650));
  if (shares.defaultValidDays > shares.maxValidDays) {
    Invalid("Shares.DefaultValidDays",
            "must not exceed Shares.MaxValidDays (" + std::to_string(shares.maxValidDays) + ")");
  }
  shares.allowNoSecondFactor = read.Bool("Shares.AllowNoSecondFactor");
  shares.maxFailedUnlocks = static_cast<int>(read.Integer("Shares.MaxFailedUnlocks", 1, 20));
  shares.sessionMinutes = static_cast<int>(read.Integer("Shares.SessionMinutes", 1, 60));
  shares.maxFailuresPerAddress = static_cast<int>(read.Integer("Shares.MaxFailuresPerAddress", 1, 100000));
  shares.windowMinutes = static_cast<int>(read.Integer("Shares.WindowMinutes", 1, 1440));
  shares.lockoutMinutes = static_cast<int>(read.Integer("Shares.LockoutMinutes", 1, 1440));
  shares.pendingSlipHours = static_cast<int>(read.Integer("Shares.PendingSlipHours", 1, 720));
  shares.secretHashIterations =
      static_cast<uint32_t>(read.Integer("Shares.SecretHashIterations", 10000, 10000000));
  AutoShareSettings& autoShare = shares.autoShare;
  autoShare.enabled = read.Bool("Shares.AutoShare.Enabled");
  autoShare.modalities = StringList(read.At("Shares.AutoShare.Modalities"), "Shares.AutoShare.Modalities");
  autoShare.callingAets = StringList(read.At("Shares.AutoShare.CallingAets"), "Shares.AutoShare.CallingAets");
  autoShare.validDays = static_cast<int>(read.Integer("Shares.AutoShare.ValidDays", 1, 3650));
  if (autoShare.validDays > shares.maxValidDays) {
    Invalid("Shares.AutoShare.ValidDays", "must not exceed Shares.MaxValidDays");
  }
  if (autoShare.enabled && !shares.enabled) Invalid("Shares.AutoShare.Enabled", "needs Modules.Shares");
  if (autoShare.enabled && !index.enabled) Invalid("Shares.AutoShare.Enabled", "needs Modules.StudyIndex");

  WatchFolderSettings& watch = config.watchFolders;
  watch.scanIntervalMs = static_cast<int>(read.Integer("WatchFolders.ScanIntervalMs", 100, 600000));
  watch.settleMs = static_cast<int>(read.Integer("WatchFolders.SettleMs", 0, 3600000));
  const Json::Value& folders = read.At("WatchFolders.Folders");
  for (Json::ArrayIndex i = 0; i < folders.size(); i++) {
    const std::string at = "WatchFolders.Folders[" + std::to_string(i) + "]";
    const Json::Value& item = folders[i];
    if (!item.isObject()) Invalid(at, "must be an object with Path, ProcessedPath, FailedPath, AfterImport");
    for (const std::string& key : item.getMemberNames()) {
      if (key != "Path" && key != "ProcessedPath" && key != "FailedPath" && key != "AfterImport") {
        Invalid(at + "." + key, "unknown option (known: Path, ProcessedPath, FailedPath, AfterImport)");
      }
      if (!item[key].isString()) Invalid(at + "." + key, "must be a string");
    }
    WatchFolder folder;
    folder.path = item.get("Path", "").asString();
    while (folder.path.size() > 1 && folder.path.back() == '/') folder.path.pop_back();
    if (folder.path.empty() || folder.path[0] != '/') Invalid(at + ".Path", "must be an absolute path");
    folder.processedPath = item.get("ProcessedPath", "").asString();
    if (folder.processedPath.empty()) folder.processedPath = folder.path + "/processed";
    folder.failedPath = item.get("FailedPath", "").asString();
    if (folder.failedPath.empty()) folder.failedPath = folder.path + "/failed";
    const std::string after = item.get("AfterImport", "move").asString();
    if (after != "move" && after != "delete") Invalid(at + ".AfterImport", "must be move or delete");
    folder.deleteAfterImport = after == "delete";
    if (folder.processedPath == folder.path || folder.failedPath == folder.path) {
      Invalid(at, "ProcessedPath and FailedPath must differ from Path");
    }
    watch.folders.push_back(folder);
  }

  SecuritySettings& security = config.security;
  security.bootstrapAdminUsername = read.String("Security.BootstrapAdmin.Username");
  if (!Text::IsUserName(security.bootstrapAdminUsername)) {
    Invalid("Security.BootstrapAdmin.Username",
            "use 1 to 64 letters, digits, '.', '_', '@' or '-' (and not '.' or '..')");
  }
  security.bootstrapAdminPasswordVariable =
      read.String("Security.BootstrapAdmin.PasswordEnvironmentVariable");
  security.bootstrapAdminPasswordFile = read.String("Security.BootstrapAdmin.PasswordFile");
  security.passwordHashIterations =
      static_cast<uint32_t>(read.Integer("Security.PasswordHashIterations", 100000, 10000000));
  security.sessionIdleMinutes = static_cast<int>(read.Integer("Security.SessionIdleMinutes", 1, 1440));
  security.sessionMaxHours = static_cast<int>(read.Integer("Security.SessionMaxHours", 1, 168));
  security.credentialCacheSeconds =
      static_cast<int>(read.Integer("Security.CredentialCacheSeconds", 1, 3600));
  security.maxFailuresPerUser =
      static_cast<int>(read.Integer("Security.LoginThrottle.MaxFailuresPerUser", 1, 1000));
  security.maxFailuresPerAddress =
      static_cast<int>(read.Integer("Security.LoginThrottle.MaxFailuresPerAddress", 1, 100000));
  security.throttleWindowMinutes =
      static_cast<int>(read.Integer("Security.LoginThrottle.WindowMinutes", 1, 1440));
  security.lockoutMinutes = static_cast<int>(read.Integer("Security.LoginThrottle.LockoutMinutes", 1, 1440));
  security.maxRequestBodyBytes =
      static_cast<size_t>(read.Integer("Security.MaxRequestBodyKilobytes", 1, 65536)) * 1024;
  security.trustedProxies = StringList(read.At("Security.TrustedProxies"), "Security.TrustedProxies");

  OrthancSettings& own = config.orthanc;
  own.name = orthanc.get("Name", "Orthanc").asString();
  own.dicomAet = orthanc.get("DicomAet", "ORTHANC").asString();
  own.remoteAccessAllowed = BoolOption(orthanc, "RemoteAccessAllowed", false);
  own.sslEnabled = BoolOption(orthanc, "SslEnabled", false);
  own.authenticationExplicit = orthanc.isMember("AuthenticationEnabled");
  // Orthanc turns its own authentication on when remote access is allowed and
  // the option is absent.
  own.authenticationEnabled = BoolOption(orthanc, "AuthenticationEnabled", own.remoteAccessAllowed);
  if (own.authenticationEnabled) {
    throw StartupError(
        "Orthanc's own \"AuthenticationEnabled\" must be false: HospitalBridge's gate authenticates every "
        "request "
        "and Orthanc's Basic authentication would refuse its users. Set \"AuthenticationEnabled\": false in "
        "orthanc.json.");
  }
  return config;
}

}  // namespace HospitalBridge
