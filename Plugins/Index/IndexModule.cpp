#include "Index/IndexModule.h"

#include "Common/Time.h"
#include "Index/StudyRoutes.h"

namespace HospitalBridge {

IndexModule::IndexModule(const ModuleContext& context, const StudyIndexSettings& settings)
    : settings_(settings), studies_(context.database), reader_(context.orthanc), events_(context.database) {
  if (!settings_.enabled) return;
  pipeline_ = std::make_unique<StudyEventPipeline>(events_, studies_, settings_.eventDelayMs);
  worker_ = std::make_unique<IndexWorker>(studies_, reader_, settings_.refreshDelayMs, &context.leases);
  worker_->SetOnChange([this] { pipeline_->Wake(); });
  RegisterStudyRoutes(context.router, studies_, settings_, [this](Json::Value& studies) {
    if (annotate_) annotate_(studies);
  });
}

IndexModule::~IndexModule() { IndexModule::Stop(); }

void IndexModule::Start() {
  if (pipeline_) pipeline_->Start();  // first: what a crash interrupted
  if (worker_) worker_->Start(settings_.reconcileAtStart);
}

void IndexModule::Stop() {
  if (worker_) worker_->Stop();
  if (pipeline_) pipeline_->Stop();
}

void IndexModule::Describe(Json::Value& section) {
  IndexCounts counts = studies_.Counts();
  section["studies"] = static_cast<Json::Int64>(counts.studies);
  section["patients"] = static_cast<Json::Int64>(counts.patients);
  section["instances"] = static_cast<Json::Int64>(counts.instances);
  section["queue_depth"] = static_cast<Json::UInt64>(worker_ ? worker_->QueueDepth() : 0);
  section["state"] = worker_ ? worker_->State() : "disabled";
  const std::string last = studies_.GetState("last_reconcile");
  section["last_reconcile"] = last.empty() ? "" : Time::FormatIsoUtc(std::stoll(last));
  if (pipeline_) section["events"] = pipeline_->Status();
}

void IndexModule::OnStudyChanged(const std::string& orthancId) {
  if (worker_) worker_->StudyChanged(orthancId);
}

void IndexModule::OnStudyStable(const std::string& orthancId) {
  if (worker_) worker_->StudyStable(orthancId);
}

void IndexModule::OnStudyDeleted(const std::string& orthancId) {
  if (worker_) worker_->StudyDeleted(orthancId);
}

}  // namespace HospitalBridge
