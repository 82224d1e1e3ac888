#pragma once
// Pulls a study from a peer site into this Orthanc, instance by instance, on
// a thread of its own (one node runs them: lease "retrieve-jobs"). Jobs live
// in the database: a pull interrupted by a stop or a crash resumes at the next
// start, one that failed (peer down) can be posted again, and instances
// already here are skipped, so nothing is stored twice.
#include <json/json.h>

#include <optional>
#include <string>

#include "Common/BackgroundWorker.h"
#include "Common/Leases.h"
#include "Common/OrthancRest.h"
#include "Common/PeerClient.h"
#include "Common/Storage.h"
#include "Registry/SiteStore.h"

namespace HospitalBridge {

class RetrieveJobs {
 public:
  // `leases` may be null (tests).
  RetrieveJobs(IDatabase& database, SiteStore& sites, IPeerClient& peers, IOrthancRest& orthanc,
               const std::string& localSiteId, ILeases* leases);
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
  std::chrono::milliseconds Tick();
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
  BackgroundWorker worker_;
};

}  // namespace HospitalBridge
