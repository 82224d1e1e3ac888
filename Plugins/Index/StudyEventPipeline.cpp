#include "Index/StudyEventPipeline.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "Common/Log.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const int kBatch = 200;
const std::chrono::milliseconds kIdleWait(60000);
}  // namespace

StudyEventPipeline::StudyEventPipeline(StudyEventLog& log, StudyIndexStore& studies, int delayMs)
    : log_(log), studies_(studies), delayMs_(delayMs) {
  worker_ = std::make_unique<BackgroundWorker>(
      "study events", [this] { return Tick(); }, std::chrono::milliseconds(1000),
      std::chrono::milliseconds(30000));
}

StudyEventPipeline::~StudyEventPipeline() { Stop(); }

void StudyEventPipeline::SetResolvers(StudyEventContext::PatientResolver patients,
                                      StudyEventContext::ConsentResolver consent) {
  patients_ = std::move(patients);
  consent_ = std::move(consent);
}

void StudyEventPipeline::Add(IStudyEventConsumer& consumer, StudyEventStage stage) {
  // After every consumer of the same or an earlier stage.
  size_t at = 0;
  while (at < stages_.size() && stages_[at] <= stage) at++;
  consumers_.insert(consumers_.begin() + static_cast<std::ptrdiff_t>(at), &consumer);
  stages_.insert(stages_.begin() + static_cast<std::ptrdiff_t>(at), stage);
}

void StudyEventPipeline::Start() { worker_->Start(); }

void StudyEventPipeline::Stop() {
  if (worker_) worker_->Stop();
}

void StudyEventPipeline::Wake() { worker_->Wake(); }

void StudyEventPipeline::RunUntilIdle() {
  // A round stops early only to wait for `delayMs`, which tests leave at 0.
  for (int round = 0; round < 1000; round++) {
    if (Tick() == kIdleWait) return;
  }
}

std::chrono::milliseconds StudyEventPipeline::Tick() {
  std::lock_guard<std::mutex> round(roundMutex_);
  if (consumers_.empty()) return kIdleWait;
  std::map<std::string, int64_t> cursors;
  {
    std::lock_guard<std::mutex> state(stateMutex_);
    cursors = cursors_;
  }
  int64_t from = std::numeric_limits<int64_t>::max();
  for (IStudyEventConsumer* consumer : consumers_) {
    auto found = cursors.find(consumer->Name());
    if (found == cursors.end()) {
      found = cursors.emplace(consumer->Name(), log_.Cursor(consumer->Name())).first;
      std::lock_guard<std::mutex> state(stateMutex_);
      cursors_[consumer->Name()] = found->second;
    }
    from = std::min(from, found->second);
  }
  auto publish = [&](const std::string& name, int64_t cursor, const std::string& error) {
    std::lock_guard<std::mutex> state(stateMutex_);
    cursors_[name] = cursor;
    if (error.empty()) {
      errors_.erase(name);
    } else {
      errors_[name] = error;
    }
  };
  const std::vector<StudyEvent> events = log_.After(from, kBatch);
  if (events.empty()) return kIdleWait;

  std::map<std::string, bool> failed;
  std::string firstFailure;
  for (const StudyEvent& event : events) {
    if (delayMs_ > 0) {
      const int64_t ageMs = Time::NowSeconds() * 1000 - event.at * 1000;
      if (ageMs < delayMs_) return std::chrono::milliseconds(delayMs_ - ageMs);
    }
    std::optional<StudyRecord> study;
    if (event.kind != "deleted") study = studies_.FindByOrthancId(event.orthancId);
    StudyEventContext context(event, study, patients_, consent_);
    for (IStudyEventConsumer* consumer : consumers_) {
      int64_t& cursor = cursors[consumer->Name()];
      if (cursor >= event.seq || failed[consumer->Name()]) continue;
      try {
        consumer->Consume(context);
        log_.SetCursor(consumer->Name(), event.seq, Time::NowSeconds());
        cursor = event.seq;
        publish(consumer->Name(), cursor, "");
      } catch (const std::exception& e) {
        // This consumer gets this event again next round; the others go on.
        failed[consumer->Name()] = true;
        publish(consumer->Name(), cursor, e.what());
        if (firstFailure.empty()) {
          firstFailure = std::string(consumer->Name()) + " on study " + event.studyUid + ": " + e.what();
        }
      }
    }
  }
  if (!firstFailure.empty()) throw std::runtime_error(firstFailure);
  return events.size() == static_cast<size_t>(kBatch) ? std::chrono::milliseconds(0) : kIdleWait;
}

Json::Value StudyEventPipeline::Status() {
  Json::Value status(Json::objectValue);
  const int64_t last = log_.LastSeq();
  status["last_event"] = static_cast<Json::Int64>(last);
  status["consumers"] = Json::Value(Json::arrayValue);
  std::lock_guard<std::mutex> lock(stateMutex_);
  for (IStudyEventConsumer* consumer : consumers_) {
    Json::Value item(Json::objectValue);
    auto cursor = cursors_.find(consumer->Name());
    const int64_t at = cursor == cursors_.end() ? 0 : cursor->second;
    item["name"] = consumer->Name();
    item["cursor"] = static_cast<Json::Int64>(at);
    item["backlog"] = static_cast<Json::Int64>(std::max<int64_t>(0, last - at));
    auto error = errors_.find(consumer->Name());
    item["last_error"] = error == errors_.end() ? "" : error->second;
    status["consumers"].append(item);
  }
  return status;
}

}  // namespace HospitalBridge
