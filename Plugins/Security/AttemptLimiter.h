#pragma once
// Limits how often a secret (a password, a share link's PIN, a token) may be
// guessed, per key (a user name, an address). Every attempt first reserves a
// place under each of its keys, in one step under one lock, before the
// secret is checked; the reservation counts as a failure until the attempt
// says otherwise. So N requests arriving at the same moment can never check
// more secrets than the limit allows: the trade-off is that an attempt
// arriving while the limit is taken up by attempts still being checked waits
// for them (a few hundred milliseconds, the cost of one password hash)
// instead of being checked alongside them.
//
// IAttemptLimiter is what the login and the share links use; AttemptLimiter
// counts in memory: a restart forgets, which only gives an attacker a fresh
// window per restart of the server. Several Orthanc nodes behind one address
// need a shared implementation (in the database they share) behind the same
// interface, so that the limit holds across them.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace HospitalBridge {

class IAttemptLimiter {
 public:
  virtual ~IAttemptLimiter() = default;

  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    // An attempt never settled (an exception while checking) counts as failed.
    ~Ticket();

    bool Granted() const { return limiter_ != nullptr; }
    // When not granted: seconds until the keys may be tried again.
    int64_t RetryAfterSeconds() const { return retryAfter_; }
    // Failures counted for the first key once this attempt failed.
    int FailuresOfFirstKey() const { return failuresOfFirstKey_; }

    void Succeeded();
    void Failed();

   private:
    friend class IAttemptLimiter;
    IAttemptLimiter* limiter_ = nullptr;
    std::vector<std::string> keys_;
    int64_t retryAfter_ = 0;
    int failuresOfFirstKey_ = 0;
  };

  // `keys[i]` is the key under the i-th limit; an empty key is not limited
  // by it. Returns a granted ticket, or a refused one with the seconds to wait.
  virtual Ticket Reserve(const std::vector<std::string>& keys) = 0;
  // Seconds the keys must wait before an attempt is considered; 0 if none.
  virtual int64_t RetryAfter(const std::vector<std::string>& keys) = 0;

 protected:
  // The outcome of a granted ticket (a ticket never settled counts as failed).
  virtual void Settle(Ticket& ticket, bool success) = 0;
  // For implementations.
  Ticket Grant(std::vector<std::string> keys) {
    Ticket ticket;
    ticket.limiter_ = this;
    ticket.keys_ = std::move(keys);
    return ticket;
  }
  static Ticket Refuse(int64_t retryAfterSeconds) {
    Ticket ticket;
    ticket.retryAfter_ = retryAfterSeconds;
    return ticket;
  }
  static const std::vector<std::string>& KeysOf(const Ticket& ticket) { return ticket.keys_; }
  static void Close(Ticket& ticket, int failuresOfFirstKey) {
    ticket.failuresOfFirstKey_ = failuresOfFirstKey;
    ticket.limiter_ = nullptr;
  }
};

// In memory, for one Orthanc node.
class AttemptLimiter : public IAttemptLimiter {
 public:
  struct Limit {
    int maxFailures = 5;  // failures within the window that lock the key
    int windowSeconds = 900;
    int lockoutSeconds = 900;
    bool resetOnSuccess = false;  // a success forgets the key's failures (a user name)
  };

  // One limit per kind of key; a reservation names one key per limit.
  explicit AttemptLimiter(std::vector<Limit> limits, std::function<int64_t()> clock = nullptr,
                          int maxWaitMilliseconds = 10000);

  Ticket Reserve(const std::vector<std::string>& keys) override;
  int64_t RetryAfter(const std::vector<std::string>& keys) override;

 private:
  struct Counter {
    int failures = 0;
    int pending = 0;
    int64_t windowStart = 0;
    int64_t lockedUntil = 0;
  };
  void Settle(Ticket& ticket, bool success) override;
  int64_t LockedFor(const std::vector<std::string>& keys, int64_t now);
  void Prune(int64_t now);

  const std::vector<Limit> limits_;
  const std::function<int64_t()> clock_;
  const int maxWaitMilliseconds_;
  std::mutex mutex_;
  std::condition_variable settled_;
  std::vector<std::map<std::string, Counter>> counters_;  // one map per limit
  int64_t lastPrune_ = 0;
};

}  // namespace HospitalBridge
