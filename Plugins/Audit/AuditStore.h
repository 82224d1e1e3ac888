#pragma once
// The append-only, hash-chained audit table.
#include <optional>
#include <string>
#include <vector>

#include "Common/AuditEvent.h"
#include "Common/Storage.h"

namespace HospitalBridge {

struct AuditFilter {
  std::string patientId;
  std::string studyUid;
  std::string actor;
  std::string action;
  int64_t fromMs = 0;  // inclusive; 0 = open
  int64_t toMs = 0;    // exclusive; 0 = open
  int limit = 100;
  int offset = 0;
};

struct AuditPage {
  std::vector<AuditEvent> events;
  int64_t total = 0;
};

struct ChainVerdict {
  bool ok = true;
  int64_t checked = 0;
  int64_t brokenId = 0;
  std::string reason;
  int64_t checkpointId = 0;
  std::string checkpointHash;
};

class AuditStore {
 public:
  explicit AuditStore(IDatabase& database) : database_(database) {}

  // Appends in order, each chained to the one before; sets ids and hashes.
  void Append(std::vector<AuditEvent>& events);
  // The same inside the caller's transaction (an event that must exist
  // exactly when the caller's own change does).
  void Append(Transaction& transaction, std::vector<AuditEvent>& events);
  AuditPage Query(const AuditFilter& filter);
  // Recomputes the chain from the checkpoint (or the first event).
  ChainVerdict Verify();
  // Removes events older than `beforeMs`, keeping a checkpoint. Returns how many.
  int64_t PruneBefore(int64_t beforeMs);
  int64_t Count();
  int64_t LastId();
  int64_t LastTimeMs();
  // For the syslog forwarder: events after `afterId`, oldest first.
  std::vector<AuditEvent> After(int64_t afterId, int limit);

 private:
  IDatabase& database_;
};

}  // namespace HospitalBridge
