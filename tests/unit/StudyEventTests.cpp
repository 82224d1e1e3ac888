// The durable path after a study is indexed: events written with the index
// row, consumers with their own cursors, failures isolated, a restart that
// resumes where each consumer was.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "Common/BackgroundWorker.h"
#include "Index/StudyEventLog.h"
#include "Index/StudyEventPipeline.h"
#include "Index/StudyIndexStore.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
class Recorder : public IStudyEventConsumer {
 public:
  explicit Recorder(const char* name) : name_(name) {}
  const char* Name() const override { return name_; }
  void Consume(StudyEventContext& context) override {
    if (failOn == context.Event().seq) throw std::runtime_error("Orthanc is stopping");
    seen.push_back(context.Event().kind + ":" + context.Event().studyUid +
                   (context.Study() ? "" : " (gone)"));
    patients.push_back(context.RegistryPatientId());
  }
  int64_t failOn = -1;
  std::vector<std::string> seen;
  std::vector<std::string> patients;

 private:
  const char* name_;
};

StudyRecord Study(const std::string& id, const std::string& uid, bool stable) {
  StudyRecord study;
  study.orthancId = id;
  study.studyUid = uid;
  study.patientId = "P1";
  study.stable = stable;
  return study;
}
}  // namespace

TEST(StudyEvents, TheIndexRowAndItsEventAreWrittenTogether) {
  auto database = MigratedMemoryDatabase();
  StudyIndexStore studies(*database);
  StudyEventLog log(*database);
  studies.Record(Study("o1", "1.1", false));
  studies.Record(Study("o1", "1.1", true));
  studies.Forget("o1");
  studies.Forget("o1");  // already gone: no second event
  std::vector<StudyEvent> events = log.After(0, 10);
  ASSERT_EQ(3u, events.size());
  EXPECT_EQ("indexed", events[0].kind);
  EXPECT_EQ("stable", events[1].kind);
  EXPECT_EQ("deleted", events[2].kind);
  EXPECT_EQ("1.1", events[2].studyUid);
  EXPECT_FALSE(studies.FindByOrthancId("o1").has_value());
}

TEST(StudyEvents, EachConsumerKeepsItsCursorAndAFailureHoldsOnlyItself) {
  auto database = MigratedMemoryDatabase();
  StudyIndexStore studies(*database);
  StudyEventLog log(*database);
  Recorder linker("linker");
  Recorder sharer("sharer");
  int lookups = 0;
  {
    StudyEventPipeline pipeline(log, studies, 0);
    pipeline.SetResolvers(
        [&](const StudyRecord&) {
          lookups++;
          return std::string("PAT-1");
        },
        nullptr);
    pipeline.Add(linker);
    pipeline.Add(sharer);
    pipeline.RunUntilIdle();  // registers both cursors at the (empty) end
    studies.Record(Study("o1", "1.1", false));
    studies.Record(Study("o2", "1.2", true));
    sharer.failOn = 1;
    EXPECT_THROW(pipeline.RunUntilIdle(), std::runtime_error);
    EXPECT_EQ((std::vector<std::string>{"indexed:1.1", "stable:1.2"}), linker.seen);
    EXPECT_TRUE(sharer.seen.empty()) << "the failed consumer waits at its event";
    EXPECT_EQ(2, lookups) << "the patient is looked up once per event, for both consumers";
    EXPECT_EQ((std::vector<std::string>{"PAT-1", "PAT-1"}), linker.patients);
  }
  // Orthanc restarted: a new pipeline goes on from the stored cursors.
  StudyEventPipeline restarted(log, studies, 0);
  restarted.Add(linker);
  restarted.Add(sharer);
  sharer.failOn = -1;
  restarted.RunUntilIdle();
  EXPECT_EQ(2u, linker.seen.size()) << "nothing handled twice";
  EXPECT_EQ((std::vector<std::string>{"indexed:1.1", "stable:1.2"}), sharer.seen);

  // A consumer added later starts after what exists already.
  Recorder router("router");
  StudyEventPipeline grown(log, studies, 0);
  grown.Add(router);
  grown.RunUntilIdle();
  studies.Forget("o2");
  grown.RunUntilIdle();
  EXPECT_EQ((std::vector<std::string>{"deleted:1.2 (gone)"}), router.seen);
}

TEST(StudyEvents, TheConsentDecisionIsMadeOncePerEvent) {
  int decisions = 0;
  StudyEventContext context(
      StudyEvent{7, "o1", "1.1", "stable", 0}, Study("o1", "1.1", true),
      [](const StudyRecord&) { return std::string("PAT-9"); },
      [&](const std::string& patient) {
        decisions++;
        PatientConsent consent;
        consent.sharePermitted = patient == "PAT-9";
        return consent;
      });
  EXPECT_TRUE(context.Consent().sharePermitted);
  EXPECT_TRUE(context.Consent().sharePermitted);
  EXPECT_EQ(1, decisions);
}

TEST(BackgroundWorker, TicksWaitWakeAndBackOffAfterFailures) {
  std::atomic<int> ticks{0};
  std::atomic<bool> fail{false};
  BackgroundWorker worker("test worker", [&] {
    ticks++;
    if (fail) throw std::runtime_error("database busy");
    return std::chrono::milliseconds(60000);
  });
  worker.Start();
  for (int i = 0; i < 100 && ticks < 1; i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(1, ticks.load()) << "then it waits a minute";
  fail = true;
  worker.Wake();
  for (int i = 0; i < 100 && worker.LastError().empty(); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ("database busy", worker.LastError());
  fail = false;
  worker.Wake();
  for (int i = 0; i < 200 && !worker.LastError().empty(); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ("", worker.LastError()) << "a tick that succeeds clears the error";
  worker.Stop();
  EXPECT_FALSE(worker.Running());
}
