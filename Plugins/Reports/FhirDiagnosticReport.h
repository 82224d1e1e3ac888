#pragma once
// The signed report as a FHIR R4 DiagnosticReport: status (preliminary,
// final, amended), basedOn the order's ServiceRequest, subject, the imaging
// study, the conclusion (the impression), the PDF as presentedForm and the
// content hash as an identifier. An amendment names the version it replaces.
#include <json/json.h>

#include <string>

#include "Common/Settings.h"
#include "Reports/Report.h"
#include "Reports/ReportTemplate.h"

namespace HospitalBridge {

struct DiagnosticReportInput {
  const SiteSettings& site;
  const Report& report;
  const ReportVersion& version;  // signed
  const ReportTemplate& reportTemplate;
  const std::string& pdf;            // the PDF's bytes
  const ReportVersion* predecessor;  // the signed version this one replaces, or null
};

Json::Value DiagnosticReportOf(const DiagnosticReportInput& input);

// The impression (the conclusion): the section "impression", else the last
// text section with something in it.
std::string ConclusionOf(const ReportTemplate& reportTemplate, const Json::Value& content);

// "urn:hospitalbridge:<site>:report" and the like: identifier systems of this site.
std::string ReportIdentifierSystem(const SiteSettings& site);

}  // namespace HospitalBridge
