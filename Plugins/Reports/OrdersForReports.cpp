#include "Reports/OrdersForReports.h"

namespace HospitalBridge {

std::optional<ReportOrderInfo> OrdersForReports::ForStudy(const std::string& orthancId,
                                                          const std::string& studyUid) {
  OrderStore& store = orders_.Store();
  return InRead(store.Database(), [&](Transaction& transaction) -> std::optional<ReportOrderInfo> {
    std::optional<Order> order;
    if (std::optional<OrderStudyLink> link = store.LinkOf(transaction, orthancId)) {
      order = store.Find(transaction, link->orderId);
    }
    // A study made with the order's own StudyInstanceUID, before arrival
    // matching linked it.
    if (!order && !studyUid.empty()) order = store.FindByStudyUid(transaction, studyUid);
    if (!order || OrderStatus::IsClosed(order->status)) return std::nullopt;
    ReportOrderInfo info;
    info.id = order->id;
    info.accession = order->accession;
    info.priority = order->priority;
    info.status = order->status;
    info.referringPhysician = order->referringPhysician;
    info.reason = order->reason;
    info.serviceRequestId = std::to_string(order->id);  // the id ServiceRequestOf gives
    return info;
  });
}

void OrdersForReports::MarkReported(int64_t orderId, const AuditActor& actor) {
  InWrite(orders_.Store().Database(), [&](Transaction& transaction) {
    std::optional<Order> order = orders_.Store().Find(transaction, orderId);
    if (!order) return;
    Json::Value detail(Json::objectValue);
    detail["by"] = "report";
    if (order->status == OrderStatus::kInProgress) {
      orders_.ChangeStatus(transaction, *order, OrderStatus::kCompleted, actor, detail);
    }
    if (order->status == OrderStatus::kCompleted) {
      orders_.ChangeStatus(transaction, *order, OrderStatus::kReported, actor, detail);
    }
  });
}

}  // namespace HospitalBridge
