#include "Registry/RegistrySettings.h"

#include <regex.h>

namespace HospitalBridge {

RegistrySettings ReadRegistrySettings(const SettingsReader& read) {
  RegistrySettings registry;
  registry.enabled = read.ModuleEnabled("Registry");
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
    SettingsReader::Invalid(
        "Registry.NationalId.Source",
        "must be PatientID, OtherPatientIDs, IssuerOfPatientID or None, got \"" + source + "\"");
  }
  registry.nationalIdPattern = read.String("Registry.NationalId.Pattern");
  regex_t compiled;
  if (regcomp(&compiled, registry.nationalIdPattern.c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
    SettingsReader::Invalid("Registry.NationalId.Pattern",
                            "not a valid regular expression: " + registry.nationalIdPattern);
  }
  regfree(&compiled);
  registry.nationalIdIssuer = read.String("Registry.NationalId.Issuer");
  return registry;
}

}  // namespace HospitalBridge
