#include "Consent/ConsentRoutes.h"

#include "Common/AuditVocabulary.h"
#include "Common/Crypto.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/RequestChecks.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const RoleSet kStaff = RoleSet::Staff();
const size_t kMaxAttachmentBytes = 5 * 1024 * 1024;
// A 5 MB scan, base64-encoded inside the JSON, plus the other fields.
const size_t kMaxConsentBodyBytes = 7 * 1024 * 1024 + 64 * 1024;
const char kNationalIdSystem[] = "urn:hospitalbridge:national-id";

Patient RequirePatient(PatientStore& patients, const std::string& id) {
  std::optional<Patient> patient = patients.Find(id);
  if (!patient) throw DomainError::NotFound("No such patient", id);
  if (!patient->mergedInto.empty()) {
    throw DomainError::Conflict("This entry was merged", "use " + patient->mergedInto + " instead");
  }
  return *patient;
}

std::string Field(const Json::Value& body, const char* name, bool required, size_t maxLength = 64) {
  if (!body.isMember(name) || body[name].isNull()) {
    if (required) throw DomainError::Invalid(std::string("Missing field: ") + name, name);
    return "";
  }
  if (!body[name].isString() || body[name].asString().size() > maxLength) {
    throw DomainError::Invalid(std::string("Invalid field: ") + name,
                               std::string(name) + " must be a short text");
  }
  return body[name].asString();
}

std::string DateField(const Json::Value& body, const char* name) {
  std::string text = Field(body, name, false, 10);
  if (text.empty()) return "";
  std::string da;
  if (!Time::ParseDateParameter(text, da)) {
    throw DomainError::Invalid(std::string("Invalid field: ") + name,
                               std::string(name) + " must be YYYY-MM-DD");
  }
  return da;
}

Json::Value DecisionJson(const ConsentDecision& decision) {
  Json::Value json(Json::objectValue);
  json["decision"] = decision.permit ? "permit" : "deny";
  json["source"] = decision.source;
  json["record_id"] = static_cast<Json::Int64>(decision.recordId);
  json["valid_until"] = Time::DicomDateToIso(decision.validUntil);
  return json;
}

Json::Value Codeable(const char* system, const std::string& code, const std::string& display) {
  Json::Value coding(Json::objectValue);
  coding["system"] = system;
  coding["code"] = code;
  coding["display"] = display;
  Json::Value codeable(Json::objectValue);
  codeable["coding"].append(coding);
  codeable["text"] = display;
  return codeable;
}
}  // namespace

Json::Value FhirPatient(const Patient& patient, const std::string& siteId) {
  Json::Value fhir(Json::objectValue);
  fhir["resourceType"] = "Patient";
  fhir["id"] = patient.id;
  if (!patient.nationalId.empty()) {
    Json::Value identifier(Json::objectValue);
    identifier["use"] = "official";
    identifier["system"] = kNationalIdSystem;
    identifier["value"] = patient.nationalId;
    fhir["identifier"].append(identifier);
  }
  for (const PatientIdentifier& local : patient.identifiers) {
    Json::Value identifier(Json::objectValue);
    identifier["use"] = "usual";
    identifier["system"] = "urn:hospitalbridge:site:" + local.siteId + ":patient-id";
    identifier["value"] = local.localId;
    if (local.siteId == siteId) identifier["assigner"]["display"] = "this site";
    fhir["identifier"].append(identifier);
  }
  Json::Value name(Json::objectValue);
  name["family"] = patient.lastName;
  if (!patient.firstName.empty()) name["given"].append(patient.firstName);
  name["text"] = patient.DisplayName();
  fhir["name"].append(name);
  const std::string& sex = patient.sex;
  fhir["gender"] = sex == "M" ? "male" : sex == "F" ? "female" : sex == "O" ? "other" : "unknown";
  if (!patient.birthDate.empty()) fhir["birthDate"] = Time::DicomDateToIso(patient.birthDate);
  if (!patient.phone.empty()) {
    Json::Value telecom(Json::objectValue);
    telecom["system"] = "phone";
    telecom["value"] = patient.phone;
    fhir["telecom"].append(telecom);
  }
  return fhir;
}

