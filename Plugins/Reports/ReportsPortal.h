#pragma once
// The report as the patient's portal shows it (Share/PortalReports.h): the
// newest final or amended version, once Reports.ReleaseToPatientsAfterHours
// have passed since the first final signature (never when -1), with its
// impression, a note when it was amended, the plain-language glossary of the
// terms it uses, and its PDF.
#include "Reports/ReportService.h"
#include "Share/PortalReports.h"

namespace HospitalBridge {

class ReportsPortal : public IPortalReports {
 public:
  explicit ReportsPortal(ReportService& service) : service_(service) {}

  Json::Value ReportOf(const std::string& studyOrthancId) override;
  bool PdfOf(const std::string& studyOrthancId, std::string& pdf) override;

  // The version the patient may see now; nothing before release.
  std::optional<ReportVersion> Released(const Report& report);

 private:
  ReportService& service_;
};

}  // namespace HospitalBridge
