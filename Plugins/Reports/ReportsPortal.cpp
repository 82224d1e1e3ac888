#include "Reports/ReportsPortal.h"

#include "Common/Text.h"
#include "Common/Time.h"
#include "Reports/FhirDiagnosticReport.h"
#include "Reports/ReportGlossary.h"

namespace HospitalBridge {

std::optional<ReportVersion> ReportsPortal::Released(const Report& report) {
  const int hours = service_.Settings().releaseToPatientsAfterHours;
  if (hours < 0 || report.finalAt == 0 || report.studyGone) return std::nullopt;
  if (service_.Clock().NowSeconds() < report.finalAt + int64_t{hours} * 3600) return std::nullopt;
  for (int n = report.signedVersion; n >= 1; n--) {
    std::optional<ReportVersion> version = service_.Store().FindVersion(report.id, n);
    if (version && ReportStatus::IsFinal(version->signedStatus)) return version;
  }
  return std::nullopt;
}

Json::Value ReportsPortal::ReportOf(const std::string& studyOrthancId) {
  std::optional<Report> report = service_.Store().FindByOrthancId(studyOrthancId);
  if (!report) return Json::Value();
  std::optional<ReportVersion> version = Released(*report);
  if (!version) return Json::Value();
  const ReportTemplate reportTemplate = service_.TemplateOf(*version);
  Json::Value answer(Json::objectValue);
  answer["status"] = version->signedStatus;
  answer["title"] = reportTemplate.name;
  answer["signed_at"] = Time::FormatIsoUtc(version->signedAt);
  answer["version"] = version->version;
  answer["impression"] = ConclusionOf(reportTemplate, version->content);
  answer["amended"] = version->kind == "addendum";
  if (version->kind == "addendum") {
    answer["addendum"] = version->content.get("addendum", "").asString();
    answer["note"] = "This report was amended on " + Time::FormatIsoUtc(version->signedAt).substr(0, 10) +
                     ". This version replaces the earlier one.";
  }
  std::string text = answer["impression"].asString() + "\n" + answer.get("addendum", "").asString();
  const Json::Value& sections = version->content["sections"];
  if (sections.isObject() && sections.isMember("findings")) text += "\n" + SectionText(sections["findings"]);
  answer["glossary"] = Json::Value(Json::arrayValue);
  for (const GlossaryTerm& term : TermsIn(text + " impression")) {
    Json::Value entry(Json::objectValue);
    entry["term"] = term.term;
    entry["meaning"] = term.meaning;
    answer["glossary"].append(entry);
  }
  return answer;
}

bool ReportsPortal::PdfOf(const std::string& studyOrthancId, std::string& pdf) {
  std::optional<Report> report = service_.Store().FindByOrthancId(studyOrthancId);
  if (!report) return false;
  std::optional<ReportVersion> version = Released(*report);
  return version && service_.Store().Pdf(report->id, version->version, pdf);
}

}  // namespace HospitalBridge
