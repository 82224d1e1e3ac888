#include "Router/FhirSenders.h"

#include <cctype>

#include "Common/Crypto.h"
#include "Common/Json.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kDcm[] = "http://dicom.nema.org/resources/ontology/DCM";
const char kReportSystem[] = "urn:hospitalbridge:report";

void SetIfNotEmpty(Json::Value& object, const char* key, const std::string& value) {
  const std::string trimmed = Text::Trim(value);
  if (!trimmed.empty()) object[key] = Text::ToValidUtf8(trimmed);
}

Json::Value Coding(const std::string& system, const std::string& code) {
  Json::Value coding(Json::objectValue);
  coding["system"] = system;
  coding["code"] = code;
  return coding;
}

Json::Value Reference(const std::string& reference) {
  Json::Value out(Json::objectValue);
  out["reference"] = reference;
  return out;
}

Json::Value AccessionIdentifier(const std::string& system, const std::string& accession) {
  Json::Value id(Json::objectValue);
  id["use"] = "usual";
  id["type"]["coding"].append(Coding("http://terminology.hl7.org/CodeSystem/v2-0203", "ACSN"));
  if (!system.empty()) id["system"] = system;
  id["value"] = accession;
  return id;
}

Json::Value StudyUidIdentifier(const std::string& studyUid) {
  Json::Value id(Json::objectValue);
  id["system"] = "urn:dicom:uid";
  id["value"] = "urn:oid:" + studyUid;
  return id;
}

bool IsDigitsOf(const std::string& text, size_t from, size_t count) {
  if (text.size() < from + count) return false;
  for (size_t i = from; i < from + count; i++) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

std::string ReasonOf(const DeliveryProblem& problem, const std::string& secret) {
  return Scrub(problem.what(), secret);
}
}  // namespace

std::string RoutedReport::ToPayload() const {
  Json::Value out(Json::objectValue);
  out["report_id"] = reportId;
  out["study_uid"] = studyUid;
  out["status"] = status;
  out["text"] = text;
  out["conclusion"] = conclusion;
  out["author"] = author;
  out["signed_at"] = static_cast<Json::Int64>(signedAt);
  if (!fhirResource.empty()) out["fhir"] = fhirResource;
  return JsonText::Write(out);
}

bool RoutedReport::FromPayload(const std::string& payload, RoutedReport& report) {
  Json::Value in;
  if (!JsonText::Parse(payload, in) || !in.isObject()) return false;
  report.reportId = in.get("report_id", "").asString();
  report.studyUid = in.get("study_uid", "").asString();
  report.status = in.get("status", "final").asString();
  report.text = in.get("text", "").asString();
  report.conclusion = in.get("conclusion", "").asString();
  report.author = in.get("author", "").asString();
  report.signedAt = in.get("signed_at", 0).asInt64();
  report.fhirResource = in.get("fhir", "").asString();
  return !report.reportId.empty();
}

std::string FhirDateTime(const std::string& da, const std::string& tm, const std::string& offset) {
  if (da.size() != 8 || !IsDigitsOf(da, 0, 8)) return "";
  const std::string date = da.substr(0, 4) + "-" + da.substr(4, 2) + "-" + da.substr(6, 2);
  if (!IsDigitsOf(tm, 0, 4)) return date;
  const std::string seconds = IsDigitsOf(tm, 4, 2) ? tm.substr(4, 2) : "00";
  return date + "T" + tm.substr(0, 2) + ":" + tm.substr(2, 2) + ":" + seconds + offset;
}

std::string SatusehatAccessionSystem(const std::string& organizationId) {
  return "http://sys-ids.kemkes.go.id/acsn/" + organizationId;
}

std::string SatusehatDiagnosticSystem(const std::string& organizationId) {
  return "http://sys-ids.kemkes.go.id/diagnostic/" + organizationId + "/rad";
}

