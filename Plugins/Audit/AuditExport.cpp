#include "Audit/AuditExport.h"

#include "Common/AuditVocabulary.h"
#include "Common/Json.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kDcm[] = "http://dicom.nema.org/resources/ontology/DCM";

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
  const AuditAction meaning = AuditActionOf(event.action);
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
  const AuditAction meaning = AuditActionOf(event.action);
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
