#pragma once
// Reading and reporting as a module: the reading queue (fed by the
// "reading-queue" study-event consumer), templates, the editor's routes,
// sign-off with the PDF rendered on its own thread, the carriers delivered
// to Orthanc by a worker, the FHIR DiagnosticReport, live queue updates by
// long polling, and the report on the patient's portal.
//
// The router (a floor above) learns of each signed report through
// OnSigned(), wired in Bridge.cpp.
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "Audit/AuditStore.h"
#include "Common/Module.h"
#include "Index/StudyEventPipeline.h"
#include "Index/StudyIndexStore.h"
#include "Orders/OrderService.h"
#include "Registry/SiteStore.h"
#include "Reports/ChangeFeed.h"
#include "Reports/OrdersForReports.h"
#include "Reports/ReadingQueueFeeder.h"
#include "Reports/ReportDelivery.h"
#include "Reports/ReportOrders.h"
#include "Reports/ReportPdf.h"
#include "Reports/ReportService.h"
#include "Reports/ReportStore.h"
#include "Reports/ReportsPortal.h"
#include "Reports/ReportsSettings.h"
#include "Security/Authenticator.h"
#include "Security/UserStore.h"

namespace HospitalBridge {

struct ReportsModuleNeeds {
  StudyIndexStore& studies;
  StudyEventPipeline* pipeline;  // null when the index is off
  Authenticator& authenticator;  // the password check of sign-off
  UserStore& users;              // who is a radiologist (assignment)
  AuditStore* auditStore;        // signatures in the audit chain's transaction; null when the audit is off
  SiteStore& sites;              // the hospital's name and address on the PDF
  OrderService* orders;          // null without the orders module
  // A study's registry patient and national ID ("" when unknown).
  std::function<std::pair<std::string, std::string>(const StudyRecord&)> registryPatient;
};

class ReportsModule : public IModule {
 public:
  ReportsModule(const ModuleContext& context, const ReportsSettings& settings, ReportsModuleNeeds needs);
  ~ReportsModule() override;

  std::string Name() const override { return "reports"; }
  void Start() override;
  void Stop() override;
  void Describe(Json::Value& section) override;

  bool Enabled() const { return service_ != nullptr; }
  // What the patient's portal shows; null when the module is off.
  IPortalReports* Portal() { return portal_.get(); }
  // Called on the delivery worker once a signed version is in Orthanc (the
  // router's hook). Before Start().
  void OnSigned(ReportDelivery::Listener listener);

 private:
  const ReportsSettings settings_;
  ReportStore store_;
  ChangeFeed feed_;
  std::unique_ptr<OrdersForReports> orders_;
  std::unique_ptr<PdfRenderer> renderer_;
  std::unique_ptr<ReportService> service_;
  std::unique_ptr<ReportDelivery> delivery_;
  std::unique_ptr<ReadingQueueFeeder> feeder_;
  std::unique_ptr<ReportsPortal> portal_;
};

}  // namespace HospitalBridge
