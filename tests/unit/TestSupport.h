#pragma once
// Helpers shared by the unit tests: an in-memory database with the real
// migrations, and an Orthanc REST API that answers from a table of JSON.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "Common/Clock.h"
#include "Common/Json.h"
#include "Common/Migrations.h"
#include "Common/OrthancRest.h"
#include "Common/PeerClient.h"
#include "Common/SqliteDatabase.h"

namespace HospitalBridge {

// Time that moves only when a test says so.
class ManualClock : public IClock {
 public:
  explicit ManualClock(int64_t startMs = 1800000000000) : nowMs_(startMs) {}
  int64_t NowMs() const override { return nowMs_.load(); }
  void Advance(int64_t ms) { nowMs_ += ms; }

 private:
  std::atomic<int64_t> nowMs_;
};

// Tampering and inspection, as someone with the database file would.
inline void ExecuteSql(IDatabase& database, const std::string& sql) {
  InWrite(database, [&](Transaction& transaction) { transaction.Execute(sql); });
}

inline std::unique_ptr<SqliteDatabase> MigratedMemoryDatabase() {
  auto database = std::make_unique<SqliteDatabase>(":memory:");
  MigrateDatabase(*database, EmbeddedMigrations());
  return database;
}

// Answers GETs from `answers` (URI → body); anything else is a 404. Setting
// `failing` makes every call throw, as when Orthanc is stopping.
class CannedOrthanc : public IOrthancRest {
 public:
  bool Get(const std::string& uri, std::string& body) override {
    std::lock_guard<std::mutex> lock(mutex);
    calls[uri]++;
    if (failing) throw OrthancUnavailable("Orthanc is stopping");
    auto found = answers.find(uri);
    if (found == answers.end()) return false;
    body = found->second;
    return true;
  }
  // A POST answer is looked up as "POST <uri>"; every body posted is kept.
  bool Post(const std::string& uri, const std::string& body, std::string& answer) override {
    std::lock_guard<std::mutex> lock(mutex);
    calls[uri]++;
    if (failing) throw OrthancUnavailable("Orthanc is stopping");
    posted.emplace_back(uri, body);
    auto found = answers.find("POST " + uri);
    if (found == answers.end()) return false;
    answer = found->second;
    return true;
  }
  void Set(const std::string& uri, const Json::Value& value) {
    std::lock_guard<std::mutex> lock(mutex);
    answers[uri] = JsonText::Write(value);
  }
  void Remove(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = answers.begin(); it != answers.end();) {
      it = it->first.rfind(prefix, 0) == 0 ? answers.erase(it) : std::next(it);
    }
  }

  std::map<std::string, std::string> answers;
  std::map<std::string, int> calls;
  std::vector<std::pair<std::string, std::string>> posted;
  std::atomic<bool> failing{false};
  std::mutex mutex;
};

// A site with no reachable peers.
class NoPeers : public IPeerClient {
 public:
  bool Knows(const std::string&) override { return false; }
  PeerAnswer Get(const std::string&, const std::string&, int) override {
    PeerAnswer answer;
    answer.error = "no peers in unit tests";
    return answer;
  }
};

}  // namespace HospitalBridge