Json::Value FhirConsent(const ConsentRecord& record, const Patient& patient, const std::string& siteName) {
  Json::Value fhir(Json::objectValue);
  fhir["resourceType"] = "Consent";
  fhir["id"] = std::to_string(record.id);
  fhir["status"] = "active";
  fhir["scope"] = Codeable("http://terminology.hl7.org/CodeSystem/consentscope",
                           record.kind == "research" ? "research" : "patient-privacy",
                           record.kind == "research" ? "Research" : "Privacy Consent");
  fhir["category"].append(Codeable("http://loinc.org", "59284-0", "Patient Consent"));
  fhir["patient"]["reference"] = "Patient/" + patient.id;
  fhir["dateTime"] = Time::FormatIsoUtc(record.recordedAt);
  fhir["organization"].append(Json::Value(Json::objectValue))["display"] = siteName;
  // ppc-1: a policy (or policyRule) says what was agreed to.
  Json::Value policy(Json::objectValue);
  policy["uri"] = "urn:hospitalbridge:consent:" + record.kind;
  fhir["policy"].append(policy);
  fhir["provision"]["type"] = record.decision == "permit" ? "permit" : "deny";
  if (!record.validFrom.empty())
    fhir["provision"]["period"]["start"] = Time::DicomDateToIso(record.validFrom);
  if (!record.validUntil.empty())
    fhir["provision"]["period"]["end"] = Time::DicomDateToIso(record.validUntil);
  fhir["provision"]["purpose"].append(Json::Value(Json::objectValue));
  fhir["provision"]["purpose"][0]["system"] = "urn:hospitalbridge:consent-kind";
  fhir["provision"]["purpose"][0]["code"] = record.kind;
  fhir["verification"].append(Json::Value(Json::objectValue));
  fhir["verification"][0]["verified"] = true;
  fhir["verification"][0]["verifiedWith"]["display"] = record.recordedBy + " (" + record.method + ")";
  return fhir;
}

