#include "Orders/OrdersModule.h"

#include "Orders/OrderRoutes.h"

namespace HospitalBridge {

OrdersModule::OrdersModule(const ModuleContext& context, const OrdersSettings& settings,
                           PatientStore* patients, bool audited, StudyEventPipeline* pipeline)
    : settings_(settings),
      orthanc_(context.orthanc),
      store_(context.database),
      auditStore_(context.database) {
  service_ = std::make_unique<OrderService>(store_, patients, audited ? &auditStore_ : nullptr, context.site,
                                            settings_, context.clock);
  worklist_ = std::make_unique<WorklistService>(store_, settings_.worklist, context.audit, context.clock);
  arrival_ = std::make_unique<ArrivalMatcher>(*service_);
  reconciler_ = std::make_unique<Reconciler>(*service_, context.orthanc);
  callersWorker_ = std::make_unique<BackgroundWorker>(
      "worklist-callers", [this] { return RefreshCallers(); }, std::chrono::milliseconds(2000),
      std::chrono::milliseconds(60000));
  RegisterOrderRoutes(context.router, OrderRoutesContext{*service_, *reconciler_});
  // After the study is filed under its patient and marked, before anything acts on it.
  if (pipeline != nullptr) pipeline->Add(*arrival_, StudyEventStage::kMatch);
}

OrdersModule::~OrdersModule() { OrdersModule::Stop(); }

std::chrono::milliseconds OrdersModule::RefreshCallers() {
  // Modalities added through Orthanc's REST API (or kept in its database)
  // count as well as those of orthanc.json.
  Json::Value modalities;
  if (orthanc_.GetJson("/modalities?expand", modalities)) worklist_->Callers().Load(modalities);
  return std::chrono::milliseconds(static_cast<int64_t>(settings_.worklist.modalitiesRefreshSeconds) * 1000);
}

void OrdersModule::Start() {
  if (settings_.worklist.enabled) callersWorker_->Start();
  reconciler_->Start();
}

void OrdersModule::Stop() {
  if (reconciler_) reconciler_->Stop();
  if (callersWorker_) callersWorker_->Stop();
}

void OrdersModule::Describe(Json::Value& section) {
  section["enabled"] = true;
  Json::Value& counts = section["orders"];
  for (const std::string& status : OrderStatus::All()) {
    counts[status] = static_cast<Json::Int64>(store_.CountByStatus(status));
  }
  int64_t open = 0;
  store_.Mismatches(true, 1, 0, open);
  section["reconciliation"]["open"] = static_cast<Json::Int64>(open);
  section["reconciliation"]["worker_error"] = reconciler_->LastError();
  Json::Value& worklist = section["worklist"];
  worklist["enabled"] = settings_.worklist.enabled;
  worklist["registered"] = worklistRegistered_.load();
  worklist["statuses"] = Json::Value(Json::arrayValue);
  for (const std::string& status : settings_.worklist.statuses) worklist["statuses"].append(status);
  worklist["max_answers"] = settings_.worklist.maxAnswers;
  worklist["answer_encoding"] = settings_.worklist.answerEncoding;
  worklist["allow_unlisted_calling_aets"] = settings_.worklist.allowUnlistedCallingAets;
  worklist["calling_aets"] = Json::Value(Json::arrayValue);
  for (const std::string& aet : worklist_->Callers().List()) worklist["calling_aets"].append(aet);
  const Json::Value status = worklist_->Status();
  for (const std::string& key : status.getMemberNames()) worklist[key] = status[key];
}

void OrdersModule::AnnotateStudies(Json::Value& studies) {
  std::vector<std::string> uids;
  for (const Json::Value& study : studies) uids.push_back(study.get("study_uid", "").asString());
  std::map<std::string, int64_t> orderOf;
  for (const OrderStudyLink& link : store_.LinksOfStudies(uids)) orderOf[link.studyUid] = link.orderId;
  std::map<int64_t, std::optional<Order>> orders;
  for (Json::Value& study : studies) {
    auto found = orderOf.find(study.get("study_uid", "").asString());
    if (found == orderOf.end()) {
      study["order"] = Json::Value();
      continue;
    }
    auto cached = orders.find(found->second);
    if (cached == orders.end()) cached = orders.emplace(found->second, store_.Find(found->second)).first;
    if (!cached->second) continue;
    Json::Value& order = study["order"];
    order["id"] = static_cast<Json::Int64>(cached->second->id);
    order["accession_number"] = cached->second->accession;
    order["status"] = cached->second->status;
    order["procedure"] = cached->second->procedureDescription;
    order["scheduled_start"] = cached->second->ScheduledStart();
  }
}

}  // namespace HospitalBridge
