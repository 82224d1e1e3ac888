#include "Federation/RetrieveJobs.h"

#include "Common/Crypto.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Federation/FederationService.h"

namespace HospitalBridge {
namespace {
const int kListTimeoutMs = 30000;
const int kFileTimeoutMs = 120000;
const char kColumns[] =
    "id, site_id, study_uid, state, instances_total, instances_done, instances_skipped, error, created_at, "
    "updated_at";

Json::Value ReadJob(Statement& row) {
  Json::Value job(Json::objectValue);
  job["job_id"] = row.ColumnText(0);
  job["site"] = row.ColumnText(1);
  job["study_uid"] = row.ColumnText(2);
  job["state"] = row.ColumnText(3);
  job["instances_total"] = static_cast<Json::Int64>(row.ColumnInt(4));
  job["instances_done"] = static_cast<Json::Int64>(row.ColumnInt(5));
  job["instances_skipped"] = static_cast<Json::Int64>(row.ColumnInt(6));
  job["error"] = row.ColumnText(7);
  job["created_at"] = Time::FormatIsoUtc(row.ColumnInt(8));
  job["updated_at"] = Time::FormatIsoUtc(row.ColumnInt(9));
  return job;
}

class Failure : public std::runtime_error {
 public:
  explicit Failure(const std::string& message) : std::runtime_error(message) {}
};
}  // namespace

RetrieveJobs::RetrieveJobs(IDatabase& database, SiteStore& sites, IPeerClient& peers, IOrthancRest& orthanc,
                           const std::string& localSiteId, ILeases* leases)
    : database_(database),
      sites_(sites),
      peers_(peers),
      orthanc_(orthanc),
      localSiteId_(localSiteId),
      worker_("retrieve jobs", [this] { return Tick(); }) {
  if (leases != nullptr) worker_.RequireLease(*leases, "retrieve-jobs");
  // A job that was running when the plugin stopped goes on from where it was.
  InWrite(database_, [](Transaction& t) {
    t.Execute("UPDATE retrieve_jobs SET state = 'pending' WHERE state = 'running'");
  });
}

RetrieveJobs::~RetrieveJobs() { Stop(); }

Json::Value RetrieveJobs::Submit(const std::string& siteId, const std::string& studyUid,
                                 const std::string& requestedBy) {
  if (studyUid.empty() || studyUid.size() > 64 || !Text::IsIdentifier(studyUid, ".", 1, 64)) {
    throw DomainError::Invalid("Invalid field: study_uid", "study_uid must be a DICOM UID (digits and dots)");
  }
  if (siteId == localSiteId_)
    throw DomainError::Invalid("Invalid field: site", "the study is at this site already");
  std::optional<Site> site = sites_.Find(siteId);
  if (!site) throw DomainError::NotFound("No such site", "site " + siteId);
  if (site->orthancPeer.empty()) {
    throw DomainError::Invalid("Invalid field: site",
                               "site " + siteId + " has no Orthanc peer to retrieve from");
  }
  const std::string id = "RJ-" + Crypto::ToHex(Crypto::RandomBytes(8));
  int64_t now = Time::NowSeconds();
  {
    Transaction transaction(database_, TransactionMode::kWrite);
    Statement insert(
        transaction,
        "INSERT INTO retrieve_jobs (id, site_id, study_uid, state, requested_by, created_at, updated_at) "
        "VALUES (?, ?, ?, 'pending', ?, ?, ?)");
    insert.Bind(1, id).Bind(2, siteId).Bind(3, studyUid).Bind(4, requestedBy).Bind(5, now).Bind(6, now).Run();
    transaction.Commit();
  }
  Log::Info("retrieve " + id + " of study " + studyUid + " from site " + siteId + " requested by " +
            requestedBy);
  worker_.Wake();
  return *Find(id);
}

std::optional<Json::Value> RetrieveJobs::Find(const std::string& jobId) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction, std::string("SELECT ") + kColumns + " FROM retrieve_jobs WHERE id = ?");
  select.Bind(1, jobId);
  if (!select.Step()) return std::nullopt;
  return ReadJob(select);
}

Json::Value RetrieveJobs::List(int limit) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction,
                   std::string("SELECT ") + kColumns + " FROM retrieve_jobs ORDER BY created_at DESC, " +
                       transaction.Dialect().InsertionOrder() + " DESC LIMIT " + std::to_string(limit));
  Json::Value jobs(Json::arrayValue);
  while (select.Step()) jobs.append(ReadJob(select));
  return jobs;
}

void RetrieveJobs::Start() { worker_.Start(); }

void RetrieveJobs::Stop() { worker_.Stop(); }

std::optional<RetrieveJobs::Job> RetrieveJobs::NextPending() {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(
      transaction,
      "SELECT id, site_id, study_uid FROM retrieve_jobs WHERE state = 'pending' ORDER BY created_at, " +
          transaction.Dialect().InsertionOrder() +
          " "
          "LIMIT 1");
  if (!select.Step()) return std::nullopt;
  return Job{select.ColumnText(0), select.ColumnText(1), select.ColumnText(2)};
}

