#pragma once
// Keeps the study index in step with Orthanc, on a thread of its own.
// Orthanc's change callback only calls StudyChanged/StudyDeleted, which
// record the study ID and return: a study that receives 1000 instances is
// re-read a few times (after RefreshDelayMs of quiet, or every 10 delays while
// instances keep coming), not 1000 times, and Orthanc's threads never wait.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "Index/StudyIndexStore.h"
#include "Index/StudyReader.h"

namespace HospitalBridge {

class IndexWorker {
 public:
  IndexWorker(StudyIndexStore& store, StudyReader& reader, int refreshDelayMs);
  ~IndexWorker();

  // Starts the thread; with `reconcile`, it first compares the index with
  // Orthanc so studies stored while the plugin was absent appear.
  void Start(bool reconcile);
  void Stop();

  // Safe to call from any thread; they never block on Orthanc or the database.
  void StudyChanged(const std::string& orthancId);
  // Orthanc's StableStudy: no instance for StableAge seconds. The next
  // refresh reports the study as complete to onIndexed.
  void StudyStable(const std::string& orthancId);
  void StudyDeleted(const std::string& orthancId);
  void RequestReconcile();
  // Called on the worker's thread after it wrote a change and its study
  // event (Index/StudyEventLog), to wake the event pipeline. Set before
  // Start().
  void SetOnChange(std::function<void()> callback) { onChange_ = std::move(callback); }

  size_t QueueDepth() const;
  std::string State() const;  // "idle", "indexing", "reconciling", "stopped"

  // For tests: runs pending work on the caller's thread, ignoring delays.
  void DrainForTests();

 private:
  struct Pending {
    int64_t firstMs;
    int64_t lastMs;
  };
  void Run();
  void Reconcile();
  void Refresh(const std::string& orthancId, bool stable);
  bool TakeStable(const std::string& orthancId);
  // Takes what is due; sets `waitMs` to when the next item will be.
  void TakeDue(int64_t nowMs, bool ignoreDelay, std::set<std::string>& refresh, std::set<std::string>& remove,
               bool& reconcile, int64_t& waitMs);

  StudyIndexStore& store_;
  StudyReader& reader_;
  const int64_t delayMs_;
  const int64_t maxWaitMs_;

  mutable std::mutex mutex_;
  std::condition_variable wakeUp_;
  std::map<std::string, Pending> changed_;
  std::set<std::string> deleted_;
  bool reconcileRequested_ = false;
  bool stopping_ = false;
  std::string state_ = "stopped";
  size_t inProgress_ = 0;
  std::thread thread_;
  std::function<void()> onChange_;
  std::set<std::string> stable_;  // guarded by mutex_
};

}  // namespace HospitalBridge
