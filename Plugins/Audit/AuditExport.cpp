#include "Audit/AuditExport.h"

#include "Common/Json.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kDcm[] = "http://dicom.nema.org/resources/ontology/DCM";

// What an action is, in DICOM's audit vocabulary (PS3.15 A.5, PS3.16 CID 400-405).
struct Meaning {
  const char* eventCode;
  const char* eventName;
  const char* actionCode;   // C, R, U, D, E
  const char* subtypeCode;  // DCM code of the event type, or ""
  const char* subtypeName;
};

Meaning MeaningOf(const std::string& action) {
  if (action == "login" || action == "login.failed")
    return {"110114", "User Authentication", "E", "110122", "Login"};
  if (action == "logout") return {"110114", "User Authentication", "E", "110123", "Logout"};
  if (action == "user.created" || action == "user.changed") {
    return {"110136", "Security Roles Changed", "U", "", ""};
  }
  if (action == "dicom.stored") return {"110104", "DICOM Instances Transferred", "C", "", ""};
  if (action == "study.viewed") return {"110103", "DICOM Instances Accessed", "R", "", ""};
  if (action == "study.searched") return {"110112", "Query", "E", "", ""};
  if (action == "request.refused") return {"110113", "Security Alert", "E", "", ""};
  if (action == "study.modified") return {"110103", "DICOM Instances Accessed", "U", "", ""};
  if (action == "study.deleted") return {"110103", "DICOM Instances Accessed", "D", "", ""};
  // A phone unlocking a share link authenticates the patient; refused
  // studies and locked links are security alerts; what a phone sees is an
  // access, and links and downloads hand images out of the hospital.
  if (action == "share.opened" || action == "share.unlock_failed") {
    return {"110114", "User Authentication", "E", "110122", "Login"};
  }
  if (action == "share.denied" || action == "share.locked") return {"110113", "Security Alert", "E", "", ""};
  if (action == "share.viewed") return {"110103", "DICOM Instances Accessed", "R", "", ""};
  if (action == "study.downloaded" || action == "study.exported" || action.rfind("share.", 0) == 0) {
    return {"110106", "Export", "R", "", ""};
  }
  if (action.rfind("federation.query", 0) == 0) return {"110112", "Query", "E", "", ""};
  if (action == "federation.retrieve") return {"110107", "Import", "C", "", ""};
  if (action.rfind("consent.", 0) == 0) return {"110110", "Patient Record", "U", "", ""};
  if (action == "system.started")
    return {"110100", "Application Activity", "E", "110120", "Application Start"};
  return {"110100", "Application Activity", "E", "", ""};
}

// DICOM/FHIR outcome: 0 success, 4 minor failure (refused), 8 serious failure.
const char* OutcomeCode(const std::string& outcome) {
  if (outcome == "success") return "0";
  if (outcome == "denied") return "4";
  return "8";
}

Json::Value Coding(const char* system, const std::string& code, const std::string& display) {
  Json::Value coding(Json::objectValue);
  coding["system"] = system;
  coding["code"] = code;
  if (!display.empty()) coding["display"] = display;
  return coding;
}
}  // namespace

std::string XmlEscape(const std::string& raw) {
  // Ill-formed UTF-8 (stored before names were checked) would make the
  // whole message ill-formed XML: an ATNA repository rejects the batch.
  const std::string text = Text::ToValidUtf8(raw);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') out.push_back(c);
    }
  }
  return out;
}

