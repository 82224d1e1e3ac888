#pragma once
// Pulls a study from a peer site into this Orthanc, instance by instance, on
// a thread of its own. Jobs live in the database: an interrupted pull (crash,
// restart, peer down) resumes or can be posted again, and instances already
// here are skipped, so nothing is stored twice.
#include <json/json.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "Common/OrthancRest.h"
#include "Common/PeerClient.h"
#include "Common/Storage.h"
#include "Registry/SiteStore.h"

namespace HospitalBridge {

class RetrieveJobs {
 public:
  RetrieveJobs(IDatabase& database, SiteStore& sites, IPeerClient& peers, IOrthancRest& orthanc,
               const std::string& localSiteId);
  ~RetrieveJobs();

  // Checks the request and queues it; returns the job. DomainError (invalid)/404.
  Json::Value Submit(const std::string& siteId, const std::string& studyUid, const std::string& requestedBy);
  std::optional<Json::Value> Find(const std::string& jobId);
  Json::Value List(int limit);

  void Start();
  void Stop();
  // For tests: runs every pending job on the caller's thread.
  void RunPendingForTests();

 private:
  struct Job {
    std::string id;
    std::string siteId;
    std::string studyUid;
  };
  void Run();
  std::optional<Job> NextPending();
  void Execute(const Job& job);
  void Progress(const std::string& jobId, const std::string& state, int64_t total, int64_t done,
                int64_t skipped, const std::string& error);
  bool AlreadyHere(const std::string& sopInstanceUid);

  IDatabase& database_;
  SiteStore& sites_;
  IPeerClient& peers_;
  IOrthancRest& orthanc_;
  const std::string localSiteId_;
  std::mutex mutex_;
  std::condition_variable wakeUp_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace HospitalBridge
