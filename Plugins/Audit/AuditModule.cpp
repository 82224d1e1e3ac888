#include "Audit/AuditModule.h"

#include "Audit/AuditRoutes.h"
#include "Common/Time.h"

namespace HospitalBridge {

AuditModule::AuditModule(const ModuleContext& context, const AuditSettings& settings,
                         AuditForwarder& forwarder, StudyIndexStore& studies, PatientStore* patients,
                         StudyEventPipeline* pipeline, AccessGate& gate)
    : settings_(settings), forwarder_(forwarder), gate_(gate), store_(context.database) {
  if (!settings_.enabled) return;
  recorder_ = std::make_unique<AuditRecorder>(store_, studies, patients, context.orthanc, context.site,
                                              settings_, &context.leases);
  forwarder_.SetTarget(recorder_.get());
  recorder_->Start();
  storedReporter_ = std::make_unique<StoredReporter>(context.database, store_);
  if (pipeline != nullptr) pipeline->Add(*storedReporter_, StudyEventStage::kRecord);
  coreAuditor_ = std::make_unique<CoreAccessAuditor>(forwarder_, studies);
  gate_.SetObserver([this](const HttpRequest& request, const Identity& identity, bool allowed) {
    coreAuditor_->Observe(request, identity, allowed);
  });
  const AuditSource source{context.site.siteId, context.site.siteName};
  if (settings_.syslogEnabled) {
    syslog_ = std::make_unique<SyslogForwarder>(context.database, store_, settings_, source, &context.leases);
    syslog_->Start();
  }
  RegisterAuditRoutes(context.router, AuditRoutesContext{store_, source, [this] { recorder_->Flush(); },
                                                         [patients](const std::string& id) {
                                                           if (patients == nullptr) return Json::Value();
                                                           std::optional<Patient> patient =
                                                               patients->Find(id);
                                                           return patient ? patient->ToJson() : Json::Value();
                                                         }});
}

AuditModule::~AuditModule() {
  gate_.SetObserver(nullptr);
  if (syslog_) syslog_->Stop();
  if (recorder_) recorder_->Stop();  // writes what is still queued
  forwarder_.SetTarget(nullptr);
}

void AuditModule::Describe(Json::Value& section) {
  section["enabled"] = recorder_ != nullptr;
  if (recorder_) {
    section["events"] = static_cast<Json::Int64>(store_.Count());
    section["last_event_time"] = Time::FormatIsoUtcMilliseconds(store_.LastTimeMs());
    section["queue_depth"] = static_cast<Json::UInt64>(recorder_->QueueDepth());
  }
  section["syslog"]["enabled"] = syslog_ != nullptr;
  if (syslog_) {
    SyslogForwarder::Status status = syslog_->GetStatus();
    section["syslog"]["backlog"] = static_cast<Json::Int64>(status.backlog);
    section["syslog"]["sent"] = static_cast<Json::Int64>(status.sent);
    section["syslog"]["last_error"] = status.lastError;
    section["syslog"]["destination"] = settings_.syslogHost + ":" + std::to_string(settings_.syslogPort) +
                                       (settings_.syslogTcp ? " (tcp)" : " (udp)");
  }
}

}  // namespace HospitalBridge
