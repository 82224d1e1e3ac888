#pragma once
// IAuditSink that never blocks its caller: events go to a queue, and a thread
// of the plugin's own resolves Orthanc resources to a study and a patient,
// appends them to the chained store in batches, and prunes by retention.
// Every node records its own events (the store's write transaction keeps the
// chain in order); pruning is done by one node (lease "audit-prune").
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

#include "Audit/AuditSettings.h"
#include "Audit/AuditStore.h"
#include "Common/AuditSink.h"
#include "Common/BackgroundWorker.h"
#include "Common/Leases.h"
#include "Common/OrthancRest.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"

namespace HospitalBridge {

class AuditRecorder : public IAuditSink {
 public:
  AuditRecorder(AuditStore& store, StudyIndexStore& studies, PatientStore* patients, IOrthancRest& orthanc,
                const SiteSettings& site, const AuditSettings& settings, ILeases* leases);
  ~AuditRecorder() override;

  void Record(AuditEvent event) override;
  void Start();
  void Stop();  // writes what is queued, then stops
  // Writes everything queued on the caller's thread (tests, shutdown).
  void Flush();
  size_t QueueDepth() const;

  // Fills studyUid/patientId from what the event knows. Public for tests.
  void Resolve(AuditEvent& event);

 private:
  std::chrono::milliseconds Tick();
  void WriteBatch(std::deque<AuditEvent>& batch);
  void PruneIfDue();

  AuditStore& store_;
  StudyIndexStore& studies_;
  PatientStore* patients_;
  IOrthancRest& orthanc_;
  const std::string localSiteId_;
  const int retentionDays_;
  ILeases* leases_;
  mutable std::mutex mutex_;
  std::condition_variable batchWritten_;  // the worker finished the batch it had taken
  std::deque<AuditEvent> queue_;
  bool writing_ = false;
  int64_t lastPruneMs_ = 0;
  std::mutex writeMutex_;  // one writer at a time keeps the chain in order
  BackgroundWorker worker_;
};

}  // namespace HospitalBridge
