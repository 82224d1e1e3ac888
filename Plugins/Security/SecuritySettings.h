#pragma once
// The gate's settings (HospitalBridge.Security): the bootstrap administrator,
// password hashing, sessions, login throttling, body limits, trusted proxies.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "Common/Settings.h"

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

SecuritySettings ReadSecuritySettings(const SettingsReader& read);

}  // namespace HospitalBridge
