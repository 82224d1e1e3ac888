#include "Security/BootstrapAdmin.h"

#include <cstdlib>
#include <fstream>

#include "Common/Errors.h"
#include "Common/Log.h"

namespace HospitalBridge {

std::string ReadBootstrapPassword(const SecuritySettings& settings) {
  if (!settings.bootstrapAdminPasswordVariable.empty()) {
    const char* value = std::getenv(settings.bootstrapAdminPasswordVariable.c_str());
    if (value != nullptr && *value != '\0') return value;
  }
  if (!settings.bootstrapAdminPasswordFile.empty()) {
    std::ifstream file(settings.bootstrapAdminPasswordFile);
    if (!file) {
      throw StartupError("cannot read HospitalBridge.Security.BootstrapAdmin.PasswordFile \"" +
                         settings.bootstrapAdminPasswordFile + "\"");
    }
    std::string line;
    std::getline(file, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    return line;
  }
  return "";
}

void EnsureBootstrapAdmin(const SiteSettings& site, const SecuritySettings& security, UserStore& users,
                          const PasswordHasher& hasher) {
  if (users.FindByName(security.bootstrapAdminUsername)) return;

  const std::string source =
      "the environment variable " + security.bootstrapAdminPasswordVariable +
      (security.bootstrapAdminPasswordFile.empty() ? std::string()
                                                   : " or the file " + security.bootstrapAdminPasswordFile);
  std::string password = ReadBootstrapPassword(security);
  std::string weakness = password.empty() ? "no password was given" : PasswordWeakness(password, "");
  if (!weakness.empty()) {
    if (site.orthanc.remoteAccessAllowed) {
      throw StartupError("cannot create the administrator \"" + security.bootstrapAdminUsername +
                         "\": " + weakness +
                         ". Orthanc accepts remote connections (RemoteAccessAllowed), so a strong " +
                         "password is required: set it in " + source + ".");
    }
    if (password.empty()) {
      Log::Warning("no administrator exists and no password was given in " + source +
                   ": nobody can log in until Orthanc restarts with one");
      return;
    }
    Log::Warning("the administrator's password is weak (" + weakness +
                 "); accepted only because Orthanc listens on this machine alone");
  }
  users.Create(security.bootstrapAdminUsername, hasher.Hash(password), Role::kAdmin);
  Log::Info("created the administrator \"" + security.bootstrapAdminUsername + "\" (password from " + source +
            ")");
}

}  // namespace HospitalBridge
