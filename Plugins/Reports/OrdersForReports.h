#pragma once
// What reporting needs of the orders module (a floor below): the order a
// study fulfils, as arrival matching linked it (stage match, before the
// reading queue's consumer acts), with its priority, referring physician,
// reason and ServiceRequest id; and the order made "reported" once its final
// report is stored.
#include "Orders/OrderService.h"
#include "Reports/ReportOrders.h"

namespace HospitalBridge {

class OrdersForReports : public IReportOrders {
 public:
  explicit OrdersForReports(OrderService& orders) : orders_(orders) {}

  std::optional<ReportOrderInfo> ForStudy(const std::string& orthancId, const std::string& studyUid) override;
  // in-progress (the study not stable yet) becomes completed first: a final
  // report means the examination is done. Cancelled, discontinued or
  // reported orders stay as they are.
  void MarkReported(int64_t orderId, const AuditActor& actor) override;

 private:
  OrderService& orders_;
};

}  // namespace HospitalBridge
