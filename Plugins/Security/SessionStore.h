#pragma once
// Browser sessions. The cookie carries a random 128-bit token; the database
// keeps only its SHA-256, with an idle and an absolute expiry.
#include <cstdint>
#include <optional>
#include <string>

#include "Common/Storage.h"

namespace HospitalBridge {

struct Session {
  std::string tokenHash;
  int64_t userId = 0;
  int64_t createdAt = 0;
  int64_t lastSeenAt = 0;
  int64_t expiresAt = 0;
};

class SessionStore {
 public:
  SessionStore(IDatabase& database, int idleSeconds, int maxSeconds)
      : database_(database), idleSeconds_(idleSeconds), maxSeconds_(maxSeconds) {}

  // Returns the token to put in the cookie (never stored).
  std::string Create(int64_t userId, const std::string& remoteIp);
  // Finds a live session and slides its idle expiry; expired ones are removed.
  std::optional<Session> Resolve(const std::string& token);
  void Remove(const std::string& token);
  void RemoveForUser(int64_t userId);
  void PurgeExpired();
  int MaxSeconds() const { return maxSeconds_; }

 private:
  IDatabase& database_;
  int idleSeconds_;
  int maxSeconds_;
};

}  // namespace HospitalBridge
