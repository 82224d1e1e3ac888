#include "Orders/Reconciler.h"

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kPending[] = "pending";
const char kCopying[] = "copying";
const char kVerifying[] = "verifying";
const char kDone[] = "done";
const char kFailed[] = "failed";
}  // namespace

Reconciler::Reconciler(OrderService& service, IOrthancRest& orthanc) : service_(service), orthanc_(orthanc) {
  worker_ = std::make_unique<BackgroundWorker>(
      "order-attachments", [this] { return std::chrono::milliseconds(Step() ? 500 : 60000); },
      std::chrono::milliseconds(1000), std::chrono::milliseconds(30000));
}

Reconciler::~Reconciler() { Stop(); }

void Reconciler::Start() { worker_->Start(); }

void Reconciler::Stop() {
  if (worker_) worker_->Stop();
}

OrderAttachment Reconciler::Attach(const std::string& orthancId, int64_t orderId, const AuditActor& actor) {
  OrderStore& store = service_.Store();
  for (const OrderAttachment& existing : store.AttachmentsOfStudy(orthancId)) {
    if (existing.state != kFailed && existing.state != kDone) {
      throw DomainError::Conflict("The study is being attached already",
                                  "to order #" + std::to_string(existing.orderId));
    }
  }
  Transaction transaction(store.Database(), TransactionMode::kWrite);
  std::optional<OrderMismatch> mismatch = store.FindMismatch(transaction, orthancId);
  if (!mismatch || mismatch->resolvedAt != 0) {
    throw DomainError::NotFound("No such study to reconcile", "study " + orthancId + " is not on the list");
  }
  std::optional<Order> order = store.Find(transaction, orderId);
  if (!order) throw DomainError::NotFound("No such order", "order #" + std::to_string(orderId));
  if (order->status != OrderStatus::kScheduled && order->status != OrderStatus::kArrived &&
      order->status != OrderStatus::kInProgress) {
    throw DomainError::Conflict("The order does not expect images",
                                DescribeOrder(*order) + " is " + order->status);
  }
  OrderAttachment attachment;
  attachment.orderId = orderId;
  attachment.sourceOrthancId = orthancId;
  attachment.sourceStudyUid = mismatch->studyUid;
  attachment.state = kPending;
  attachment.requestedBy = actor.name;
  attachment.requestedAddress = actor.address;
  attachment.requestedAt = Time::NowSeconds();
  attachment.id = store.InsertAttachment(transaction, attachment);
  Json::Value detail(Json::objectValue);
  detail["attachment_id"] = static_cast<Json::Int64>(attachment.id);
  detail["source_study_uid"] = mismatch->studyUid;
  detail["source_orthanc_id"] = orthancId;
  detail["step"] = "requested";
  service_.Record(transaction, *order, "order.reconciled", actor, order->status, detail, mismatch->studyUid);
  transaction.Commit();
  if (worker_->Running()) worker_->Wake();
  return attachment;
}

void Reconciler::Dismiss(const std::string& orthancId, const std::string& reason, const AuditActor& actor) {
  const std::string why = Text::Trim(reason);
  if (why.empty() || why.size() > 500) {
    throw DomainError::Invalid("Invalid field: reason", "reason is required (at most 500 characters)");
  }
  OrderStore& store = service_.Store();
  Transaction transaction(store.Database(), TransactionMode::kWrite);
  std::optional<OrderMismatch> mismatch = store.FindMismatch(transaction, orthancId);
  if (!mismatch ||
      !store.ResolveMismatch(transaction, orthancId, actor.name, "dismissed", Time::NowSeconds())) {
    throw DomainError::NotFound("No such study to reconcile", "study " + orthancId + " is not on the list");
  }
  transaction.Commit();
  AuditEvent event = MakeAuditEvent("reconciliation.dismissed", actor);
  event.studyUid = mismatch->studyUid;
  event.detail["orthanc_id"] = orthancId;
  event.detail["reason"] = why;
  event.detail["kind"] = mismatch->kind;
  service_.Audit(event);
}

bool Reconciler::Step() {
  bool waiting = false;
  for (OrderAttachment& attachment : service_.Store().UnfinishedAttachments()) {
    try {
      Advance(attachment);
    } catch (const OrthancRejected& e) {
      Finish(attachment, kFailed, std::string("Orthanc refused: ") + e.what());
    }
    waiting |= attachment.state != kDone && attachment.state != kFailed;
  }
  return waiting;
}

int64_t Reconciler::CountInstances(const std::string& studyId, bool& exists) {
  Json::Value instances;
  exists = orthanc_.GetJson("/studies/" + studyId + "/instances", instances);
  return exists && instances.isArray() ? static_cast<int64_t>(instances.size()) : 0;
}