Json::Value BuildImagingStudy(const StudyContent& study, const Json::Value& identifiers,
                              const Json::Value& subject, const Json::Value& basedOn,
                              const Json::Value& encounter, const std::string& offset) {
  Json::Value out(Json::objectValue);
  out["resourceType"] = "ImagingStudy";
  out["identifier"] = identifiers;
  out["status"] = "available";
  for (const std::string& modality : study.Modalities()) out["modality"].append(Coding(kDcm, modality));
  out["subject"] = subject;
  if (!encounter.isNull()) out["encounter"] = encounter;
  const std::string started = FhirDateTime(study.studyDate, study.studyTime, offset);
  if (!started.empty()) out["started"] = started;
  if (!basedOn.isNull()) out["basedOn"] = basedOn;
  out["numberOfSeries"] = static_cast<Json::UInt64>(study.series.size());
  out["numberOfInstances"] = static_cast<Json::UInt64>(study.InstanceCount());
  SetIfNotEmpty(out, "description", study.description);
  for (const SeriesContent& s : study.series) {
    Json::Value series(Json::objectValue);
    series["uid"] = s.seriesUid;
    if (s.number > 0) series["number"] = static_cast<Json::Int64>(s.number);
    series["modality"] = Coding(kDcm, s.modality.empty() ? "OT" : s.modality);
    SetIfNotEmpty(series, "description", s.description);
    series["numberOfInstances"] = static_cast<Json::UInt64>(s.instances.size());
    if (!Text::Trim(s.bodyPart).empty()) {
      Json::Value bodySite(Json::objectValue);
      bodySite["display"] = Text::ToValidUtf8(Text::Trim(s.bodyPart));
      series["bodySite"] = bodySite;
    }
    for (const InstanceContent& i : s.instances) {
      Json::Value instance(Json::objectValue);
      instance["uid"] = i.sopInstanceUid;
      instance["sopClass"] =
          Coding("urn:ietf:rfc:3986",
                 "urn:oid:" + (i.sopClassUid.empty() ? "1.2.840.10008.5.1.4.1.1.7" : i.sopClassUid));
      if (i.number > 0) instance["number"] = static_cast<Json::Int64>(i.number);
      series["instance"].append(instance);
    }
    out["series"].append(series);
  }
  return out;
}

Json::Value BuildDiagnosticReport(const RoutedReport& report, const Json::Value& identifier,
                                  const Json::Value& subject, const Json::Value& basedOn,
                                  const std::string& imagingStudyId, const std::string& description) {
  Json::Value out(Json::objectValue);
  out["resourceType"] = "DiagnosticReport";
  out["identifier"].append(identifier);
  if (!basedOn.isNull()) out["basedOn"] = basedOn;
  out["status"] = report.status == "amended" || report.status == "preliminary" ? report.status : "final";
  Json::Value category(Json::objectValue);
  Json::Value rad = Coding("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD");
  rad["display"] = "Radiology";
  category["coding"].append(rad);
  out["category"].append(category);
  Json::Value loinc = Coding("http://loinc.org", "18748-4");
  loinc["display"] = "Diagnostic imaging study";
  out["code"]["coding"].append(loinc);
  out["code"]["text"] =
      Text::Trim(description).empty() ? "Imaging report" : Text::ToValidUtf8(Text::Trim(description));
  out["subject"] = subject;
  if (report.signedAt > 0) out["issued"] = Time::FormatIsoUtc(report.signedAt);
  if (!imagingStudyId.empty()) out["imagingStudy"].append(Reference("ImagingStudy/" + imagingStudyId));
  SetIfNotEmpty(out, "conclusion", report.conclusion);
  if (!report.text.empty()) {
    Json::Value form(Json::objectValue);
    form["contentType"] = "text/plain; charset=utf-8";
    form["data"] = Crypto::Base64Encode(report.text);
    out["presentedForm"].append(form);
  }
  return out;
}

Json::Value DiagnosticReportForServer(Json::Value resource, const Json::Value& subject,
                                      const std::string& imagingStudyId) {
  resource.removeMember("id");
  if (!subject.isNull()) {
    Json::Value patient = subject;
    if (!patient.isMember("display") && resource["subject"]["display"].isString())
      patient["display"] = resource["subject"]["display"];
    resource["subject"] = patient;
  }
  if (resource["basedOn"].isArray()) {
    Json::Value basedOn(Json::arrayValue);
    for (Json::Value request : resource["basedOn"]) {
      if (!request.isObject()) continue;
      request.removeMember("reference");
      if (request.isMember("identifier")) basedOn.append(request);
    }
    if (basedOn.empty()) {
      resource.removeMember("basedOn");
    } else {
      resource["basedOn"] = basedOn;
    }
  }
  if (!imagingStudyId.empty()) {
    Json::Value study = Reference("ImagingStudy/" + imagingStudyId);
    study["type"] = "ImagingStudy";
    const Json::Value& local = resource["imagingStudy"];
    if (local.isArray() && !local.empty() && local[0]["identifier"].isObject())
      study["identifier"] = local[0]["identifier"];
    resource["imagingStudy"] = Json::Value(Json::arrayValue);
    resource["imagingStudy"].append(study);
  }
  return resource;
}

