#pragma once
// Keeps the study index in step with Orthanc, on a thread of its own.
// Orthanc's change callback only calls StudyChanged/StudyDeleted, which
// record the study ID and return: a study that receives 1000 instances is
// re-read a few times (after RefreshDelayMs of quiet, or every 10 delays while
// instances keep coming), not 1000 times, and Orthanc's threads never wait.
// Every node indexes the studies it receives; the reconcile with Orthanc's
// whole list is done by one node (lease "reconcile").
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "Common/BackgroundWorker.h"
#include "Common/Leases.h"

#include "Index/StudyIndexStore.h"
#include "Index/StudyReader.h"

namespace HospitalBridge {

class IndexWorker {
 public:
  // `leases` may be null (tests).
  IndexWorker(StudyIndexStore& store, StudyReader& reader, int refreshDelayMs, ILeases* leases);
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
  std::chrono::milliseconds Tick();
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
  ILeases* leases_;

  mutable std::mutex mutex_;
  std::map<std::string, Pending> changed_;
  std::set<std::string> deleted_;
  bool reconcileRequested_ = false;
  std::string state_ = "stopped";
  size_t inProgress_ = 0;
  std::function<void()> onChange_;
  std::set<std::string> stable_;  // guarded by mutex_
  BackgroundWorker worker_;
};

}  // namespace HospitalBridge