Json::Value ToFhirAuditEvent(const AuditEvent& event, const AuditSource& source) {
  const Meaning meaning = MeaningOf(event.action);
  Json::Value resource(Json::objectValue);
  resource["resourceType"] = "AuditEvent";
  resource["id"] = std::to_string(event.id);
  resource["type"] = Coding(kDcm, meaning.eventCode, meaning.eventName);
  if (meaning.subtypeCode[0] != '\0') {
    resource["subtype"].append(Coding(kDcm, meaning.subtypeCode, meaning.subtypeName));
  }
  resource["subtype"].append(Coding("urn:hospitalbridge:action", event.action, ""));
  resource["action"] = meaning.actionCode;
  resource["recorded"] = Time::FormatIsoUtcMilliseconds(event.timeMs);
  resource["outcome"] = OutcomeCode(event.outcome);
  if (event.outcome != "success") resource["outcomeDesc"] = event.outcome;

  Json::Value agent(Json::objectValue);
  agent["type"]["coding"].append(
      Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP", "information recipient"));
  agent["who"]["display"] = event.actorName;
  agent["who"]["identifier"]["value"] = event.actorName;
  agent["name"] = event.actorName;
  agent["requestor"] = true;
  if (!event.actorRole.empty())
    agent["role"].append(Json::Value(Json::objectValue))["text"] = event.actorRole;
  agent["altId"] = event.actorKind;
  if (!event.sourceIp.empty()) {
    agent["network"]["address"] = event.sourceIp;
    agent["network"]["type"] = "2";  // IP address
  }
  resource["agent"].append(agent);

  resource["source"]["site"] = source.siteId;
  resource["source"]["observer"]["display"] = source.siteName + " (HospitalBridge)";
  resource["source"]["observer"]["identifier"]["value"] = source.siteId;
  resource["source"]["type"].append(
      Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server"));

  if (!event.studyUid.empty()) {
    Json::Value study(Json::objectValue);
    study["what"]["identifier"]["system"] = "urn:dicom:uid";
    study["what"]["identifier"]["value"] = "urn:oid:" + event.studyUid;
    study["type"] = Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object");
    study["role"] = Coding("http://terminology.hl7.org/CodeSystem/object-role", "3", "Report");
    resource["entity"].append(study);
  }
  if (!event.patientId.empty()) {
    Json::Value patient(Json::objectValue);
    patient["what"]["reference"] = "Patient/" + event.patientId;
    patient["type"] = Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person");
    patient["role"] = Coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient");
    resource["entity"].append(patient);
  }
  if (!event.detail.empty()) {
    Json::Value detail(Json::objectValue);
    detail["what"]["display"] = "details";
    Json::Value item(Json::objectValue);
    item["type"] = "detail";
    item["valueString"] = JsonText::Write(event.detail);
    detail["detail"].append(item);
    resource["entity"].append(detail);
  }
  return resource;
}

Json::Value ToFhirBundle(const std::vector<AuditEvent>& events, const AuditSource& source) {
  Json::Value bundle(Json::objectValue);
  bundle["resourceType"] = "Bundle";
  bundle["type"] = "collection";
  bundle["total"] = static_cast<Json::UInt64>(events.size());
  bundle["entry"] = Json::Value(Json::arrayValue);
  for (const AuditEvent& event : events) {
    Json::Value entry(Json::objectValue);
    entry["fullUrl"] = "urn:hospitalbridge:audit:" + source.siteId + ":" + std::to_string(event.id);
    entry["resource"] = ToFhirAuditEvent(event, source);
    bundle["entry"].append(entry);
  }
  return bundle;
}

std::string ToDicomAuditMessage(const AuditEvent& event, const AuditSource& source) {
  const Meaning meaning = MeaningOf(event.action);
  std::string xml = "<AuditMessage>";
  xml += "<EventIdentification EventActionCode=\"" + std::string(meaning.actionCode) + "\" EventDateTime=\"" +
         Time::FormatIsoUtcMilliseconds(event.timeMs) + "\" EventOutcomeIndicator=\"" +
         OutcomeCode(event.outcome) + "\">";
  xml += "<EventID csd-code=\"" + std::string(meaning.eventCode) +
         "\" codeSystemName=\"DCM\" originalText=\"" + meaning.eventName + "\"/>";
  if (meaning.subtypeCode[0] != '\0') {
    xml += "<EventTypeCode csd-code=\"" + std::string(meaning.subtypeCode) +
           "\" codeSystemName=\"DCM\" originalText=\"" + meaning.subtypeName + "\"/>";
  }
  xml += "<EventTypeCode csd-code=\"" + XmlEscape(event.action) +
         "\" codeSystemName=\"HospitalBridge\" originalText=\"" + XmlEscape(event.action) + "\"/>";
  xml += "</EventIdentification>";
  xml += "<ActiveParticipant UserID=\"" + XmlEscape(event.actorName) + "\" AlternativeUserID=\"" +
         XmlEscape(event.actorKind) + "\" UserIsRequestor=\"true\"";
  if (!event.sourceIp.empty()) {
    xml += " NetworkAccessPointID=\"" + XmlEscape(event.sourceIp) + "\" NetworkAccessPointTypeCode=\"2\"";
  }
  xml += ">";
  if (!event.actorRole.empty()) {
    xml += "<RoleIDCode csd-code=\"" + XmlEscape(event.actorRole) +
           "\" codeSystemName=\"HospitalBridge\" originalText=\"" + XmlEscape(event.actorRole) + "\"/>";
  }
  xml += "</ActiveParticipant>";
  xml += "<AuditSourceIdentification AuditSourceID=\"" + XmlEscape(source.siteId) + "\">";
  xml += "<AuditSourceTypeCode csd-code=\"4\" codeSystemName=\"DCM\" originalText=\"Application Server\"/>";
  xml += "</AuditSourceIdentification>";
  if (!event.patientId.empty()) {
    xml += "<ParticipantObjectIdentification ParticipantObjectID=\"" + XmlEscape(event.patientId) +
           "\" ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\">"
           "<ParticipantObjectIDTypeCode csd-code=\"2\" codeSystemName=\"RFC-3881\" originalText=\"Patient "
           "Number\"/>"
           "</ParticipantObjectIdentification>";
  }
  if (!event.studyUid.empty()) {
    xml += "<ParticipantObjectIdentification ParticipantObjectID=\"" + XmlEscape(event.studyUid) +
           "\" ParticipantObjectTypeCode=\"2\" ParticipantObjectTypeCodeRole=\"3\">"
           "<ParticipantObjectIDTypeCode csd-code=\"110180\" codeSystemName=\"DCM\" originalText=\"Study "
           "Instance "
           "UID\"/></ParticipantObjectIdentification>";
  }
  xml += "</AuditMessage>";
  return xml;
}

std::string ToDicomAuditMessages(const std::vector<AuditEvent>& events, const AuditSource& source) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AuditMessages>\n";
  for (const AuditEvent& event : events) xml += ToDicomAuditMessage(event, source) + "\n";
  return xml + "</AuditMessages>\n";
}

}  // namespace HospitalBridge
