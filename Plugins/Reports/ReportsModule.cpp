#include "Reports/ReportsModule.h"

#include "Reports/ReportRoutes.h"
#include "Share/PortalRoutes.h"

namespace HospitalBridge {

ReportsModule::ReportsModule(const ModuleContext& context, const ReportsSettings& settings,
                             ReportsModuleNeeds needs)
    : settings_(settings),
      store_(context.database),
      feed_(settings_.EffectiveMaxWaiting(), [this] { return store_.LatestSeq(); }) {
  if (!settings_.enabled) return;
  renderer_ = std::make_unique<PdfRenderer>();
  if (needs.orders != nullptr) orders_ = std::make_unique<OrdersForReports>(*needs.orders);
  Authenticator* authenticator = &needs.authenticator;
  UserStore* users = &needs.users;
  SiteStore* sites = &needs.sites;
  const SiteSettings* site = &context.site;
  ReportService::Needs serviceNeeds{
      store_,
      needs.studies,
      context.orthanc,
      *renderer_,
      context.audit,
      needs.auditStore,
      orders_.get(),
      feed_,
      [authenticator](const std::string& username, const std::string& password, const std::string& address,
                      int64_t& retryAfter) {
        AuthResult result = authenticator->CheckPassword(username, password, address, "sign-off");
        retryAfter = result.retryAfterSeconds;
        return result.outcome == AuthResult::Outcome::kAuthenticated && result.identity.username == username;
      },
      [users](const std::string& username) {
        std::optional<User> user = users->FindByName(username);
        return user && !user->disabled && user->role == Role::kRadiologist;
      },
      [site, sites] {
        TemplateValues values = HospitalTemplateValues(*site, *sites);
        return HospitalInfo{values["hospital_name"], values["hospital_address"], values["hospital_phone"],
                            values["hospital_email"]};
      }};
  service_ = std::make_unique<ReportService>(std::move(serviceNeeds), context.site, settings_, context.clock);
  delivery_ = std::make_unique<ReportDelivery>(*service_, context.orthanc, orders_.get(), context.site,
                                               settings_, feed_, context.audit, context.leases);
  portal_ = std::make_unique<ReportsPortal>(*service_);
  const auto radiologists = [users] {
    std::vector<std::string> names;
    for (const User& user : users->List()) {
      if (!user.disabled && user.role == Role::kRadiologist) names.push_back(user.username);
    }
    return names;
  };
  RegisterReportRoutes(context.router, ReportRoutesContext{*service_, *delivery_, feed_, needs.studies,
                                                           needs.registryPatient, radiologists});
  if (needs.pipeline != nullptr) {
    feeder_ = std::make_unique<ReadingQueueFeeder>(*service_);
    needs.pipeline->Add(*feeder_, StudyEventStage::kAct);
  }
}

ReportsModule::~ReportsModule() { ReportsModule::Stop(); }

void ReportsModule::Start() {
  if (!service_) return;
  renderer_->WarmUp();
  delivery_->Start();
}

void ReportsModule::Stop() {
  feed_.Stop();
  if (delivery_) delivery_->Stop();
}

void ReportsModule::OnSigned(ReportDelivery::Listener listener) {
  if (delivery_) delivery_->AddListener(std::move(listener));
}

void ReportsModule::Describe(Json::Value& section) {
  section["enabled"] = service_ != nullptr;
  if (!service_) return;
  section["open"] = static_cast<Json::Int64>(store_.CountOpen());
  section["last_change"] = static_cast<Json::Int64>(store_.LatestSeq());
  section["queue"]["from_orders"] = settings_.queueOrderedStudies;
  section["queue"]["modalities"] = Json::Value(Json::arrayValue);
  for (const std::string& modality : settings_.queueModalities)
    section["queue"]["modalities"].append(modality);
  section["turnaround_minutes"]["stat"] = settings_.statMinutes;
  section["turnaround_minutes"]["urgent"] = settings_.urgentMinutes;
  section["turnaround_minutes"]["routine"] = settings_.routineMinutes;
  section["lead_radiologists"] = Json::Value(Json::arrayValue);
  for (const std::string& name : settings_.leadRadiologists) section["lead_radiologists"].append(name);
  section["release_to_patients_after_hours"] = settings_.releaseToPatientsAfterHours;
  section["basic_text_sr"] = settings_.basicTextSr;
  section["live_updates"]["max_waiting"] = feed_.MaxWaiting();
  section["live_updates"]["waiting"] = feed_.Waiting();
  section["live_updates"]["refused"] = static_cast<Json::Int64>(feed_.Refused());
  section["live_updates"]["wait_seconds"] = settings_.waitSeconds;
  section["delivery_error"] = delivery_->LastError();
}

}  // namespace HospitalBridge
