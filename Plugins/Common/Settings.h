#pragma once
// How a module reads its settings: the "HospitalBridge" section of
// orthanc.json merged over Resources/DefaultConfiguration.json (an unknown
// option or a value of the wrong type is refused there, naming it), then read
// here with ranges. Each module has a <Module>Settings.h with its struct and
// the function that fills it from a SettingsReader, so a module's options are
// checked where they are used. Every failure is a StartupError that names
// the option as an administrator writes it ("HospitalBridge.Shares.MaxValidDays").
#include <json/json.h>

#include <cstdint>
#include <string>
#include <vector>

namespace HospitalBridge {

class SettingsReader {
 public:
  // `merged`: the merged section; `orthanc`: Orthanc's whole configuration.
  SettingsReader(const Json::Value& merged, const Json::Value& orthanc)
      : merged_(merged), orthanc_(orthanc) {}

  // "Shares.AutoShare.Enabled" → that value of the merged section.
  const Json::Value& At(const std::string& dottedPath) const;
  std::string String(const std::string& path) const { return At(path).asString(); }
  bool Bool(const std::string& path) const { return At(path).asBool(); }
  int64_t Integer(const std::string& path, int64_t min, int64_t max) const;
  int Int(const std::string& path, int min, int max) const {
    return static_cast<int>(Integer(path, min, max));
  }
  // A list of non-empty strings.
  std::vector<std::string> StringList(const std::string& path) const;
  // One of `choices`, else refused naming them.
  std::string Choice(const std::string& path, const std::vector<std::string>& choices) const;
  // Whether the module switch "Modules.<name>" is on.
  bool ModuleEnabled(const std::string& name) const { return Bool("Modules." + name); }

  // Orthanc's own configuration (read-only: Name, DicomAet, DicomModalities...).
  const Json::Value& Orthanc() const { return orthanc_; }

  [[noreturn]] static void Invalid(const std::string& path, const std::string& why);

 private:
  const Json::Value& merged_;
  const Json::Value& orthanc_;
};

// The embedded defaults, as documented JSON.
Json::Value DefaultConfigurationJson();

// Merges `section` over `defaults`. Throws StartupError naming the first
// offending option ("HospitalBridge.Security.Foo") for an unknown option or a
// value whose type differs from the default's.
Json::Value MergeConfiguration(const Json::Value& defaults, const Json::Value& section);

// What the plugin needs to know of Orthanc's own configuration.
struct OrthancSettings {
  std::string name;
  std::string dicomAet;
  bool remoteAccessAllowed = false;
  bool sslEnabled = false;
  bool authenticationEnabled = false;
  bool authenticationExplicit = false;  // "AuthenticationEnabled" present in the file
};

// What every module may know of the site it runs in.
struct SiteSettings {
  std::string siteId;
  std::string siteName;
  std::string databasePath;
  bool webAppEnabled = true;
  OrthancSettings orthanc;
};

SiteSettings ReadSiteSettings(const SettingsReader& read);

}  // namespace HospitalBridge
