#pragma once
// The orders module: the store, the rules, the REST and FHIR intake, the
// modality worklist Orthanc's DICOM callback asks, arrival matching (a
// study-event consumer the composition root adds to the pipeline) and the
// reconciliation worker.
#include <atomic>
#include <memory>

#include "Audit/AuditStore.h"
#include "Common/Module.h"
#include "Index/StudyEventPipeline.h"
#include "Orders/ArrivalMatcher.h"
#include "Orders/OrderService.h"
#include "Orders/OrderStore.h"
#include "Orders/OrdersSettings.h"
#include "Orders/Reconciler.h"
#include "Orders/WorklistService.h"
#include "Registry/PatientStore.h"

namespace HospitalBridge {

class OrdersModule : public IModule {
 public:
  // `patients`: null when the registry is off. With `audited`, every order
  // change appends its audit event in the change's own transaction.
  // `pipeline`: where arrival matching joins (null when the index is off).
  OrdersModule(const ModuleContext& context, const OrdersSettings& settings, PatientStore* patients,
               bool audited, StudyEventPipeline* pipeline);
  ~OrdersModule() override;

  std::string Name() const override { return "orders"; }
  void Start() override;
  void Stop() override;
  void Describe(Json::Value& section) override;

  OrderService& Service() { return *service_; }
  WorklistService& Worklist() { return *worklist_; }
  Reconciler& Reconciliation() { return *reconciler_; }
  IStudyEventConsumer& ArrivalConsumer() { return *arrival_; }
  bool WorklistEnabled() const { return settings_.worklist.enabled; }
  // Whether Orthanc took the worklist callback (another plugin may hold it).
  void SetWorklistRegistered(bool registered) { worklistRegistered_ = registered; }
  // Adds "order" ({id, accession_number, status}) to each study of
  // GET /bridge/studies that fulfils one.
  void AnnotateStudies(Json::Value& studies);

 private:
  std::chrono::milliseconds RefreshCallers();

  const OrdersSettings settings_;
  IOrthancRest& orthanc_;
  OrderStore store_;
  AuditStore auditStore_;
  std::unique_ptr<OrderService> service_;
  std::unique_ptr<WorklistService> worklist_;
  std::unique_ptr<ArrivalMatcher> arrival_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<BackgroundWorker> callersWorker_;
  std::atomic<bool> worklistRegistered_{false};
};

}  // namespace HospitalBridge
