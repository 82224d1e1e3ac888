#pragma once
// Turns what the index learns about a complete study into "dicom.stored"
// audit events: one per study and sender (AE title, address, user), with the
// number of instances it sent, instead of one event per instance. Instances
// that arrive after a report are reported once more, as the difference.
#include "Common/AuditSink.h"
#include "Common/Storage.h"
#include "Index/StudyRecord.h"

namespace HospitalBridge {

class StoredReporter {
 public:
  StoredReporter(IDatabase& database, IAuditSink& audit) : database_(database), audit_(audit) {}
  void Report(const StudyRecord& study);

 private:
  IDatabase& database_;
  IAuditSink& audit_;
};

}  // namespace HospitalBridge
