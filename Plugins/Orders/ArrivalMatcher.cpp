#include "Orders/ArrivalMatcher.h"

#include "Common/Log.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
AuditActor SenderOf(const StudyRecord& study) {
  for (const StudySource& source : study.sources) {
    if (source.origin == "DicomProtocol") return AuditActor::DicomSender(source.aet, source.ip);
  }
  return AuditActor::System("order-arrival");
}

OrderMismatch MismatchOf(const StudyRecord& study, const std::string& kind, int64_t orderId, int64_t now) {
  OrderMismatch m;
  m.orthancId = study.orthancId;
  m.studyUid = study.studyUid;
  m.kind = kind;
  m.orderId = orderId;
  m.patientId = study.patientId;
  m.patientName = study.patientName;
  m.accession = study.accessionNumber;
  m.studyDate = study.studyDate;
  for (size_t i = 0; i < study.modalities.size(); i++)
    m.modalities += (i > 0 ? "\\" : "") + study.modalities[i];
  m.description = study.description;
  m.detectedAt = now;
  return m;
}
}  // namespace

void ArrivalMatcher::Consume(StudyEventContext& context) {
  Handle(context.Event().kind, context.Event().orthancId, context.Study());
}

void ArrivalMatcher::Handle(const std::string& kind, const std::string& orthancId,
                            const std::optional<StudyRecord>& study) {
  OrderStore& store = service_.Store();
  const int64_t now = Time::NowSeconds();
  if (kind == "deleted" || !study) {
    // Gone from Orthanc: off the list, unless an attachment is replacing it
    // (the reconciler closes that entry itself).
    bool attaching = false;
    for (const OrderAttachment& a : store.AttachmentsOfStudy(orthancId)) attaching |= a.state != "failed";
    Transaction transaction(store.Database(), TransactionMode::kWrite);
    if (!attaching) store.ResolveMismatch(transaction, orthancId, "HospitalBridge", "deleted", now);
    transaction.Commit();
    return;
  }
  Transaction transaction(store.Database(), TransactionMode::kWrite);
  std::optional<Order> order;
  std::string matchedBy;
  if (std::optional<OrderStudyLink> link = store.LinkOf(transaction, orthancId)) {
    order = store.Find(transaction, link->orderId);
  } else if ((order = store.FindByStudyUid(transaction, study->studyUid))) {
    matchedBy = "study-uid";
  } else if (!study->accessionNumber.empty() &&
             (order = store.FindByAccession(transaction, study->accessionNumber))) {
    if (order->patientId != study->patientId) {
      if (service_.Settings().listUnmatchedStudies) {
        store.AddMismatch(transaction, MismatchOf(*study, "patient-differs", order->id, now));
      }
      transaction.Commit();
      return;
    }
    matchedBy = "accession";
  }
  if (!order) {
    // Studies pulled from another hospital were ordered there. Without an
    // accession number nothing downstream can find its order either (the
    // router holds it "waiting: no accession number"), so it is said apart.
    if (service_.Settings().listUnmatchedStudies && study->originSite.empty()) {
      const bool noAccession = study->accessionNumber.find_first_not_of(' ') == std::string::npos;
      store.AddMismatch(transaction, MismatchOf(*study, noAccession ? "no-accession" : "no-order", 0, now));
    }
    transaction.Commit();
    return;
  }
  if (OrderStatus::IsClosed(order->status)) {
    // Images for a cancelled order: stored and indexed, listed for staff.
    if (store.AddMismatch(transaction, MismatchOf(*study, "order-cancelled", order->id, now))) {
      Log::Warning("study " + study->studyUid + " arrived for " + DescribeOrder(*order) + ", which is " +
                   order->status + ": listed for reconciliation");
    }
    transaction.Commit();
    return;
  }
  const AuditActor actor = SenderOf(*study);
  Json::Value detail(Json::objectValue);
  detail["study_uid"] = study->studyUid;
  detail["orthanc_id"] = study->orthancId;
  if (!matchedBy.empty()) {
    store.Link(transaction, OrderStudyLink{study->orthancId, study->studyUid, order->id, matchedBy, now});
    detail["matched_by"] = matchedBy;
    if (order->status != OrderStatus::kScheduled && order->status != OrderStatus::kArrived) {
      // Another study for an order already under way: linked, said once.
      Json::Value linked = detail;
      linked["study_linked"] = study->studyUid;
      service_.Record(transaction, *order, "order.changed", actor, order->status, linked, study->studyUid);
    }
  }
  if (order->status == OrderStatus::kScheduled || order->status == OrderStatus::kArrived) {
    service_.ChangeStatus(transaction, *order, OrderStatus::kInProgress, actor, detail);
  }
  if (kind == "stable" && order->status == OrderStatus::kInProgress) {
    Json::Value complete = detail;
    complete["instances"] = static_cast<Json::Int64>(study->instanceCount);
    service_.ChangeStatus(transaction, *order, OrderStatus::kCompleted, AuditActor::System("order-arrival"),
                          complete);
  }
  transaction.Commit();
}

}  // namespace HospitalBridge
