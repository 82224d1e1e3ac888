#include "Security/Authenticator.h"

#include <algorithm>
#include <cctype>

#include "Common/AuditVocabulary.h"
#include "Common/Crypto.h"
#include "Common/Log.h"
#include "Common/Time.h"

namespace HospitalBridge {

const char kSessionCookie[] = "hb_session";

namespace {

const size_t kMaxCredentialLength = 2048;

std::string ThrottleKey(const std::string& username) {
  std::string key = username.substr(0, 64);
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  return key;
}
}  // namespace

Authenticator::Authenticator(UserStore& users, SessionStore& sessions, IAttemptLimiter& throttle,
                             ICredentialCache& cache, ICredentialCache& sessionCache,
                             uint32_t passwordHashIterations, IAuditSink& audit)
    : users_(users),
      sessions_(sessions),
      throttle_(throttle),
      audit_(audit),
      cache_(cache),
      sessionCache_(sessionCache),
      cacheKey_(Crypto::RandomBytes(32)),
      decoyHash_(PasswordHasher(passwordHashIterations).Hash(Crypto::NewToken())) {}

AuthResult Authenticator::Identify(const HttpRequest& request) {
  std::string authorization = request.Header("authorization");
  if (!authorization.empty()) return FromBasic(authorization, request.remoteIp);
  std::string token = request.Cookie(kSessionCookie);
  if (!token.empty()) return FromSession(token);
  return AuthResult{};
}

AuthResult Authenticator::FromBasic(const std::string& header, const std::string& address) {
  AuthResult rejected;
  rejected.outcome = AuthResult::Outcome::kRejected;
  const std::string scheme = "Basic ";
  if (header.size() > kMaxCredentialLength || header.compare(0, scheme.size(), scheme) != 0) return rejected;
  std::string decoded;
  if (!Crypto::Base64Decode(header.substr(scheme.size()), decoded)) return rejected;
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return rejected;
  const std::string username = decoded.substr(0, colon);
  const std::string password = decoded.substr(colon + 1);

  const std::string key = Crypto::HmacSha256(cacheKey_, username + '\0' + password);
  if (std::optional<Identity> cached = cache_.Find(key)) {
    AuthResult result;
    result.outcome = AuthResult::Outcome::kAuthenticated;
    result.identity = *cached;
    return result;
  }
  AuthResult result = CheckPassword(username, password, address, "basic");
  if (result.outcome == AuthResult::Outcome::kAuthenticated) {
    // Once per verification, not per request: later requests hit the cache.
    AuditEvent event = MakeAuditEvent("login", AuditActor::Of(result.identity, address));
    event.detail["method"] = "basic";
    audit_.Record(event);
    cache_.Remember(key, result.identity);
  }
  return result;
}

std::string Authenticator::SessionCacheKey(const std::string& token) const {
  return Crypto::HmacSha256(cacheKey_, std::string("session") + '\0' + token);
}

void Authenticator::ForgetSession(const std::string& token) { sessionCache_.Forget(SessionCacheKey(token)); }

// A page such as the viewer sends hundreds of requests a minute with the same
// cookie; each would otherwise read the session and its user from the
// database, queuing on its one connection. The trade-off: a session that
// expires, or ends on another node, still works there for the cache's few
// seconds; a user changed anywhere, or a logout on this node, is forgotten at
// once here (ForgetCachedCredentials, ForgetSession). The few seconds stay
// well below the minute between two writes of the session's last use, so an
// active session still refreshes it.
AuthResult Authenticator::FromSession(const std::string& token) {
  AuthResult result;
  const std::string key = SessionCacheKey(token);
  if (std::optional<Identity> cached = sessionCache_.Find(key)) {
    result.outcome = AuthResult::Outcome::kAuthenticated;
    result.identity = *cached;
    return result;
  }
  std::optional<Session> session = sessions_.Resolve(token);
  if (!session) {
    result.outcome = AuthResult::Outcome::kRejected;
    return result;
  }
  std::optional<User> user = users_.FindById(session->userId);
  if (!user || user->disabled) {
    result.outcome = AuthResult::Outcome::kRejected;
    return result;
  }
  result.outcome = AuthResult::Outcome::kAuthenticated;
  result.identity = Identity{true, user->id, user->username, user->role, true};
  sessionCache_.Remember(key, result.identity);
  return result;
}

AuthResult Authenticator::CheckPassword(const std::string& username, const std::string& password,
                                        const std::string& address, const char* method) {
  AuthResult result;
  auto failed = [&](const char* why) {
    AuditEvent event = MakeAuditEvent("login.failed", AuditActor::Claimed(username, address), "failure");
    event.detail["method"] = method;
    event.detail["reason"] = why;
    audit_.Record(event);
  };
  const int64_t now = Time::NowSeconds();
  // The attempt takes its place under both limits before the password is
  // checked, so simultaneous guesses cannot check more than the limit.
  IAttemptLimiter::Ticket attempt = throttle_.Reserve({ThrottleKey(username), address});
  if (!attempt.Granted()) {
    const int64_t wait = attempt.RetryAfterSeconds();
    Log::Warning("login refused without checking for user '" + username + "' from " + address +
                 ": too many failures, locked for " + std::to_string(wait) + " s more");
    result.outcome = AuthResult::Outcome::kThrottled;
    result.retryAfterSeconds = wait;
    failed("locked after too many failures");
    return result;
  }
  std::optional<User> user = username.size() <= 64 ? users_.FindByName(username) : std::nullopt;
  // An unknown name pays the same hash as a known one, against a decoy.
  const bool matches = PasswordHasher::Verify(password, user ? user->passwordHash : decoyHash_);
  const bool valid = matches && user && !user->disabled;
  if (!valid) {
    attempt.Failed();
    const int failures = attempt.FailuresOfFirstKey();
    Log::Warning("failed login for user '" + username + "' from " + address + " (" +
                 std::to_string(failures) + " recent failure" + (failures > 1 ? "s" : "") + ")");
    result.outcome = AuthResult::Outcome::kRejected;
    failed(user && user->disabled ? "account disabled" : "invalid user name or password");
    return result;
  }
  attempt.Succeeded();
  users_.RecordLogin(user->id, now);
  result.outcome = AuthResult::Outcome::kAuthenticated;
  result.identity = Identity{true, user->id, user->username, user->role, false};
  return result;
}

}  // namespace HospitalBridge
