#pragma once
// The router as a module: its queue, its rules as a study-event consumer
// ("router", stage act), its sending thread (lease "router"), its routes and
// its backlog in /bridge/system ("router"). The composition root calls
// OnReportSigned when a report is signed and OnOrderArrived when an order
// arrives.
#include <functional>
#include <memory>
#include <string>

#include "Common/Module.h"
#include "Index/StudyEventPipeline.h"
#include "Index/StudyIndexStore.h"
#include "Router/DeliveryQueue.h"
#include "Router/HttpClient.h"
#include "Router/RouterService.h"
#include "Router/RouterSettings.h"

namespace HospitalBridge {

struct RouterModuleNeeds {
  StudyIndexStore& studies;
  StudyEventPipeline* pipeline;  // null when the index is off
  // The one consent decision for the patient of a study.
  std::function<PatientConsent(const StudyRecord&)> consentOf;
  // The HTTP client (tests); null: libcurl.
  std::shared_ptr<IHttpClient> http;
};

class RouterModule : public IModule {
 public:
  RouterModule(const ModuleContext& context, const RouterSettings& settings, RouterModuleNeeds needs);
  ~RouterModule() override;

  std::string Name() const override { return "router"; }
  void Start() override;
  void Stop() override;
  void Describe(Json::Value& section) override;

  bool Enabled() const { return service_ != nullptr; }
  // A report was signed: queued for the report rules (false when the study
  // is not indexed or the router is off).
  bool OnReportSigned(const RoutedReport& report);
  // An order arrived: deliveries waiting for it go at once.
  void OnOrderArrived(const std::string& accession);
  void SetOrderLookup(std::function<bool(const std::string& accession)> lookup);
  // Matches the study against the rules again (staff); deliveries queued.
  int RouteStudy(const std::string& studyUid);

  RouterService* Service() { return service_.get(); }
  // One round of the sending loop on the caller's thread (tests).
  void RunOnce();

 private:
  const RouterSettings& settings_;
  StudyIndexStore& studies_;
  std::function<PatientConsent(const StudyRecord&)> consentOf_;
  std::shared_ptr<IHttpClient> http_;
  std::unique_ptr<DeliveryQueue> queue_;
  std::unique_ptr<RouterService> service_;
  std::unique_ptr<BackgroundWorker> worker_;
};

}  // namespace HospitalBridge
