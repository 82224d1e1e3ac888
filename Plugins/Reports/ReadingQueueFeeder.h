#pragma once
// A consumer of the study events ("reading-queue", stage act, after orders
// matched the study): a study from an order, or of a modality that always
// needs a report, enters the reading queue once; later events refresh what
// the queue copies of it; a deleted study leaves the queue. Idempotent: a
// study has one report row (unique on its Orthanc ID).
#include "Common/StudyEvents.h"
#include "Reports/ReportService.h"

namespace HospitalBridge {

class ReadingQueueFeeder : public IStudyEventConsumer {
 public:
  explicit ReadingQueueFeeder(ReportService& service) : service_(service) {}

  const char* Name() const override { return "reading-queue"; }
  void Consume(StudyEventContext& context) override;

 private:
  ReportService& service_;
};

}  // namespace HospitalBridge