// --- FhirClient -------------------------------------------------------------

Json::Value FhirClient::Exchange(const std::string& method, const std::string& path, const std::string& body,
                                 const std::string& what) {
  HttpCall call;
  call.method = method;
  call.url = base_ + path;
  call.headers = {{"Accept", "application/fhir+json"}};
  if (!body.empty()) call.headers.emplace_back("Content-Type", "application/fhir+json");
  call.body = body;
  const HttpResult result = SendAuthenticated(http_, destination_, tokens_, std::move(call));
  if (!result.reached || result.status < 200 || result.status >= 300) {
    const DeliveryProblem problem = ProblemOf(result, destination_.name + " (" + what + ")");
    throw DeliveryProblem(problem.GetKind(), ReasonOf(problem, destination_.secret));
  }
  Json::Value answer;
  if (result.body.empty()) return Json::Value(Json::objectValue);
  if (!JsonText::Parse(result.body, answer) || !answer.isObject()) {
    throw DeliveryProblem::Fail(destination_.name + " (" + what + ") answered HTTP " +
                                std::to_string(result.status) +
                                " with no FHIR JSON: " + Scrub(FirstBytes(result.body), destination_.secret));
  }
  return answer;
}

Json::Value FhirClient::SearchFirst(const std::string& type, const std::string& query) {
  const Json::Value bundle = Exchange("GET", "/" + type + "?" + query, "", type + " search");
  if (bundle.get("resourceType", "").asString() != "Bundle") {
    throw DeliveryProblem::Fail(destination_.name + " answered a " + type + " search with no Bundle");
  }
  for (const Json::Value& entry : bundle["entry"]) {
    const Json::Value& resource = entry["resource"];
    if (resource.get("resourceType", "").asString() == type && resource["id"].isString()) return resource;
  }
  return Json::Value();
}

std::string FhirClient::Save(const std::string& type, Json::Value resource, const std::string& id) {
  if (!id.empty()) resource["id"] = id;
  const Json::Value answer =
      Exchange(id.empty() ? "POST" : "PUT", "/" + type + (id.empty() ? "" : "/" + id),
               JsonText::Write(resource), id.empty() ? type + " create" : type + " update");
  const std::string saved = answer.get("id", id).asString();
  if (saved.empty()) throw DeliveryProblem::Fail(destination_.name + " gave the new " + type + " no id");
  return saved;
}

// --- FHIR server ------------------------------------------------------------

namespace {
// The patient as this destination's ImagingStudy and DiagnosticReport name it.
Json::Value PatientOf(const RouterDestination& d, const StudyContent& study) {
  Json::Value subject(Json::objectValue);
  subject["identifier"]["system"] = d.patientSystem;
  subject["identifier"]["value"] = study.patientId.empty() ? "unknown" : study.patientId;
  SetIfNotEmpty(subject, "display", Text::PersonNameForDisplay(study.patientName));
  return subject;
}
}  // namespace

