#pragma once
// The audit trail in the two forms other systems read: FHIR R4 AuditEvent
// (in the style of IHE Basic Audit Log Patterns) and DICOM PS3.15 audit
// messages (the XML an IHE ATNA audit repository receives over syslog).
#include <json/json.h>

#include <string>
#include <vector>

#include "Common/AuditEvent.h"

namespace HospitalBridge {

struct AuditSource {
  std::string siteId;
  std::string siteName;
};

Json::Value ToFhirAuditEvent(const AuditEvent& event, const AuditSource& source);
Json::Value ToFhirBundle(const std::vector<AuditEvent>& events, const AuditSource& source);

std::string ToDicomAuditMessage(const AuditEvent& event, const AuditSource& source);
std::string ToDicomAuditMessages(const std::vector<AuditEvent>& events, const AuditSource& source);

std::string XmlEscape(const std::string& text);

}  // namespace HospitalBridge