void RegisterConsentRoutes(Router& router, ConsentRoutesContext c) {
  router.Add("GET", "/bridge/patients/{id}/consents", kStaff, [c](const RouteContext& ctx) {
    Patient patient = RequirePatient(c.patients, ctx.Param("id"));
    Json::Value answer(Json::objectValue);
    answer["patient_id"] = patient.id;
    for (ConsentKind kind : {ConsentKind::kShare, ConsentKind::kFederation, ConsentKind::kResearch}) {
      answer["current"][ConsentKindName(kind)] = DecisionJson(c.consents.Current(patient.id, kind));
    }
    answer["history"] = Json::Value(Json::arrayValue);
    for (const ConsentRecord& record : c.store.History(patient.id)) answer["history"].append(record.ToJson());
    return HttpResponse::Json(answer);
  });

  router.Add(
      "POST", "/bridge/patients/{id}/consents", kStaff,
      [c](const RouteContext& ctx) {
        Patient patient = RequirePatient(c.patients, ctx.Param("id"));
        Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
        RejectUnknownFields(body, {"kind", "decision", "method", "valid_from", "valid_until", "note",
                                   "attachment", "attachment_type"});
        ConsentRecord record;
        record.patientId = patient.id;
        record.kind = Field(body, "kind", true);
        ConsentKind kind;
        if (!ParseConsentKind(record.kind, kind)) {
          throw DomainError::Invalid("Invalid field: kind", "kind must be share, federation or research");
        }
        record.decision = Field(body, "decision", true);
        if (record.decision != "permit" && record.decision != "deny") {
          throw DomainError::Invalid("Invalid field: decision", "decision must be permit or deny");
        }
        record.method = Field(body, "method", true);
        if (record.method != "verbal" && record.method != "signed-form" && record.method != "attestation" &&
            record.method != "electronic") {
          throw DomainError::Invalid("Invalid field: method",
                                     "method must be verbal, signed-form, attestation or electronic");
        }
        record.validFrom = DateField(body, "valid_from");
        record.validUntil = DateField(body, "valid_until");
        if (!record.validFrom.empty() && !record.validUntil.empty() && record.validFrom > record.validUntil) {
          throw DomainError::Invalid("Invalid field: valid_until", "valid_until is before valid_from");
        }
        record.note = Field(body, "note", false, 1024);
        std::string attachment;
        if (body.isMember("attachment") && !body["attachment"].isNull()) {
          if (!body["attachment"].isString() ||
              !Crypto::Base64Decode(body["attachment"].asString(), attachment) || attachment.empty()) {
            throw DomainError::Invalid("Invalid field: attachment",
                                       "attachment must be the scan, base64-encoded");
          }
          if (attachment.size() > kMaxAttachmentBytes) {
            throw DomainError::TooLarge("The attachment is too large", "at most 5 MB");
          }
          record.attachmentType = Field(body, "attachment_type", false);
          if (record.attachmentType != "application/pdf" && record.attachmentType != "image/png" &&
              record.attachmentType != "image/jpeg") {
            throw DomainError::Invalid("Invalid field: attachment_type",
                                       "attachment_type must be application/pdf, image/png or image/jpeg");
          }
        }
        record.recordedBy = ctx.identity.username;
        ConsentRecord stored = c.consents.Record(record, attachment);

        AuditEvent event =
            MakeAuditEvent("consent.recorded", AuditActor::Of(ctx.identity, ctx.request.remoteIp));
        event.patientId = patient.id;
        event.detail["kind"] = stored.kind;
        event.detail["decision"] = stored.decision;
        event.detail["method"] = stored.method;
        event.detail["consent_id"] = static_cast<Json::Int64>(stored.id);
        c.audit.Record(event);
        return HttpResponse::Json(stored.ToJson());
      },
      kMaxConsentBodyBytes);

  router.Add(
      "GET", "/bridge/patients/{id}/consents/{consent}/attachment", kStaff, [c](const RouteContext& ctx) {
        if (!Text::IsDigits(ctx.Param("consent"), 1, 18)) throw DomainError::NotFound("No such attachment");
        HttpResponse response;
        std::string type;
        if (!c.store.Attachment(ctx.Param("id"), std::stoll(ctx.Param("consent")), response.body, type)) {
          throw DomainError::NotFound("No such attachment");
        }
        response.contentType = type;
        response.AddHeader("Content-Disposition",
                           "attachment; filename=\"consent-" + ctx.Param("consent") + "\"");
        return response;
      });

  router.Add("GET", "/bridge/patients/{id}/fhir", kStaff, [c](const RouteContext& ctx) {
    HttpResponse response =
        HttpResponse::Json(FhirPatient(RequirePatient(c.patients, ctx.Param("id")), c.site.siteId));
    response.contentType = "application/fhir+json; charset=utf-8";
    return response;
  });

  router.Add("GET", "/bridge/patients/{id}/consents/fhir", kStaff, [c](const RouteContext& ctx) {
    Patient patient = RequirePatient(c.patients, ctx.Param("id"));
    Json::Value bundle(Json::objectValue);
    bundle["resourceType"] = "Bundle";
    bundle["type"] = "collection";
    bundle["entry"] = Json::Value(Json::arrayValue);
    for (const ConsentRecord& record : c.store.History(patient.id)) {
      Json::Value entry(Json::objectValue);
      entry["fullUrl"] = "urn:hospitalbridge:consent:" + c.site.siteId + ":" + std::to_string(record.id);
      entry["resource"] = FhirConsent(record, patient, c.site.siteName);
      bundle["entry"].append(entry);
    }
    bundle["total"] = bundle["entry"].size();
    HttpResponse response = HttpResponse::Json(bundle);
    response.contentType = "application/fhir+json; charset=utf-8";
    return response;
  });
}

}  // namespace HospitalBridge