void Reconciler::Advance(OrderAttachment& attachment) {
  OrderStore& store = service_.Store();
  if (attachment.state == kPending || attachment.state == kCopying) {
    std::optional<Order> order = store.Find(attachment.orderId);
    Json::Value instances;
    if (!order || !orthanc_.GetJson("/studies/" + attachment.sourceOrthancId + "/instances", instances) ||
        !instances.isArray()) {
      Finish(attachment, kFailed, !order ? "the order is gone" : "the study is no longer in Orthanc");
      return;
    }
    if (attachment.state == kPending) {
      attachment.sourceInstances = static_cast<int64_t>(instances.size());
      attachment.state = kCopying;
      InWrite(store.Database(), [&](Transaction& t) { store.UpdateAttachment(t, attachment); });
    }
    // Orthanc 1.10 refuses a new PatientID at the study level, so each
    // instance is modified on its own (Orthanc answers the new file) and
    // stored. The copy's identifiers differ from the original's, so both
    // exist side by side; after a crash the copying starts again and what
    // was stored already is simply "AlreadyStored".
    Json::Value request(Json::objectValue);
    Json::Value& replace = request["Replace"];
    replace["StudyInstanceUID"] = order->studyUid;
    replace["AccessionNumber"] = order->accession;
    replace["PatientID"] = order->patientId;
    replace["PatientName"] = order->patientName;
    if (!order->birthDate.empty()) replace["PatientBirthDate"] = order->birthDate;
    if (!order->sex.empty()) replace["PatientSex"] = order->sex;
    if (!order->issuer.empty()) replace["IssuerOfPatientID"] = order->issuer;
    request["Keep"].append("SeriesInstanceUID");
    request["Keep"].append("SOPInstanceUID");
    request["Force"] = true;
    const std::string body = JsonText::Write(request);
    for (const Json::Value& instance : instances) {
      const std::string id = instance.get("ID", "").asString();
      std::string file, answer;
      if (!orthanc_.Post("/instances/" + id + "/modify", body, file)) {
        throw OrthancUnavailable("instance " + id + " went away while it was copied");
      }
      if (!orthanc_.Post("/instances", file, answer))
        throw OrthancUnavailable("Orthanc did not store the copy");
      Json::Value stored;
      if (JsonText::Parse(answer, stored) && stored["ParentStudy"].isString()) {
        attachment.targetOrthancId = stored["ParentStudy"].asString();
      }
    }
    attachment.state = kVerifying;
    InWrite(store.Database(), [&](Transaction& t) { store.UpdateAttachment(t, attachment); });
  }
  if (attachment.state == kVerifying) {
    bool exists = false;
    const int64_t copied = CountInstances(attachment.targetOrthancId, exists);
    if (!exists || copied < attachment.sourceInstances) {
      Finish(attachment, kFailed,
             "the corrected copy holds " + std::to_string(copied) + " of " +
                 std::to_string(attachment.sourceInstances) + " instances; the original was kept");
      return;
    }
    // The copy is complete: the original goes (already gone after a crash
    // right here is fine).
    if (attachment.sourceOrthancId != attachment.targetOrthancId) {
      orthanc_.Delete("/studies/" + attachment.sourceOrthancId);
    }
    Finish(attachment, kDone, "");
  }
}

void Reconciler::Finish(OrderAttachment& attachment, const std::string& state, const std::string& error) {
  OrderStore& store = service_.Store();
  attachment.state = state;
  attachment.error = error;
  attachment.finishedAt = Time::NowSeconds();
  Transaction transaction(store.Database(), TransactionMode::kWrite);
  store.UpdateAttachment(transaction, attachment);
  std::optional<Order> order = store.Find(transaction, attachment.orderId);
  if (state == kDone) {
    store.ResolveMismatch(transaction, attachment.sourceOrthancId, attachment.requestedBy, "attached",
                          attachment.finishedAt);
  }
  if (order) {
    Json::Value detail(Json::objectValue);
    detail["attachment_id"] = static_cast<Json::Int64>(attachment.id);
    detail["source_study_uid"] = attachment.sourceStudyUid;
    detail["source_orthanc_id"] = attachment.sourceOrthancId;
    detail["target_orthanc_id"] = attachment.targetOrthancId;
    detail["instances"] = static_cast<Json::Int64>(attachment.sourceInstances);
    detail["step"] = state;
    if (!error.empty()) detail["error"] = error;
    AuditActor actor = AuditActor::System("reconciliation");
    actor.name = attachment.requestedBy;
    actor.kind = ActorKind::kUser;
    actor.address = attachment.requestedAddress;
    service_.Record(transaction, *order, "order.reconciled", actor, order->status, detail, order->studyUid,
                    state == kFailed ? "failure" : "success");
  }
  transaction.Commit();
  if (state == kFailed) Log::Warning("attaching study " + attachment.sourceStudyUid + " failed: " + error);
}

}  // namespace HospitalBridge
