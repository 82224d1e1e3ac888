#pragma once
// The audit trail's settings (HospitalBridge.Audit and Modules.Audit):
// retention and the syslog (RFC 5424 over UDP or TCP) forwarding of ATNA
// messages.
#include <string>

#include "Common/Settings.h"

namespace HospitalBridge {

struct AuditSettings {
  bool enabled = true;
  int retentionDays = 0;
  bool syslogEnabled = false;
  std::string syslogHost = "127.0.0.1";
  int syslogPort = 514;
  bool syslogTcp = false;
  int syslogRetryMs = 2000;
};

AuditSettings ReadAuditSettings(const SettingsReader& read);

}  // namespace HospitalBridge
