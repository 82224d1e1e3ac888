#include "Router/RouterModule.h"

#include "Common/Log.h"
#include "Router/RouterRoutes.h"

namespace HospitalBridge {
namespace {
const char kResumedJobsWarning[] =
    "Orthanc saves its jobs (\"SaveJobs\" is not false): after a crash it resumes a store job the router "
    "had started (dicom and peer destinations) from its last saved step and sends again what that job sent "
    "since; set \"SaveJobs\": false so that only the router resumes, sending nothing twice";
}  // namespace

RouterModule::RouterModule(const ModuleContext& context, const RouterSettings& settings,
                           RouterModuleNeeds needs)
    : settings_(settings),
      studies_(needs.studies),
      consentOf_(std::move(needs.consentOf)),
      http_(needs.http) {
  if (!settings_.enabled) return;
  if (!http_) http_ = std::make_shared<CurlHttpClient>();
  queue_ = std::make_unique<DeliveryQueue>(context.database, context.clock);
  service_ = std::make_unique<RouterService>(settings_, *queue_, context.orthanc, *http_, context.audit,
                                             context.clock, &context.peers);
  worker_ = std::make_unique<BackgroundWorker>(
      "router", [this] { return service_->RunDue(); }, std::chrono::milliseconds(1000),
      std::chrono::milliseconds(30000));
  worker_->RequireLease(context.leases, "router");
  service_->SetWake([this] { worker_->Wake(); });
  service_->SetStopping([this] { return worker_->StopRequested(); });
  if (needs.pipeline != nullptr) needs.pipeline->Add(*service_, StudyEventStage::kAct);
  RegisterRouterRoutes(context.router,
                       RouterRoutesContext{*service_, context.audit, context.clock,
                                           [this](const std::string& uid) { return RouteStudy(uid); },
                                           [this] { worker_->Wake(); }});
}

RouterModule::~RouterModule() { RouterModule::Stop(); }

void RouterModule::Start() {
  if (!worker_) return;
  if (settings_.orthancResumesStoreJobs) Log::Warning(std::string("router: ") + kResumedJobsWarning);
  worker_->Start();
}

void RouterModule::Stop() {
  if (worker_) worker_->Stop();
}

void RouterModule::RunOnce() {
  if (service_) service_->RunDue();
}

void RouterModule::Describe(Json::Value& section) {
  section["enabled"] = Enabled();
  if (!Enabled()) return;
  section["destinations"] = service_->DestinationsJson();
  section["rules"] = static_cast<Json::UInt64>(settings_.rules.size());
  section["backlog"] = queue_->Backlog();
  section["sending"] = worker_->Running() && worker_->HoldsLease();
  section["last_error"] = worker_->LastError();
  section["warnings"] = Json::Value(Json::arrayValue);
  if (settings_.orthancResumesStoreJobs) section["warnings"].append(kResumedJobsWarning);
}

bool RouterModule::OnReportSigned(const RoutedReport& report) {
  if (!Enabled()) return false;
  std::optional<StudyRecord> study = studies_.FindByUid(report.studyUid);
  if (!study) return false;
  const PatientConsent consent = consentOf_ ? consentOf_(*study) : PatientConsent();
  service_->RouteReport(report, *study, consent);
  return true;
}

void RouterModule::OnOrderArrived(const std::string& accession) {
  if (Enabled()) service_->OnOrderArrived(accession);
}

void RouterModule::SetOrderLookup(std::function<bool(const std::string&)> lookup) {
  if (Enabled()) service_->SetOrderLookup(std::move(lookup));
}

int RouterModule::RouteStudy(const std::string& studyUid) {
  if (!Enabled()) return 0;
  std::optional<StudyRecord> study = studies_.FindByUid(studyUid);
  if (!study) throw DomainError::NotFound("No such study", studyUid);
  const PatientConsent consent = consentOf_ ? consentOf_(*study) : PatientConsent();
  const int queued = service_->Route(*study, consent);
  // Waiting ones are looked at again now (the accession may be fixed).
  for (const Delivery& d : queue_->ForStudy(studyUid)) {
    if (d.state == DeliveryState::kWaiting) queue_->Resend(d.id);
  }
  worker_->Wake();
  return queued;
}

}  // namespace HospitalBridge
