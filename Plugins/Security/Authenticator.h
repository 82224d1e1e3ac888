#pragma once
// Works out who a request comes from: HTTP Basic credentials (API clients,
// peers) or the session cookie set by /bridge/login (browsers). Failed
// attempts are throttled and logged without the password.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "Common/AuditSink.h"
#include "Common/Http.h"
#include "Security/AttemptLimiter.h"
#include "Security/CredentialCache.h"
#include "Security/PasswordHasher.h"
#include "Security/SessionStore.h"
#include "Security/UserStore.h"

namespace HospitalBridge {

extern const char kSessionCookie[];

struct AuthResult {
  enum class Outcome { kAnonymous, kAuthenticated, kRejected, kThrottled } outcome = Outcome::kAnonymous;
  Identity identity;
  int64_t retryAfterSeconds = 0;
};

class Authenticator {
 public:
  // `throttle` limits password checks per user name (its first key) and
  // per address (its second). `passwordHashIterations` is the cost of a new
  // password's hash: an unknown user name is checked against a decoy of the
  // same cost, so the answer's timing does not tell which names exist.
  // `cache` remembers verified Basic credentials (Security/CredentialCache.h);
  // `sessionCache` remembers, for a few seconds, whom a session cookie names
  // (see FromSession).
  Authenticator(UserStore& users, SessionStore& sessions, IAttemptLimiter& throttle, ICredentialCache& cache,
                ICredentialCache& sessionCache, uint32_t passwordHashIterations, IAuditSink& audit);

  AuthResult Identify(const HttpRequest& request);
  // The password check shared by Basic authentication and the login form.
  // Failures are audited here ("login.failed"); a success is audited by the
  // caller, which knows whether it opened a session.
  AuthResult CheckPassword(const std::string& username, const std::string& password,
                           const std::string& address, const char* method = "form");
  // Called whenever a user changes, so a disabled user or an old password
  // stops working at once, on every node.
  void ForgetCachedCredentials() {
    cache_.Invalidate();
    sessionCache_.Invalidate();
  }
  // A session ended here (logout): its cookie stops working on this node at
  // once, on the others within the session cache's few seconds.
  void ForgetSession(const std::string& token);

 private:
  AuthResult FromBasic(const std::string& header, const std::string& address);
  AuthResult FromSession(const std::string& token);
  std::string SessionCacheKey(const std::string& token) const;

  UserStore& users_;
  SessionStore& sessions_;
  IAttemptLimiter& throttle_;
  IAuditSink& audit_;
  ICredentialCache& cache_;
  ICredentialCache& sessionCache_;
  const std::string cacheKey_;  // random per process: cache keys reveal nothing
  const std::string decoyHash_;
};

}  // namespace HospitalBridge
