#include "Orders/FhirServiceRequest.h"

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Orders/WorklistMatching.h"

namespace HospitalBridge {
namespace {
const char kTypeSystem[] = "http://terminology.hl7.org/CodeSystem/v2-0203";
const char kDicomUidSystem[] = "urn:dicom:uid";

DomainError Missing(const std::string& element, const std::string& what) {
  return DomainError::Invalid("Invalid ServiceRequest: " + element, element + ": " + what);
}

std::string String(const Json::Value& value) { return value.isString() ? value.asString() : ""; }

bool HasType(const Json::Value& identifier, const std::string& code) {
  for (const Json::Value& coding : identifier["type"]["coding"]) {
    if (String(coding["code"]) == code) return true;
  }
  return false;
}

// The value of the first identifier whose system matches, or whose type is `typeCode`.
std::string FindIdentifier(const Json::Value& identifiers, const std::vector<std::string>& systems,
                           const std::string& typeCode) {
  if (!identifiers.isArray()) return "";
  for (const Json::Value& identifier : identifiers) {
    if (!identifier.isObject()) continue;
    const std::string value = Text::Trim(String(identifier["value"]));
    if (value.empty()) continue;
    if (SystemMatches(systems, String(identifier["system"]))) return value;
    if (!typeCode.empty() && HasType(identifier, typeCode)) return value;
  }
  return "";
}

std::string Joined(const std::vector<std::string>& patterns) {
  std::string text;
  for (const std::string& p : patterns) text += (text.empty() ? "" : ", ") + p;
  return text;
}

// A coding of `concept` (a CodeableConcept) or of any orderDetail whose
// system matches; `useDisplay` falls back on the display.
std::string FindCoding(const Json::Value& resource, const std::vector<std::string>& systems,
                       bool useDisplay) {
  std::vector<const Json::Value*> concepts = {&resource["code"]};
  for (const Json::Value& detail : resource["orderDetail"]) concepts.push_back(&detail);
  for (const Json::Value* concept_ : concepts) {
    if (!concept_->isObject()) continue;
    for (const Json::Value& coding : (*concept_)["coding"]) {
      if (!coding.isObject() || !SystemMatches(systems, String(coding["system"]))) continue;
      std::string value = Text::Trim(String(coding["code"]));
      if (value.empty() && useDisplay) value = Text::Trim(String(coding["display"]));
      if (!value.empty()) return value;
    }
  }
  return "";
}

std::string SchemeOf(const std::string& system) {
  if (system == "http://loinc.org") return "LN";
  if (system == "http://snomed.info/sct") return "SCT";
  if (system == "http://dicom.nema.org/resources/ontology/DCM") return "DCM";
  if (system.find("radlex") != std::string::npos) return "RADLEX";
  return "L";  // local
}

std::string PersonName(const Json::Value& names) {
  if (!names.isArray() || names.empty()) return "";
  const Json::Value& name = names[0];
  std::string family = Text::Trim(String(name["family"]));
  std::string given;
  for (const Json::Value& part : name["given"])
    given += (given.empty() ? "" : " ") + Text::Trim(String(part));
  if (family.empty() && given.empty()) return Text::Trim(String(name["text"]));
  return family + (given.empty() ? "" : "^" + given);
}

const Json::Value* ContainedPatient(const Json::Value& resource) {
  const std::string reference = String(resource["subject"]["reference"]);
  if (reference.empty()) throw Missing("ServiceRequest.subject", "a reference to the patient is required");
  if (reference[0] != '#') {
    throw Missing("ServiceRequest.subject",
                  "must name a contained Patient (\"#id\"), got \"" + reference + "\"");
  }
  for (const Json::Value& contained : resource["contained"]) {
    if (String(contained["resourceType"]) == "Patient" && "#" + String(contained["id"]) == reference) {
      return &contained;
    }
  }
  throw Missing("ServiceRequest.contained",
                "no Patient with id \"" + reference.substr(1) + "\" as subject.reference names");
}

std::string FhirStatusOf(const std::string& status) {
  if (status == OrderStatus::kCompleted || status == OrderStatus::kReported) return "completed";
  if (OrderStatus::IsClosed(status)) return "revoked";
  return "active";
}

Json::Value Identifier(const std::string& system, const std::string& value) {
  Json::Value identifier(Json::objectValue);
  identifier["system"] = system;
  identifier["value"] = value;
  return identifier;
}
}  // namespace

bool SystemMatches(const std::vector<std::string>& patterns, const std::string& system) {
  if (system.empty()) return false;
  for (const std::string& pattern : patterns) {
    if (WildcardMatch(pattern, system)) return true;
  }
  return false;
}

OrderDraft DraftFromServiceRequest(const Json::Value& resource, const FhirSettings& settings) {
  if (String(resource["resourceType"]) != "ServiceRequest") {
    throw Missing("resourceType", "must be \"ServiceRequest\"");
  }
  const std::string status = String(resource["status"]);
  if (!status.empty() && status != "active" && status != "draft" && status != "on-hold") {
    throw Missing("ServiceRequest.status", "an order to schedule is \"active\", got \"" + status + "\"");
  }
  OrderDraft draft;
  draft.source = "fhir";
  draft.fhirResource = JsonText::Write(resource);
  const Json::Value& patient = *ContainedPatient(resource);
  const std::string patientId = FindIdentifier(patient["identifier"], settings.patientIdSystems, "MR");
  if (patientId.empty()) {
    throw Missing("Patient.identifier",
                  "no medical record number (system " + Joined(settings.patientIdSystems) + ", or type MR)");
  }
  draft.patientId = patientId;
  draft.nationalId = FindIdentifier(patient["identifier"], settings.nationalIdSystems, "NI");
  const std::string name = PersonName(patient["name"]);
  if (name.empty()) throw Missing("Patient.name", "the patient's name is required");
  draft.patientName = name;
  if (patient["birthDate"].isString()) draft.birthDate = patient["birthDate"].asString();
  const std::string gender = String(patient["gender"]);
  draft.sex = gender == "male" ? "M" : gender == "female" ? "F" : gender == "other" ? "O" : "";

  const std::string accession = FindIdentifier(resource["identifier"], settings.accessionSystems, "ACSN");
  if (accession.empty()) {
    throw Missing("ServiceRequest.identifier",
                  "no accession number (system " + Joined(settings.accessionSystems) + ", or type ACSN)");
  }
  draft.accession = accession;
  draft.placerId = FindIdentifier(resource["identifier"], settings.placerSystems, "PLAC");

  const std::string modality = FindCoding(resource, settings.modalitySystems, false);
  if (modality.empty()) {
    throw Missing("ServiceRequest.orderDetail",
                  "no modality (a coding of system " + Joined(settings.modalitySystems) + ")");
  }
  draft.modality = modality;
  const std::string station = FindCoding(resource, settings.stationAetSystems, true);
  if (!station.empty()) draft.stationAet = station;

  const Json::Value& code = resource["code"];
  for (const Json::Value& coding : code["coding"]) {
    const std::string system = String(coding["system"]);
    if (SystemMatches(settings.modalitySystems, system) || String(coding["code"]).empty()) continue;
    draft.procedureCode = String(coding["code"]);
    draft.procedureScheme = SchemeOf(system);
    draft.procedureDescription = String(coding["display"]);
    break;
  }
  if (!String(code["text"]).empty()) draft.procedureDescription = String(code["text"]);
  if (draft.procedureDescription) draft.procedureDescription = draft.procedureDescription->substr(0, 64);

  if (resource["occurrenceDateTime"].isString()) {
    draft.scheduledStart = resource["occurrenceDateTime"].asString();
  } else if (resource["occurrencePeriod"]["start"].isString()) {
    draft.scheduledStart = resource["occurrencePeriod"]["start"].asString();
  }
  const std::string priority = String(resource["priority"]);
  if (!priority.empty()) {
    if (priority == "routine" || priority == "urgent" || priority == "stat") {
      draft.priority = priority;
    } else if (priority == "asap") {
      draft.priority = "urgent";
    } else {
      throw Missing("ServiceRequest.priority", "must be routine, urgent, asap or stat");
    }
  }
  const std::string requester = Text::Trim(String(resource["requester"]["display"]));
  if (!requester.empty()) draft.referringPhysician = requester.substr(0, 64);
  for (const Json::Value& reason : resource["reasonCode"]) {
    std::string text = String(reason["text"]);
    if (text.empty() && reason["coding"].isArray() && !reason["coding"].empty()) {
      text = String(reason["coding"][0]["display"]);
    }
    if (!text.empty()) {
      draft.reason = text.substr(0, 64);
      break;
    }
  }
  std::string notes;
  for (const Json::Value& note : resource["note"]) {
    const std::string text = String(note["text"]);
    if (!text.empty()) notes += (notes.empty() ? "" : "\n") + text;
  }
  if (!notes.empty()) draft.notes = notes;
  for (const Json::Value& location : resource["locationCode"]) {
    if (!String(location["text"]).empty()) {
      draft.location = String(location["text"]).substr(0, 16);
      break;
    }
  }
  return draft;
}

Json::Value ServiceRequestOf(const Order& order, const FhirSettings& settings) {
  Json::Value resource;
  if (order.fhirResource.empty() || !JsonText::Parse(order.fhirResource, resource) || !resource.isObject()) {
    resource = Json::Value(Json::objectValue);
    resource["resourceType"] = "ServiceRequest";
    resource["intent"] = "order";
    Json::Value patient(Json::objectValue);
    patient["resourceType"] = "Patient";
    patient["id"] = "patient";
    patient["identifier"].append(Identifier(
        settings.patientIdSystems.empty() ? "urn:hospitalbridge:mrn" : settings.patientIdSystems.front(),
        order.patientId));
    if (!order.nationalId.empty() && !settings.nationalIdSystems.empty()) {
      patient["identifier"].append(Identifier(settings.nationalIdSystems.front(), order.nationalId));
    }
    const size_t caret = order.patientName.find('^');
    Json::Value name(Json::objectValue);
    name["family"] = order.patientName.substr(0, caret);
    if (caret != std::string::npos) name["given"].append(order.patientName.substr(caret + 1));
    patient["name"].append(name);
    if (!order.birthDate.empty()) patient["birthDate"] = Time::DicomDateToIso(order.birthDate);
    if (!order.sex.empty())
      patient["gender"] = order.sex == "M" ? "male" : order.sex == "F" ? "female" : "other";
    resource["contained"].append(patient);
    resource["subject"]["reference"] = "#patient";
    Json::Value accession = Identifier("urn:hospitalbridge:accession", order.accession);
    accession["type"]["coding"][0]["system"] = kTypeSystem;
    accession["type"]["coding"][0]["code"] = "ACSN";
    resource["identifier"].append(accession);
    Json::Value coding(Json::objectValue);
    coding["system"] = "http://dicom.nema.org/resources/ontology/DCM";
    coding["code"] = order.modality;
    resource["orderDetail"][0]["coding"].append(coding);
    if (!order.stationAet.empty() && !settings.stationAetSystems.empty()) {
      Json::Value station(Json::objectValue);
      station["system"] = settings.stationAetSystems.front();
      station["code"] = order.stationAet;
      resource["orderDetail"][1]["coding"].append(station);
    }
    if (!order.procedureDescription.empty()) resource["code"]["text"] = order.procedureDescription;
    resource["priority"] = order.priority;
    resource["occurrenceDateTime"] = order.ScheduledStart();
    if (!order.referringPhysician.empty()) resource["requester"]["display"] = order.referringPhysician;
  }
  resource["id"] = std::to_string(order.id);
  resource["status"] = FhirStatusOf(order.status);
  Json::Value identifiers(Json::arrayValue);
  for (const Json::Value& identifier : resource["identifier"]) {
    if (String(identifier["system"]) != kDicomUidSystem) identifiers.append(identifier);
  }
  Json::Value uid = Identifier(kDicomUidSystem, "urn:oid:" + order.studyUid);
  uid["use"] = "secondary";
  identifiers.append(uid);
  resource["identifier"] = identifiers;
  return resource;
}

}  // namespace HospitalBridge
