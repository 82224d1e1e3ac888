#pragma once
// Creates the first administrator at first start, so that a new site can be
// reached without a default password. The password comes from an environment
// variable or a file, never from orthanc.json (which is often world-readable
// and copied around).
#include "Security/PasswordHasher.h"
#include "Security/SecuritySettings.h"
#include "Security/UserStore.h"

namespace HospitalBridge {

// Looks up the password (environment first, then file). "" when none.
std::string ReadBootstrapPassword(const SecuritySettings& settings);

// Creates the account if it does not exist. Throws StartupError when the
// password is missing or weak and Orthanc accepts remote connections.
void EnsureBootstrapAdmin(const SiteSettings& site, const SecuritySettings& security, UserStore& users,
                          const PasswordHasher& hasher);

}  // namespace HospitalBridge
