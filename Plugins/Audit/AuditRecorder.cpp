#include "Audit/AuditRecorder.h"

#include <chrono>

#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const size_t kBatch = 500;
const int64_t kPruneEveryMs = 3600 * 1000;

}  // namespace

AuditRecorder::AuditRecorder(AuditStore& store, StudyIndexStore& studies, PatientStore* patients,
                             IOrthancRest& orthanc, const SiteSettings& site, const AuditSettings& settings,
                             ILeases* leases)
    : store_(store),
      studies_(studies),
      patients_(patients),
      orthanc_(orthanc),
      localSiteId_(site.siteId),
      retentionDays_(settings.retentionDays),
      leases_(leases),
      // A database that refuses writes is retried within 10 s at most: the
      // events wait in memory meanwhile.
      worker_(
          "audit", [this] { return Tick(); }, std::chrono::milliseconds(1000),
          std::chrono::milliseconds(10000)) {}

AuditRecorder::~AuditRecorder() { Stop(); }

void AuditRecorder::Record(AuditEvent event) {
  if (event.timeMs == 0) event.timeMs = Time::WallClockMilliseconds();
  // What a client typed (a user name at login) is stored as well-formed
  // UTF-8, so that every export of the trail stays valid JSON and XML.
  for (std::string* text :
       {&event.actorName, &event.actorRole, &event.sourceIp, &event.studyUid, &event.dicomPatientId}) {
    *text = Text::ToValidUtf8(*text);
  }
  JsonText::MakeValidUtf8(event.detail);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(event));
  }
  worker_.Wake();
}

void AuditRecorder::Start() { worker_.Start(); }

void AuditRecorder::Stop() {
  worker_.Stop();
  Flush();
}

size_t AuditRecorder::QueueDepth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size() + (writing_ ? 1 : 0);
}

void AuditRecorder::Resolve(AuditEvent& event) {
  try {
    if (event.studyUid.empty() && !event.orthancResource.empty()) {
      // "/studies/<id>", "/series/<id>", "/instances/<id>", "/patients/<id>"
      const std::string& path = event.orthancResource;
      size_t second = path.find('/', 1);
      const std::string level = path.substr(1, second == std::string::npos ? std::string::npos : second - 1);
      const std::string id = second == std::string::npos ? "" : path.substr(second + 1);
      std::string studyId;
      if (level == "studies") {
        studyId = id;
      } else if (level == "series" || level == "instances") {
        Json::Value study;
        if (orthanc_.GetJson("/" + level + "/" + id + "/study", study))
          studyId = study.get("ID", "").asString();
      } else if (level == "patients" && event.dicomPatientId.empty()) {
        Json::Value patient;
        if (orthanc_.GetJson("/patients/" + id, patient)) {
          event.dicomPatientId = patient["MainDicomTags"].get("PatientID", "").asString();
        }
      }
      if (!studyId.empty()) {
        std::optional<StudyRecord> study = studies_.FindByOrthancId(studyId);
        if (study) {
          event.studyUid = study->studyUid;
          if (event.dicomPatientId.empty()) event.dicomPatientId = study->patientId;
        }
      }
    }
    if (event.dicomPatientId.empty() && !event.studyUid.empty()) {
      std::optional<StudyRecord> study = studies_.FindByUid(event.studyUid);
      if (study) event.dicomPatientId = study->patientId;
    }
    if (event.patientId.empty() && !event.dicomPatientId.empty() && patients_ != nullptr) {
      std::optional<Patient> patient = patients_->FindByIdentifier(localSiteId_, event.dicomPatientId);
      if (patient) event.patientId = patient->mergedInto.empty() ? patient->id : patient->mergedInto;
    }
  } catch (const std::exception& e) {
    // The resource may be gone (deleted): the event keeps its path in detail.
    event.detail["resolution"] = e.what();
  }
  if (!event.orthancResource.empty() && !event.detail.isMember("resource")) {
    event.detail["resource"] = event.orthancResource;
  }
}

void AuditRecorder::WriteBatch(std::deque<AuditEvent>& batch) {
  // The batch is emptied only once the events are written: on failure the
  // caller puts them back in the queue and nothing is lost.
  for (AuditEvent& event : batch) Resolve(event);
  std::vector<AuditEvent> events(batch.begin(), batch.end());
  std::lock_guard<std::mutex> write(writeMutex_);
  store_.Append(events);
  batch.clear();
}

void AuditRecorder::Flush() {
  while (true) {
    std::deque<AuditEvent> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (queue_.empty()) {
        // The worker may hold older events it is still writing: wait for
        // them too, so that what was recorded before Flush is readable after.
        batchWritten_.wait_for(lock, std::chrono::seconds(30), [this] { return !writing_; });
        return;
      }
      batch.swap(queue_);
    }
    try {
      WriteBatch(batch);
    } catch (const std::exception& e) {
      Log::Error(std::string("audit: events could not be written: ") + e.what());
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
      return;
    }
  }
}

void AuditRecorder::PruneIfDue() {
  if (retentionDays_ <= 0) return;
  int64_t now = Time::NowMilliseconds();
  if (lastPruneMs_ != 0 && now - lastPruneMs_ < kPruneEveryMs) return;
  lastPruneMs_ = now;
  if (leases_ != nullptr && !leases_->Acquire("audit-prune", DatabaseLeases::ThisNode(), kPruneEveryMs))
    return;
  int64_t removed =
      store_.PruneBefore(Time::WallClockMilliseconds() - static_cast<int64_t>(retentionDays_) * 86400 * 1000);
  if (removed > 0) {
    Log::Info("audit: pruned " + std::to_string(removed) + " events older than " +
              std::to_string(retentionDays_) + " days (checkpoint kept)");
  }
}

std::chrono::milliseconds AuditRecorder::Tick() {
  std::deque<AuditEvent> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!queue_.empty() && batch.size() < kBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    writing_ = !batch.empty();
  }
  try {
    if (!batch.empty()) WriteBatch(batch);
    PruneIfDue();
  } catch (const std::exception&) {
    // The database is busy or full: the events go back to the queue and
    // the worker tries again after its back-off.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
      writing_ = false;
    }
    batchWritten_.notify_all();
    throw;
  }
  bool more = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    writing_ = false;
    more = !queue_.empty();
  }
  batchWritten_.notify_all();
  // Idle, it still wakes each minute to prune by retention.
  return more ? std::chrono::milliseconds(0) : std::chrono::milliseconds(60000);
}

}  // namespace HospitalBridge
