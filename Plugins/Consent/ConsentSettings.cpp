#include "Consent/ConsentSettings.h"

namespace HospitalBridge {

ConsentSettings ReadConsentSettings(const SettingsReader& read) {
  ConsentSettings consent;
  consent.enabled = read.ModuleEnabled("Consent");
  if (consent.enabled && !read.ModuleEnabled("Registry")) {
    SettingsReader::Invalid("Modules.Consent",
                            "needs Modules.Registry (consent is recorded per registry patient)");
  }
  auto optOut = [&](const std::string& path) {
    return read.Choice(path, {"opt-in", "opt-out"}) == "opt-out";
  };
  consent.federationPermitsByDefault = optOut("Consent.Federation");
  consent.sharePermitsByDefault = optOut("Consent.Share");
  consent.researchPermitsByDefault = optOut("Consent.Research");
  return consent;
}

}  // namespace HospitalBridge
