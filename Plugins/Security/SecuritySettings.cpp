#include "Security/SecuritySettings.h"

#include "Common/Text.h"

namespace HospitalBridge {

SecuritySettings ReadSecuritySettings(const SettingsReader& read) {
  SecuritySettings security;
  security.bootstrapAdminUsername = read.String("Security.BootstrapAdmin.Username");
  if (!Text::IsUserName(security.bootstrapAdminUsername)) {
    SettingsReader::Invalid("Security.BootstrapAdmin.Username",
                            "use 1 to 64 letters, digits, '.', '_', '@' or '-' (and not '.' or '..')");
  }
  security.bootstrapAdminPasswordVariable =
      read.String("Security.BootstrapAdmin.PasswordEnvironmentVariable");
  security.bootstrapAdminPasswordFile = read.String("Security.BootstrapAdmin.PasswordFile");
  security.passwordHashIterations =
      static_cast<uint32_t>(read.Integer("Security.PasswordHashIterations", 100000, 10000000));
  security.sessionIdleMinutes = read.Int("Security.SessionIdleMinutes", 1, 1440);
  security.sessionMaxHours = read.Int("Security.SessionMaxHours", 1, 168);
  security.credentialCacheSeconds = read.Int("Security.CredentialCacheSeconds", 1, 3600);
  security.maxFailuresPerUser = read.Int("Security.LoginThrottle.MaxFailuresPerUser", 1, 1000);
  security.maxFailuresPerAddress = read.Int("Security.LoginThrottle.MaxFailuresPerAddress", 1, 100000);
  security.throttleWindowMinutes = read.Int("Security.LoginThrottle.WindowMinutes", 1, 1440);
  security.lockoutMinutes = read.Int("Security.LoginThrottle.LockoutMinutes", 1, 1440);
  security.maxRequestBodyBytes =
      static_cast<size_t>(read.Integer("Security.MaxRequestBodyKilobytes", 1, 65536)) * 1024;
  security.trustedProxies = read.StringList("Security.TrustedProxies");
  return security;
}

}  // namespace HospitalBridge
