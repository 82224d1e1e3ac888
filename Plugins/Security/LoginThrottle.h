#pragma once
// Slows down password guessing: too many failures for one user name or from
// one address within a window lock further attempts for a while, whatever
// the password. Counted in memory: a restart forgets, which only gives an
// attacker a fresh window per restart of the server.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace HospitalBridge {

class LoginThrottle {
 public:
  LoginThrottle(int maxPerUser, int maxPerAddress, int windowSeconds, int lockoutSeconds)
      : maxPerUser_(maxPerUser),
        maxPerAddress_(maxPerAddress),
        windowSeconds_(windowSeconds),
        lockoutSeconds_(lockoutSeconds) {}

  // Seconds to wait before another attempt is considered; 0 when allowed.
  int64_t RetryAfter(const std::string& username, const std::string& address, int64_t now);
  // Returns the number of recent failures for that user name.
  int RecordFailure(const std::string& username, const std::string& address, int64_t now);
  void RecordSuccess(const std::string& username);

 private:
  struct Counter {
    int failures = 0;
    int64_t windowStart = 0;
    int64_t lockedUntil = 0;
  };
  static void Bump(Counter& counter, int max, int64_t now, int windowSeconds, int lockoutSeconds);
  void Prune(int64_t now);

  std::mutex mutex_;
  std::map<std::string, Counter> byUser_;
  std::map<std::string, Counter> byAddress_;
  int maxPerUser_;
  int maxPerAddress_;
  int windowSeconds_;
  int lockoutSeconds_;
  int64_t lastPrune_ = 0;
};

}  // namespace HospitalBridge
