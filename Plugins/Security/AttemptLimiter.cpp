#include "Security/AttemptLimiter.h"

#include <algorithm>
#include <chrono>

#include "Common/Time.h"

namespace HospitalBridge {

AttemptLimiter::AttemptLimiter(std::vector<Limit> limits, std::function<int64_t()> clock,
                               int maxWaitMilliseconds)
    : limits_(std::move(limits)),
      clock_(clock ? std::move(clock) : std::function<int64_t()>(Time::NowSeconds)),
      maxWaitMilliseconds_(maxWaitMilliseconds),
      counters_(limits_.size()) {}

IAttemptLimiter::Ticket::Ticket(Ticket&& other) noexcept { *this = std::move(other); }

IAttemptLimiter::Ticket& IAttemptLimiter::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    if (limiter_ != nullptr) limiter_->Settle(*this, false);
    limiter_ = other.limiter_;
    keys_ = std::move(other.keys_);
    retryAfter_ = other.retryAfter_;
    failuresOfFirstKey_ = other.failuresOfFirstKey_;
    other.limiter_ = nullptr;
  }
  return *this;
}

IAttemptLimiter::Ticket::~Ticket() {
  if (limiter_ != nullptr) limiter_->Settle(*this, false);
}

void IAttemptLimiter::Ticket::Succeeded() {
  if (limiter_ != nullptr) limiter_->Settle(*this, true);
}

void IAttemptLimiter::Ticket::Failed() {
  if (limiter_ != nullptr) limiter_->Settle(*this, false);
}

int64_t AttemptLimiter::LockedFor(const std::vector<std::string>& keys, int64_t now) {
  int64_t wait = 0;
  for (size_t i = 0; i < limits_.size() && i < keys.size(); i++) {
    if (keys[i].empty()) continue;
    auto found = counters_[i].find(keys[i]);
    if (found == counters_[i].end()) continue;
    Counter& counter = found->second;
    if (counter.lockedUntil > now) {
      wait = std::max(wait, counter.lockedUntil - now);
    } else if (now - counter.windowStart >= limits_[i].windowSeconds) {
      counter.failures = 0;  // the window has passed
    }
  }
  return wait;
}

AttemptLimiter::Ticket AttemptLimiter::Reserve(const std::vector<std::string>& keys) {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(maxWaitMilliseconds_);
  while (true) {
    const int64_t now = clock_();
    Prune(now);
    if (int64_t wait = LockedFor(keys, now)) return Refuse(wait);
    bool full = false;
    for (size_t i = 0; i < limits_.size() && i < keys.size(); i++) {
      if (keys[i].empty()) continue;
      auto found = counters_[i].find(keys[i]);
      if (found != counters_[i].end() &&
          found->second.failures + found->second.pending >= limits_[i].maxFailures) {
        full = true;
      }
    }
    if (!full) {
      for (size_t i = 0; i < limits_.size() && i < keys.size(); i++) {
        if (!keys[i].empty()) counters_[i][keys[i]].pending++;
      }
      return Grant(keys);
    }
    // Every remaining place is held by attempts still being checked: their
    // outcome decides whether this one may be checked at all.
    if (settled_.wait_until(lock, deadline) == std::cv_status::timeout) return Refuse(1);
  }
}

void AttemptLimiter::Settle(Ticket& ticket, bool success) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t now = clock_();
    const std::vector<std::string>& keys = KeysOf(ticket);
    int failuresOfFirstKey = 0;
    for (size_t i = 0; i < limits_.size() && i < keys.size(); i++) {
      const std::string& key = keys[i];
      if (key.empty()) continue;
      Counter& counter = counters_[i][key];
      counter.pending = std::max(0, counter.pending - 1);
      if (success) {
        if (limits_[i].resetOnSuccess) {
          counter.failures = 0;
          counter.lockedUntil = 0;
        }
      } else {
        if (counter.failures == 0 || now - counter.windowStart >= limits_[i].windowSeconds) {
          counter.failures = 0;
          counter.windowStart = now;
        }
        counter.failures++;
        if (counter.failures >= limits_[i].maxFailures) counter.lockedUntil = now + limits_[i].lockoutSeconds;
      }
      if (i == 0) failuresOfFirstKey = counter.failures;
    }
    Close(ticket, failuresOfFirstKey);
  }
  settled_.notify_all();
}

int64_t AttemptLimiter::RetryAfter(const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mutex_);
  return LockedFor(keys, clock_());
}

void AttemptLimiter::Prune(int64_t now) {
  // Keeps memory bounded when an attacker cycles through names or addresses.
  if (now - lastPrune_ < 60) return;
  lastPrune_ = now;
  for (size_t i = 0; i < counters_.size(); i++) {
    for (auto it = counters_[i].begin(); it != counters_[i].end();) {
      const Counter& c = it->second;
      const bool stale =
          c.pending == 0 && c.lockedUntil <= now && now - c.windowStart >= limits_[i].windowSeconds;
      it = stale ? counters_[i].erase(it) : std::next(it);
    }
  }
}

}  // namespace HospitalBridge
