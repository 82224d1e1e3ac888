#include "Audit/StoredReporter.h"

#include <map>

#include "Common/AuditVocabulary.h"
#include "Common/Time.h"

namespace HospitalBridge {

void StoredReporter::Consume(StudyEventContext& context) {
  if (context.IsStable() && context.Study()) Report(*context.Study(), context.RegistryPatientId());
}

void StoredReporter::Report(const StudyRecord& study, const std::string& registryPatientId) {
  struct Sender {
    const StudySource* source;
    int64_t instances = 0;
  };
  std::map<std::string, Sender> senders;
  for (const StudySource& source : study.sources) {
    const std::string key = source.origin + "|" + source.aet + "|" + source.ip + "|" + source.user;
    Sender& sender = senders[key];
    sender.source = &source;
    sender.instances += source.instances;
  }
  Transaction transaction(database_, TransactionMode::kWrite);
  std::vector<AuditEvent> events;
  for (const auto& [key, sender] : senders) {
    int64_t reported = 0;
    {
      Statement select(transaction,
                       "SELECT instances FROM audit_stored_reported WHERE study_uid = ? AND source_key = ?");
      select.Bind(1, study.studyUid).Bind(2, key);
      if (select.Step()) reported = select.ColumnInt(0);
    }
    if (sender.instances <= reported) continue;
    Statement upsert(transaction,
                     "INSERT INTO audit_stored_reported (study_uid, source_key, instances) VALUES (?, ?, ?) "
                     "ON CONFLICT (study_uid, source_key) DO UPDATE SET instances = excluded.instances");
    upsert.Bind(1, study.studyUid).Bind(2, key).Bind(3, sender.instances).Run();

    const StudySource& source = *sender.source;
    // A modality by its AE title; an upload by its user, else as the system
    // (a plugin, Lua) named by its address or way in.
    const AuditActor actor =
        source.origin == "DicomProtocol"
            ? AuditActor::DicomSender(source.aet, source.ip)
            : (!source.user.empty()
                   ? AuditActor{ActorKind::kUser, source.user, "", source.ip}
                   : AuditActor{ActorKind::kSystem, !source.ip.empty() ? source.ip : source.origin, "",
                                source.ip});
    AuditEvent event = MakeAuditEvent("dicom.stored", actor);
    event.studyUid = study.studyUid;
    event.patientId = registryPatientId;
    event.timeMs = Time::WallClockMilliseconds();
    event.detail["origin"] = source.origin;
    event.detail["aet"] = source.aet;
    event.detail["ip"] = source.ip;
    event.detail["user"] = source.user;
    event.detail["instances"] = static_cast<Json::Int64>(sender.instances - reported);
    event.detail["instances_in_study"] = static_cast<Json::Int64>(study.instanceCount);
    events.push_back(event);
  }
  audit_.Append(transaction, events);
  transaction.Commit();
}

}  // namespace HospitalBridge
