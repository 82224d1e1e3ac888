#pragma once
// Sends every audit event to an audit repository (IHE ATNA) as an RFC 5424
// syslog message carrying the DICOM PS3.15 audit message, over UDP (one
// datagram each) or TCP (octet-counted frames, RFC 6587). The audit table is
// the spool: a cursor in the database says how far sending got, so events
// recorded while the repository is down go out when it is back, even after a
// restart. One node sends (lease "syslog"); a node that takes over reads the
// cursor from the database, so at worst a few messages are sent twice, never
// lost.
#include <mutex>
#include <string>

#include "Audit/AuditExport.h"
#include "Audit/AuditSettings.h"
#include "Audit/AuditStore.h"
#include "Common/BackgroundWorker.h"
#include "Common/Leases.h"
#include "Common/Storage.h"

namespace HospitalBridge {

class SyslogForwarder {
 public:
  // `leases` may be null (tests).
  SyslogForwarder(IDatabase& database, AuditStore& store, const AuditSettings& settings, AuditSource source,
                  ILeases* leases);
  ~SyslogForwarder();

  void Start();
  void Stop();

  struct Status {
    int64_t backlog = 0;
    int64_t sent = 0;
    std::string lastError;
  };
  Status GetStatus();

  // The RFC 5424 message for one event. Public for tests.
  std::string Format(const AuditEvent& event) const;

 private:
  std::chrono::milliseconds Tick();
  int64_t StoredCursor();
  bool SendBatch(std::string& error);
  bool Connect(std::string& error);
  bool SendMessage(const std::string& message, std::string& error);
  void Disconnect();

  IDatabase& database_;
  AuditStore& store_;
  const AuditSettings settings_;
  const AuditSource source_;
  std::string hostname_;
  int socket_ = -1;
  std::mutex mutex_;  // guards cursor_, sent_, lastError_
  int64_t cursor_ = 0;
  int64_t sent_ = 0;
  std::string lastError_;
  bool failing_ = false;
  BackgroundWorker worker_;
};

}  // namespace HospitalBridge
