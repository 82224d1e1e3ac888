#pragma once
// The registry's settings (HospitalBridge.Registry and Modules.Registry):
// where a study's national ID is read and what one looks like.
#include <string>

#include "Common/Settings.h"

namespace HospitalBridge {

struct RegistrySettings {
  bool enabled = true;
  enum class NationalIdSource { kPatientId, kOtherPatientIds, kIssuerOfPatientId, kNone };
  NationalIdSource nationalIdSource = NationalIdSource::kPatientId;
  std::string nationalIdPattern = "^[0-9]{6,20}$";
  std::string nationalIdIssuer = "NATIONAL";
};

RegistrySettings ReadRegistrySettings(const SettingsReader& read);

}  // namespace HospitalBridge
