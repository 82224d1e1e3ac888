#pragma once
// Remembers, for a while, that a user name and password were right, so that
// an API client sending Basic credentials on every request costs one
// password hash per CredentialCacheSeconds, not one per request.
//
// The cache must forget as soon as a user changes (disabled, new password,
// new role). A change anywhere bumps a generation number in the database
// (plugin_state "users_generation"), and every node compares its cache's
// generation with it at most once a second: with several Orthanc nodes on one
// database, a disabled user stops working everywhere within a second. The
// trade-off is one small read per second under load instead of none.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "Common/Clock.h"
#include "Common/Identity.h"
#include "Common/Storage.h"

namespace HospitalBridge {

class ICredentialCache {
 public:
  virtual ~ICredentialCache() = default;
  // `key` is an HMAC of the credentials (never the password itself).
  virtual std::optional<Identity> Find(const std::string& key) = 0;
  virtual void Remember(const std::string& key, const Identity& identity) = 0;
  // This node forgets one entry (a session ended here).
  virtual void Forget(const std::string& key) = 0;
  // A user changed: every node forgets what it remembered.
  virtual void Invalidate() = 0;
};

class DatabaseGenerationCache : public ICredentialCache {
 public:
  DatabaseGenerationCache(IDatabase& database, int ttlSeconds, const IClock& clock);

  std::optional<Identity> Find(const std::string& key) override;
  void Remember(const std::string& key, const Identity& identity) override;
  void Forget(const std::string& key) override;
  void Invalidate() override;

 private:
  // Forgets everything when the database's generation moved on.
  void CheckGeneration(int64_t nowMs);
  std::string ReadGeneration();

  IDatabase& database_;
  const int64_t ttlMs_;
  const IClock& clock_;
  std::mutex mutex_;
  struct Entry {
    Identity identity;
    int64_t expiresAtMs;
  };
  std::map<std::string, Entry> entries_;
  std::string generation_;
  int64_t checkedAtMs_ = 0;
};

}  // namespace HospitalBridge
