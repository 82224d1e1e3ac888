#include "Security/CredentialCache.h"

#include "Common/PluginState.h"

namespace HospitalBridge {
namespace {
const char kGenerationKey[] = "users_generation";
const int64_t kCheckEveryMs = 1000;
const size_t kMaxEntries = 10000;  // an attacker cycling passwords cannot grow it
}  // namespace

DatabaseGenerationCache::DatabaseGenerationCache(IDatabase& database, int ttlSeconds, const IClock& clock)
    : database_(database), ttlMs_(static_cast<int64_t>(ttlSeconds) * 1000), clock_(clock) {}

std::string DatabaseGenerationCache::ReadGeneration() { return GetPluginState(database_, kGenerationKey); }

void DatabaseGenerationCache::CheckGeneration(int64_t nowMs) {
  // Called with mutex_ held.
  if (checkedAtMs_ != 0 && nowMs - checkedAtMs_ < kCheckEveryMs) return;
  checkedAtMs_ = nowMs;
  const std::string generation = ReadGeneration();
  if (generation != generation_) {
    entries_.clear();
    generation_ = generation;
  }
}

std::optional<Identity> DatabaseGenerationCache::Find(const std::string& key) {
  const int64_t now = clock_.NowMs();
  std::lock_guard<std::mutex> lock(mutex_);
  CheckGeneration(now);
  auto found = entries_.find(key);
  if (found == entries_.end() || found->second.expiresAtMs <= now) return std::nullopt;
  return found->second.identity;
}

void DatabaseGenerationCache::Remember(const std::string& key, const Identity& identity) {
  const int64_t now = clock_.NowMs();
  std::lock_guard<std::mutex> lock(mutex_);
  CheckGeneration(now);
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[key] = Entry{identity, now + ttlMs_};
}

void DatabaseGenerationCache::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.erase(key);
}

void DatabaseGenerationCache::Invalidate() {
  InWrite(database_, [](Transaction& transaction) {
    const std::string current = GetPluginState(transaction, kGenerationKey);
    SetPluginState(transaction, kGenerationKey,
                   std::to_string((current.empty() ? 0 : std::stoll(current)) + 1));
  });
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
  checkedAtMs_ = 0;  // read the new generation at the next look-up
}

}  // namespace HospitalBridge
