#pragma once
// Hands the study events (Index/StudyEventLog) to their consumers, in order,
// on a thread of its own: after each change the index writes, and again
// after a restart for whatever a crash interrupted. Each consumer moves its
// own cursor; one that fails (Orthanc unavailable) is given the same event
// again after a back-off, without holding the others back.
#include <json/json.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "Common/BackgroundWorker.h"
#include "Common/StudyEvents.h"
#include "Index/StudyEventLog.h"
#include "Index/StudyIndexStore.h"

namespace HospitalBridge {

class StudyEventPipeline {
 public:
  // `delayMs`: an event is handled once it is at least this old (0: at once),
  // so that a burst is handled in one go.
  StudyEventPipeline(StudyEventLog& log, StudyIndexStore& studies, int delayMs);
  ~StudyEventPipeline();

  // How the context finds a study's registry patient and its consent
  // decision (modules above the index provide them). Set before Start().
  void SetResolvers(StudyEventContext::PatientResolver patients, StudyEventContext::ConsentResolver consent);
  // Consumers run by stage, then in the order they were added. Before Start().
  void Add(IStudyEventConsumer& consumer, StudyEventStage stage = StudyEventStage::kAct);

  void Start();
  void Stop();
  // A new event was written.
  void Wake();
  // Handles every pending event on the caller's thread (tests); throws the
  // first consumer failure after the others were served.
  void RunUntilIdle();

  // For /bridge/system: each consumer's cursor and backlog, the last error.
  Json::Value Status();

 private:
  std::chrono::milliseconds Tick();

  StudyEventLog& log_;
  StudyIndexStore& studies_;
  const int64_t delayMs_;
  StudyEventContext::PatientResolver patients_;
  StudyEventContext::ConsentResolver consent_;
  std::vector<IStudyEventConsumer*> consumers_;
  std::vector<StudyEventStage> stages_;  // of consumers_, in the same order
  std::mutex roundMutex_;                // one round at a time (the thread, or a test)
  std::mutex stateMutex_;                // what Status reads while a round runs
  std::map<std::string, int64_t> cursors_;
  std::map<std::string, std::string> errors_;
  std::unique_ptr<BackgroundWorker> worker_;
};

}  // namespace HospitalBridge
