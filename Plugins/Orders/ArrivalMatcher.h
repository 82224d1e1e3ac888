#pragma once
// A consumer of the study events ("order-arrival"): ties each arriving study
// to its order, by StudyInstanceUID, else by AccessionNumber with the same
// PatientID. The first image moves the order to in-progress, the complete
// study to completed; a study that matches no order (or names an order that
// was cancelled, or another patient's) goes to the reconciliation list.
// Everything an event causes (link, status, history, audit, list entry)
// commits in one transaction, so it survives a crash and happens once.
#include "Common/StudyEvents.h"
#include "Orders/OrderService.h"

namespace HospitalBridge {

class ArrivalMatcher : public IStudyEventConsumer {
 public:
  explicit ArrivalMatcher(OrderService& service) : service_(service) {}

  const char* Name() const override { return "order-arrival"; }
  void Consume(StudyEventContext& context) override;

  // The same, for a study as indexed (`study` empty once deleted).
  void Handle(const std::string& kind, const std::string& orthancId, const std::optional<StudyRecord>& study);

 private:
  OrderService& service_;
};

}  // namespace HospitalBridge
