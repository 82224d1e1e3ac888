#include "Common/Settings.h"

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

bool BoolOption(const Json::Value& orthanc, const char* name, bool fallback) {
  return orthanc.isMember(name) && orthanc[name].isBool() ? orthanc[name].asBool() : fallback;
}
}  // namespace

const Json::Value& SettingsReader::At(const std::string& dottedPath) const {
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

int64_t SettingsReader::Integer(const std::string& path, int64_t min, int64_t max) const {
  const Json::Value& value = At(path);
  if (!value.isInt64() || value.asInt64() < min || value.asInt64() > max) {
    Invalid(path, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                      JsonText::Write(value));
  }
  return value.asInt64();
}

std::vector<std::string> SettingsReader::StringList(const std::string& path) const {
  std::vector<std::string> values;
  for (const Json::Value& item : At(path)) {
    if (!item.isString() || item.asString().empty()) Invalid(path, "must be a list of non-empty strings");
    values.push_back(item.asString());
  }
  return values;
}

std::string SettingsReader::Choice(const std::string& path, const std::vector<std::string>& choices) const {
  const std::string value = String(path);
  std::string known;
  for (const std::string& choice : choices) {
    if (choice == value) return value;
    known += (known.empty() ? "" : ", ") + choice;
  }
  Invalid(path, "must be one of " + known + ", got \"" + value + "\"");
}

void SettingsReader::Invalid(const std::string& path, const std::string& why) {
  throw StartupError("invalid configuration option " + std::string(kSection) + "." + path + ": " + why);
}

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

SiteSettings ReadSiteSettings(const SettingsReader& read) {
  SiteSettings site;
  site.siteId = read.String("Site.Id");
  if (!Text::IsIdentifier(site.siteId, "_-", 1, 32)) {
    SettingsReader::Invalid("Site.Id",
                            "use 1 to 32 letters, digits, '-' or '_', got \"" + site.siteId + "\"");
  }
  site.siteName = read.String("Site.Name");
  if (site.siteName.empty() || site.siteName.size() > 128) {
    SettingsReader::Invalid("Site.Name", "must be 1 to 128 characters");
  }
  const Json::Value& orthanc = read.Orthanc();
  site.databasePath = read.String("DatabasePath");
  if (site.databasePath.empty()) {
    std::string folder =
        orthanc.get("IndexDirectory", orthanc.get("StorageDirectory", "OrthancStorage")).asString();
    site.databasePath = folder + "/hospitalbridge.db";
  }
  site.webAppEnabled = read.ModuleEnabled("WebApp");

  OrthancSettings& own = site.orthanc;
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
        "request and Orthanc's Basic authentication would refuse its users. Set \"AuthenticationEnabled\": "
        "false in orthanc.json.");
  }
  return site;
}

}  // namespace HospitalBridge