std::string FhirSender::Send(DeliveryAttempt& attempt) {
  const RouterDestination& d = attempt.destination;
  FhirClient fhir(http_, d, tokens_, d.url);
  const Delivery& delivery = attempt.delivery;
  if (delivery.trigger.rfind("report:", 0) == 0) {
    RoutedReport report;
    if (!RoutedReport::FromPayload(delivery.payload, report))
      throw DeliveryProblem::Fail("the report is unreadable");
    const StudyContent study = ReadStudyContent(orthanc_, delivery.orthancId, false);
    const Json::Value subject = PatientOf(d, study);
    const Json::Value imaging = fhir.SearchFirst(
        "ImagingStudy", "identifier=" + UrlEncodeComponent("urn:dicom:uid|urn:oid:" + study.studyUid));
    Json::Value resource;
    if (!report.fhirResource.empty()) {
      // The reports module's DiagnosticReport: found again by its first
      // identifier, and pointing at the ImagingStudy this server has.
      if (!JsonText::Parse(report.fhirResource, resource) || !resource.isObject() ||
          !resource["identifier"].isArray() || resource["identifier"].empty() ||
          !resource["identifier"][0]["system"].isString() || !resource["identifier"][0]["value"].isString())
        throw DeliveryProblem::Fail("the report's DiagnosticReport has no identifier");
      resource =
          DiagnosticReportForServer(resource, subject, imaging.isNull() ? "" : imaging["id"].asString());
      const Json::Value& first = resource["identifier"][0];
      const Json::Value existing = fhir.SearchFirst(
          "DiagnosticReport",
          "identifier=" + UrlEncodeComponent(first["system"].asString() + "|" + first["value"].asString()));
      const std::string id =
          fhir.Save("DiagnosticReport", resource, existing.isNull() ? "" : existing["id"].asString());
      attempt.queue.SetRemote(delivery.id, id, d.url + "/DiagnosticReport/" + id);
      return "DiagnosticReport " + id;
    }
    Json::Value identifier(Json::objectValue);
    identifier["system"] = kReportSystem;
    identifier["value"] = report.reportId;
    const Json::Value existing = fhir.SearchFirst(
        "DiagnosticReport",
        "identifier=" + UrlEncodeComponent(std::string(kReportSystem) + "|" + report.reportId));
    const std::string id =
        fhir.Save("DiagnosticReport",
                  BuildDiagnosticReport(report, identifier, subject, Json::Value(),
                                        imaging.isNull() ? "" : imaging["id"].asString(), study.description),
                  existing.isNull() ? "" : existing["id"].asString());
    attempt.queue.SetRemote(delivery.id, id, d.url + "/DiagnosticReport/" + id);
    return "DiagnosticReport " + id;
  }
  const StudyContent study = ReadStudyContent(orthanc_, delivery.orthancId, true);
  attempt.queue.SetReceived(delivery.id, static_cast<int64_t>(study.InstanceCount()));
  Json::Value identifiers(Json::arrayValue);
  identifiers.append(StudyUidIdentifier(study.studyUid));
  if (!study.accession.empty()) identifiers.append(AccessionIdentifier("", study.accession));
  const Json::Value subject = PatientOf(d, study);
  const Json::Value existing = fhir.SearchFirst(
      "ImagingStudy", "identifier=" + UrlEncodeComponent("urn:dicom:uid|urn:oid:" + study.studyUid));
  const std::string id = fhir.Save(
      "ImagingStudy", BuildImagingStudy(study, identifiers, subject, Json::Value(), Json::Value(), offset_),
      existing.isNull() ? "" : existing["id"].asString());
  attempt.queue.SetRemote(delivery.id, id, d.url + "/ImagingStudy/" + id);
  std::vector<std::string> described;
  for (const InstanceContent* i : study.Missing(attempt.sent)) described.push_back(i->sopInstanceUid);
  if (!described.empty()) attempt.Confirm(described);
  return "ImagingStudy " + id + " with " + std::to_string(study.InstanceCount()) + " instances";
}

// --- SATUSEHAT --------------------------------------------------------------