std::chrono::milliseconds RetrieveJobs::Tick() {
  // One job per tick; the next at once, or a look every 5 s when none waits
  // (a job posted on another node).
  std::optional<Job> job = NextPending();
  if (!job) return std::chrono::seconds(5);
  Execute(*job);
  return std::chrono::milliseconds(0);
}

void RetrieveJobs::RunPendingForTests() {
  while (std::optional<Job> job = NextPending()) Execute(*job);
}

void RetrieveJobs::Progress(const std::string& jobId, const std::string& state, int64_t total, int64_t done,
                            int64_t skipped, const std::string& error) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement update(transaction,
                   "UPDATE retrieve_jobs SET state = ?, instances_total = ?, instances_done = ?, "
                   "instances_skipped = ?, error = ?, updated_at = ? WHERE id = ?");
  update.Bind(1, state)
      .Bind(2, total)
      .Bind(3, done)
      .Bind(4, skipped)
      .Bind(5, error)
      .Bind(6, Time::NowSeconds());
  update.Bind(7, jobId).Run();
  transaction.Commit();
}

bool RetrieveJobs::AlreadyHere(const std::string& sopInstanceUid) {
  std::string answer;
  Json::Value found;
  if (!orthanc_.Post("/tools/lookup", sopInstanceUid, answer) || !JsonText::Parse(answer, found))
    return false;
  for (const Json::Value& item : found) {
    if (item.isObject() && item.get("Type", "").asString() == "Instance") return true;
  }
  return false;
}

void RetrieveJobs::Execute(const Job& job) {
  int64_t total = 0;
  int64_t done = 0;
  int64_t skipped = 0;
  try {
    Progress(job.id, "running", 0, 0, 0, "");
    const auto stopping = [&] {
      if (!worker_.StopRequested()) return false;
      // Orthanc is stopping: the job waits for the next start.
      Progress(job.id, "pending", total, done, skipped, "");
      Log::Info("retrieve " + job.id + " paused: Orthanc is stopping; it goes on at the next start");
      return true;
    };
    std::optional<Site> site = sites_.Find(job.siteId);
    if (!site || site->orthancPeer.empty())
      throw Failure("site " + job.siteId + " has no Orthanc peer any more");

    PeerAnswer listing =
        peers_.Get(site->orthancPeer,
                   "/bridge/federation/v1/studies/" + UrlEncode(job.studyUid) + "/instances", kListTimeoutMs);
    if (!listing.reached) throw Failure("site " + job.siteId + " did not answer: " + listing.error);
    if (listing.httpStatus == 404) throw Failure("site " + job.siteId + " does not share this study");
    if (listing.httpStatus == 401 || listing.httpStatus == 403) {
      throw Failure("site " + job.siteId + " refused this site's credentials");
    }
    Json::Value instances;
    if (listing.httpStatus != 200 || !JsonText::Parse(listing.body, instances) ||
        !instances["instances"].isArray()) {
      throw Failure("site " + job.siteId + " gave no list of instances (HTTP " +
                    std::to_string(listing.httpStatus) + ")");
    }
    total = instances["instances"].size();
    Progress(job.id, "running", total, 0, 0, "");
    for (const Json::Value& instance : instances["instances"]) {
      if (stopping()) return;
      const std::string id = instance.get("id", "").asString();
      const std::string sop = instance.get("sop_instance_uid", "").asString();
      if (!Text::IsIdentifier(id, "-", 1, 64))
        throw Failure("site " + job.siteId + " sent an invalid instance id");
      if (!sop.empty() && AlreadyHere(sop)) {
        skipped++;
      } else {
        PeerAnswer file =
            peers_.Get(site->orthancPeer, "/bridge/federation/v1/instances/" + id + "/file", kFileTimeoutMs);
        if (!file.reached || file.httpStatus != 200) {
          throw Failure(
              "instance " + sop + " could not be fetched from site " + job.siteId +
              (file.reached ? " (HTTP " + std::to_string(file.httpStatus) + ")" : ": " + file.error));
        }
        std::string stored;
        if (!orthanc_.Post("/instances", file.body, stored)) {
          throw Failure("Orthanc did not store instance " + sop);
        }
        done++;
      }
      Progress(job.id, "running", total, done, skipped, "");
    }
    {
      Transaction transaction(database_, TransactionMode::kWrite);
      Statement origin(
          transaction,
          "INSERT INTO study_origins (study_uid, site_id, job_id, retrieved_at) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (study_uid) DO UPDATE SET site_id = excluded.site_id, job_id = excluded.job_id, "
          "retrieved_at = excluded.retrieved_at");
      origin.Bind(1, job.studyUid).Bind(2, job.siteId).Bind(3, job.id).Bind(4, Time::NowSeconds()).Run();
      transaction.Commit();
    }
    Progress(job.id, "succeeded", total, done, skipped, "");
    Log::Info("retrieve " + job.id + " succeeded: " + std::to_string(done) + " instances stored, " +
              std::to_string(skipped) + " already here");
  } catch (const std::exception& e) {
    Log::Warning("retrieve " + job.id + " failed: " + e.what());
    try {
      Progress(job.id, "failed", total, done, skipped, e.what());
    } catch (const std::exception& again) {
      Log::Error(std::string("retrieve jobs: cannot record a failure: ") + again.what());
    }
  }
}

}  // namespace HospitalBridge
