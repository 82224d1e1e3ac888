#include "Reports/FhirDiagnosticReport.h"

#include "Common/Crypto.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {

std::string ReportIdentifierSystem(const SiteSettings& site) {
  return "urn:hospitalbridge:" + site.siteId + ":report";
}

std::string ConclusionOf(const ReportTemplate& reportTemplate, const Json::Value& content) {
  const Json::Value& sections = content["sections"];
  if (reportTemplate.Find("impression") != nullptr) {
    const std::string impression = Text::Trim(SectionText(sections["impression"]));
    if (!impression.empty()) return impression;
  }
  std::string last;
  for (const TemplateSection& section : reportTemplate.sections) {
    if (section.type != "text") continue;
    const std::string text = Text::Trim(SectionText(sections[section.id]));
    if (!text.empty()) last = text;
  }
  return last;
}

namespace {

// The study's date: DICOM's local time has no zone, and a FHIR dateTime
// with a time needs one, so the date alone.
std::string EffectiveDateTime(const Report& report) { return Time::DicomDateToIso(report.studyDate); }

Json::Value Identifier(const std::string& system, const std::string& value) {
  Json::Value identifier(Json::objectValue);
  identifier["system"] = system;
  identifier["value"] = value;
  return identifier;
}

}  // namespace

Json::Value DiagnosticReportOf(const DiagnosticReportInput& input) {
  const Report& report = input.report;
  const ReportVersion& version = input.version;
  Json::Value resource(Json::objectValue);
  resource["resourceType"] = "DiagnosticReport";
  resource["id"] = "hb-" + input.site.siteId + "-report-" + std::to_string(report.id) + "-v" +
                   std::to_string(version.version);
  resource["meta"]["lastUpdated"] = Time::FormatIsoUtc(version.signedAt);
  resource["language"] = "en";

  resource["identifier"] = Json::Value(Json::arrayValue);
  Json::Value reportId = Identifier(ReportIdentifierSystem(input.site), std::to_string(report.id));
  reportId["use"] = "official";
  resource["identifier"].append(reportId);
  Json::Value hashId = Identifier("urn:hospitalbridge:report-content-sha256", version.contentHash);
  hashId["use"] = "secondary";
  resource["identifier"].append(hashId);

  // The order: its ServiceRequest when the orders module knows it, else the
  // accession number, which names the request too.
  if (!report.orderRef.empty() || !report.accession.empty()) {
    Json::Value basedOn(Json::objectValue);
    if (!report.orderRef.empty()) basedOn["reference"] = "ServiceRequest/" + report.orderRef;
    basedOn["type"] = "ServiceRequest";
    if (!report.accession.empty()) {
      Json::Value identifier =
          Identifier("urn:hospitalbridge:" + input.site.siteId + ":accession", report.accession);
      identifier["type"]["coding"][0]["system"] = "http://terminology.hl7.org/CodeSystem/v2-0203";
      identifier["type"]["coding"][0]["code"] = "ACSN";
      basedOn["identifier"] = identifier;
    }
    resource["basedOn"].append(basedOn);
  }

  resource["status"] = version.signedStatus;  // preliminary | final | amended
  Json::Value category(Json::objectValue);
  category["coding"][0]["system"] = "http://terminology.hl7.org/CodeSystem/v2-0074";
  category["coding"][0]["code"] = "RAD";
  category["coding"][0]["display"] = "Radiology";
  resource["category"].append(category);
  resource["code"]["coding"][0]["system"] = "http://loinc.org";
  resource["code"]["coding"][0]["code"] = "18748-4";
  resource["code"]["coding"][0]["display"] = "Diagnostic imaging study";
  resource["code"]["text"] = input.reportTemplate.name;

  Json::Value subject(Json::objectValue);
  subject["type"] = "Patient";
  subject["identifier"] =
      Identifier("urn:hospitalbridge:" + input.site.siteId + ":patient-id", report.patientId);
  const std::string name = Text::PersonNameForDisplay(report.patientName);
  if (!name.empty()) subject["display"] = name;
  resource["subject"] = subject;

  const std::string effective = EffectiveDateTime(report);
  if (!effective.empty()) resource["effectiveDateTime"] = effective;
  resource["issued"] = Time::FormatIsoUtc(version.signedAt);
  Json::Value interpreter(Json::objectValue);
  interpreter["display"] = version.signedBy + " (" + version.signedRole + ")";
  resource["resultsInterpreter"].append(interpreter);
  Json::Value performer(Json::objectValue);
  performer["display"] = input.site.siteName;
  resource["performer"].append(performer);

  Json::Value study(Json::objectValue);
  study["type"] = "ImagingStudy";
  study["identifier"] = Identifier("urn:dicom:uid", "urn:oid:" + report.studyUid);
  resource["imagingStudy"].append(study);

  const std::string conclusion = ConclusionOf(input.reportTemplate, version.content);
  if (!conclusion.empty()) resource["conclusion"] = conclusion;

  Json::Value form(Json::objectValue);
  form["contentType"] = "application/pdf";
  form["language"] = "en";
  form["data"] = Crypto::Base64Encode(input.pdf);
  form["size"] = static_cast<Json::UInt>(input.pdf.size());
  form["title"] = input.reportTemplate.name + " report (SHA-256 " + version.contentHash + ")";
  form["creation"] = Time::FormatIsoUtc(version.signedAt);
  resource["presentedForm"].append(form);

  if (input.predecessor != nullptr) {
    // R4 has no "replaces" on DiagnosticReport: an extension names the
    // version this one amends, by its identifier and hash.
    Json::Value extension(Json::objectValue);
    extension["url"] = "urn:hospitalbridge:fhir:extension:replaces";
    extension["valueIdentifier"] =
        Identifier("urn:hospitalbridge:report-content-sha256", input.predecessor->contentHash);
    resource["extension"].append(extension);
    resource["text"]["status"] = "generated";
    resource["text"]["div"] = "<div xmlns=\"http://www.w3.org/1999/xhtml\">Amended report: version " +
                              std::to_string(version.version) + " replaces version " +
                              std::to_string(input.predecessor->version) + ".</div>";
  }
  return resource;
}

}  // namespace HospitalBridge