std::string SatusehatSender::Send(DeliveryAttempt& attempt) {
  const RouterDestination& d = attempt.destination;
  const Delivery& delivery = attempt.delivery;
  const StudyContent study = ReadStudyContent(orthanc_, delivery.orthancId, delivery.trigger == "study");
  attempt.queue.SetReceived(delivery.id, static_cast<int64_t>(study.InstanceCount()));
  const std::string accession = Text::Trim(study.accession);
  if (accession.empty()) throw DeliveryProblem::Wait("no accession number");
  FhirClient fhir(http_, d, &tokens_, d.url + "/fhir-r4/v1");
  const std::string system = SatusehatAccessionSystem(d.organizationId);
  const std::string byAccession = "identifier=" + UrlEncodeComponent(system + "|" + accession);
  const Json::Value serviceRequest = fhir.SearchFirst("ServiceRequest", byAccession);
  if (serviceRequest.isNull())
    throw DeliveryProblem::Wait("ServiceRequest not found for accession " + accession);
  if (delivery.trigger.rfind("report:", 0) == 0) return SendReport(attempt, fhir, serviceRequest);

  Json::Value identifiers(Json::arrayValue);
  identifiers.append(AccessionIdentifier(system, accession));
  identifiers.append(StudyUidIdentifier(study.studyUid));
  Json::Value basedOn(Json::arrayValue);
  basedOn.append(Reference("ServiceRequest/" + serviceRequest["id"].asString()));
  const Json::Value& subject = serviceRequest["subject"];
  if (!subject.isObject() || !subject["reference"].isString())
    throw DeliveryProblem::Wait("the ServiceRequest of accession " + accession + " names no patient");
  const Json::Value encounter =
      serviceRequest["encounter"].isObject() ? serviceRequest["encounter"] : Json::Value();
  // Never a second ImagingStudy for one accession: the one there is updated.
  const Json::Value existing = fhir.SearchFirst("ImagingStudy", byAccession);
  const std::string id =
      fhir.Save("ImagingStudy", BuildImagingStudy(study, identifiers, subject, basedOn, encounter, offset_),
                existing.isNull() ? "" : existing["id"].asString());
  attempt.queue.SetRemote(delivery.id, id, fhir.Base() + "/ImagingStudy/" + id);

  size_t already = 0;
  for (const InstanceContent* instance : study.Missing(attempt.sent)) {
    attempt.CheckStopping();
    HttpCall call;
    call.method = "POST";
    call.url = d.url + "/dicom/v1/dicomWeb/studies";
    call.headers = {
        {"Content-Type", "application/dicom"}, {"Accept", "application/json"}, {"X-ImagingStudy-ID", id}};
    call.body = ReadInstanceFile(orthanc_, *instance);
    const HttpResult result = SendAuthenticated(http_, d, &tokens_, std::move(call));
    std::string lower = result.body;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool exists = result.reached && result.status >= 400 && result.status < 500 &&
                        lower.find("already exist") != std::string::npos;
    if (!exists && (!result.reached || result.status < 200 || result.status >= 300)) {
      const DeliveryProblem problem =
          ProblemOf(result, d.name + " (instance " + instance->sopInstanceUid + ")");
      throw DeliveryProblem(problem.GetKind(), ReasonOf(problem, d.secret));
    }
    if (exists) already++;
    attempt.Confirm({instance->sopInstanceUid});
  }
  return "ImagingStudy " + id + ", " + std::to_string(study.InstanceCount()) + " instances" +
         (already > 0 ? " (" + std::to_string(already) + " were there already)" : "");
}

std::string SatusehatSender::SendReport(DeliveryAttempt& attempt, FhirClient& fhir,
                                        const Json::Value& serviceRequest) {
  const RouterDestination& d = attempt.destination;
  RoutedReport report;
  if (!RoutedReport::FromPayload(attempt.delivery.payload, report))
    throw DeliveryProblem::Fail("the report is unreadable");
  const std::string accession = Text::Trim(attempt.delivery.accession);
  const std::string system = SatusehatAccessionSystem(d.organizationId);
  const Json::Value imaging =
      fhir.SearchFirst("ImagingStudy", "identifier=" + UrlEncodeComponent(system + "|" + accession));
  if (imaging.isNull())
    throw DeliveryProblem::Wait("the ImagingStudy of accession " + accession + " is not there yet");
  // SATUSEHAT's documented DiagnosticReport: an official identifier of the
  // organization's system, and the ServiceRequest's code as its code.
  Json::Value identifier(Json::objectValue);
  identifier["system"] = SatusehatDiagnosticSystem(d.organizationId);
  identifier["use"] = "official";
  identifier["value"] = report.reportId;
  Json::Value basedOn(Json::arrayValue);
  basedOn.append(Reference("ServiceRequest/" + serviceRequest["id"].asString()));
  const Json::Value existing = fhir.SearchFirst(
      "DiagnosticReport",
      "identifier=" + UrlEncodeComponent(identifier["system"].asString() + "|" + report.reportId));
  Json::Value resource = BuildDiagnosticReport(report, identifier, serviceRequest["subject"], basedOn,
                                               imaging["id"].asString(), "");
  const Json::Value& code = serviceRequest["code"];
  if (code.isObject() && code["coding"].isArray() && !code["coding"].empty()) resource["code"] = code;
  // The signed PDF of the reports module's DiagnosticReport, when it has one.
  Json::Value local;
  if (!resource.isMember("presentedForm") && !report.fhirResource.empty() &&
      JsonText::Parse(report.fhirResource, local) && local.isObject() && local["presentedForm"].isArray()) {
    resource["presentedForm"] = local["presentedForm"];
  }
  const std::string id =
      fhir.Save("DiagnosticReport", resource, existing.isNull() ? "" : existing["id"].asString());
  attempt.queue.SetRemote(attempt.delivery.id, id, fhir.Base() + "/DiagnosticReport/" + id);
  return "DiagnosticReport " + id;
}

}  // namespace HospitalBridge
