#include "Security/LoginThrottle.h"

#include <algorithm>
#include <cctype>

namespace HospitalBridge {
namespace {
std::string Key(const std::string& username) {
  std::string key = username;
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  return key;
}

int64_t Remaining(int64_t lockedUntil, int64_t now) { return lockedUntil > now ? lockedUntil - now : 0; }
}  // namespace

void LoginThrottle::Bump(Counter& counter, int max, int64_t now, int windowSeconds, int lockoutSeconds) {
  if (now - counter.windowStart >= windowSeconds) {
    counter.failures = 0;
    counter.windowStart = now;
  }
  counter.failures++;
  if (counter.failures >= max) counter.lockedUntil = now + lockoutSeconds;
}

int64_t LoginThrottle::RetryAfter(const std::string& username, const std::string& address, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t wait = 0;
  auto user = byUser_.find(Key(username));
  if (user != byUser_.end()) wait = std::max(wait, Remaining(user->second.lockedUntil, now));
  auto from = byAddress_.find(address);
  if (from != byAddress_.end()) wait = std::max(wait, Remaining(from->second.lockedUntil, now));
  return wait;
}

int LoginThrottle::RecordFailure(const std::string& username, const std::string& address, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  Prune(now);
  Counter& user = byUser_[Key(username)];
  Bump(user, maxPerUser_, now, windowSeconds_, lockoutSeconds_);
  Bump(byAddress_[address], maxPerAddress_, now, windowSeconds_, lockoutSeconds_);
  return user.failures;
}

void LoginThrottle::RecordSuccess(const std::string& username) {
  std::lock_guard<std::mutex> lock(mutex_);
  byUser_.erase(Key(username));
}

void LoginThrottle::Prune(int64_t now) {
  // Keeps memory bounded when an attacker cycles through names or addresses.
  if (now - lastPrune_ < 60) return;
  lastPrune_ = now;
  auto stale = [&](const Counter& c) {
    return c.lockedUntil <= now && now - c.windowStart >= windowSeconds_;
  };
  for (auto* map : {&byUser_, &byAddress_}) {
    for (auto it = map->begin(); it != map->end();) {
      it = stale(it->second) ? map->erase(it) : std::next(it);
    }
  }
}

}  // namespace HospitalBridge
