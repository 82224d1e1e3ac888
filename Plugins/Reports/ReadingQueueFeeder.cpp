#include "Reports/ReadingQueueFeeder.h"

namespace HospitalBridge {

void ReadingQueueFeeder::Consume(StudyEventContext& context) {
  const StudyEvent& event = context.Event();
  if (event.kind == "deleted" || !context.Study()) {
    service_.StudyGone(event.orthancId);
    return;
  }
  service_.Consider(*context.Study());
}

}  // namespace HospitalBridge
