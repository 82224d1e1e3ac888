#include "Audit/AuditSettings.h"

namespace HospitalBridge {

AuditSettings ReadAuditSettings(const SettingsReader& read) {
  AuditSettings audit;
  audit.enabled = read.ModuleEnabled("Audit");
  audit.retentionDays = read.Int("Audit.RetentionDays", 0, 36500);
  audit.syslogEnabled = read.Bool("Audit.Syslog.Enabled");
  audit.syslogHost = read.String("Audit.Syslog.Host");
  if (audit.syslogEnabled && audit.syslogHost.empty()) {
    SettingsReader::Invalid("Audit.Syslog.Host", "must not be empty");
  }
  audit.syslogPort = read.Int("Audit.Syslog.Port", 1, 65535);
  audit.syslogTcp = read.Choice("Audit.Syslog.Protocol", {"udp", "tcp"}) == "tcp";
  audit.syslogRetryMs = read.Int("Audit.Syslog.RetryIntervalMs", 100, 600000);
  if (audit.syslogEnabled && !audit.enabled)
    SettingsReader::Invalid("Audit.Syslog.Enabled", "needs Modules.Audit");
  return audit;
}

}  // namespace HospitalBridge
