#pragma once
// After sign-off, the signed version's carriers go to Orthanc on a worker:
// the PDF as DICOM Encapsulated PDF in the study (one report series, a new
// instance per version) and, if configured, a Basic Text SR with the
// verification attributes; then the order becomes "reported" and the
// listeners (the router) learn of it with the FHIR DiagnosticReport. A
// version is delivered once: its DICOM UIDs are derived from the report, so
// a retry after a crash stores the same instance again, not a second one.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "Common/BackgroundWorker.h"
#include "Common/Leases.h"
#include "Reports/ReportService.h"

namespace HospitalBridge {

class ReportDelivery {
 public:
  using Listener = std::function<void(const SignedReport&)>;

  ReportDelivery(ReportService& service, IOrthancRest& orthanc, IReportOrders* orders,
                 const SiteSettings& site, const ReportsSettings& settings, ChangeFeed& feed,
                 IAuditSink& audit, ILeases& leases);

  void Start() { worker_.Start(); }
  void Stop();
  void Wake() { worker_.Wake(); }
  // Delivers what waits, on the caller's thread (tests, and each tick).
  std::chrono::milliseconds RunOnce();
  // Waits until the version is delivered (or failed once); true when delivered.
  bool WaitDelivered(int64_t versionId, std::chrono::milliseconds timeout);
  // Called, on the worker's thread, for each version delivered. Before Start().
  void AddListener(Listener listener) { listeners_.push_back(std::move(listener)); }
  std::string LastError() const { return worker_.LastError(); }

  // "2.25.<decimal>" from the SHA-256 of `seed`: the same UID for the same seed.
  static std::string DerivedUid(const std::string& seed);

 private:
  void Deliver(const ReportVersion& version);
  std::string StorePdf(const Report& report, const ReportVersion& version, const std::string& pdf);
  std::string StoreSr(const Report& report, const ReportVersion& version,
                      const ReportTemplate& reportTemplate);
  void Settled(int64_t versionId);

  ReportService& service_;
  IOrthancRest& orthanc_;
  IReportOrders* orders_;
  const SiteSettings& site_;
  const ReportsSettings& settings_;
  ChangeFeed& feed_;
  IAuditSink& audit_;
  std::vector<Listener> listeners_;
  std::mutex mutex_;
  std::condition_variable settled_;
  std::set<int64_t> settledVersions_;
  BackgroundWorker worker_;
};

}  // namespace HospitalBridge
