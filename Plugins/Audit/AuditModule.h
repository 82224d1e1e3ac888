#pragma once
// The audit trail as a module: the hash-chained store, the recorder every
// module reports to (through the core's AuditForwarder), the forwarding to a
// syslog audit repository, the audit of reads of Orthanc's own routes (told
// by the gate), the "stored-report" consumer, and /bridge/audit.
#include <memory>
#include <string>

#include "Audit/AuditRecorder.h"
#include "Audit/AuditSettings.h"
#include "Audit/AuditStore.h"
#include "Audit/CoreAccessAuditor.h"
#include "Audit/StoredReporter.h"
#include "Audit/SyslogForwarder.h"
#include "Common/AuditSink.h"
#include "Common/Module.h"
#include "Index/StudyEventPipeline.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"
#include "Security/AccessGate.h"

namespace HospitalBridge {

class AuditModule : public IModule {
 public:
  // Starts writing at once (what happens while Orthanc starts is audited
  // too) and points `forwarder`, the sink every module holds, at the
  // recorder. `patients`: null when the registry is off.
  AuditModule(const ModuleContext& context, const AuditSettings& settings, AuditForwarder& forwarder,
              StudyIndexStore& studies, PatientStore* patients, StudyEventPipeline* pipeline,
              AccessGate& gate);
  // Writes what is still queued, then detaches the forwarder.
  ~AuditModule() override;

  std::string Name() const override { return "audit"; }
  void Describe(Json::Value& section) override;

  bool Enabled() const { return recorder_ != nullptr; }
  // For events that must commit with a module's own change (a signature).
  AuditStore* StoreIfEnabled() { return recorder_ ? &store_ : nullptr; }

 private:
  const AuditSettings settings_;
  AuditForwarder& forwarder_;
  AccessGate& gate_;
  AuditStore store_;
  std::unique_ptr<AuditRecorder> recorder_;
  std::unique_ptr<SyslogForwarder> syslog_;
  std::unique_ptr<StoredReporter> storedReporter_;
  std::unique_ptr<CoreAccessAuditor> coreAuditor_;
};

}  // namespace HospitalBridge
