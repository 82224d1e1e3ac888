#pragma once
// Turns what the index learns about a complete study into "dicom.stored"
// audit events: one per study and sender (AE title, address, user), with the
// number of instances it sent, instead of one event per instance. Instances
// that arrive after a report are reported once more, as the difference.
//
// A consumer of the study events ("stored-report"). The events are appended
// to the audit trail in the same transaction that records what was
// reported, so a crash can neither lose a report nor make it twice.
#include "Audit/AuditStore.h"
#include "Common/StudyEvents.h"
#include "Common/StudyRecord.h"

namespace HospitalBridge {

class StoredReporter : public IStudyEventConsumer {
 public:
  StoredReporter(IDatabase& database, AuditStore& audit) : database_(database), audit_(audit) {}

  const char* Name() const override { return "stored-report"; }
  void Consume(StudyEventContext& context) override;

  // `registryPatientId`: the registry patient the events name ("" if none).
  void Report(const StudyRecord& study, const std::string& registryPatientId = "");

 private:
  IDatabase& database_;
  AuditStore& audit_;
};

}  // namespace HospitalBridge
