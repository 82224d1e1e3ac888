#pragma once
// The gate as a module: users and sessions, the login throttle, the
// permission table in front of Orthanc's routes, the trusted proxies, the
// study-level access policy, the guard on the bodies Orthanc would choke on
// and the check of every DICOM file Orthanc receives. Registers /bridge/login,
// /bridge/users and the like; creates the bootstrap administrator.
#include <optional>
#include <string>

#include "Common/Http.h"
#include "Common/Module.h"
#include "Security/AccessGate.h"
#include "Security/AttemptLimiter.h"
#include "Security/Authenticator.h"
#include "Security/ClientAddress.h"
#include "Security/CredentialCache.h"
#include "Security/PasswordHasher.h"
#include "Security/PermissionTable.h"
#include "Security/SecuritySettings.h"
#include "Security/SessionStore.h"
#include "Security/StudyAccessPolicy.h"
#include "Security/UserStore.h"

namespace HospitalBridge {

class SecurityModule : public IModule {
 public:
  // `permissions`: what the configuration changes in the permission table
  // (who reads DICOMweb: the viewer's roles).
  SecurityModule(const ModuleContext& context, const SecuritySettings& settings,
                 const PermissionOptions& permissions = PermissionOptions{});

  std::string Name() const override { return "security"; }
  void Describe(Json::Value& section) override;

  // Before anything reads a request: its path in canonical form, its
  // client's address and scheme (through a trusted proxy or not).
  void PrepareRequest(HttpRequest& request) const;
  // Orthanc's incoming-request filter: may this request go on?
  bool Allows(const HttpRequest& request) { return gate_.Allows(request); }
  AuthResult Identify(const HttpRequest& request) { return authenticator_.Identify(request); }
  // A request to one of Orthanc's routes guarded for its body: the reason
  // to refuse it (audited), or nothing.
  std::optional<std::string> RefuseCoreBody(const HttpRequest& request);
  // A DICOM file Orthanc received by `origin`, before it parses it: false
  // (audited) when it would crash Orthanc.
  bool AcceptsReceivedInstance(const std::string& file, const std::string& origin,
                               const std::string& address);

  AccessGate& Gate() { return gate_; }
  StudyAccessPolicy& StudyAccess() { return studyAccess_; }
  // Re-authentication (reporting's sign-off) and who has which role.
  Authenticator& Authentication() { return authenticator_; }
  UserStore& Users() { return users_; }
  size_t MaxRequestBodyBytes() const { return settings_.maxRequestBodyBytes; }

 private:
  const SecuritySettings settings_;
  const SiteSettings& site_;
  IAuditSink& audit_;
  const TrustedProxies proxies_;
  PasswordHasher hasher_;
  UserStore users_;
  SessionStore sessions_;
  AttemptLimiter throttle_;
  DatabaseGenerationCache credentials_;
  // Whom a session cookie names, for a few seconds (Authenticator::FromSession).
  static constexpr int kSessionCacheSeconds = 2;
  DatabaseGenerationCache sessionIdentities_;
  Authenticator authenticator_;
  PermissionTable permissions_;
  AccessGate gate_;
  StudyAccessPolicy studyAccess_;
};

}  // namespace HospitalBridge
