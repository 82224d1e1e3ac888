#pragma once
// What the patient's portal shows of a study's report. Reporting sits on a
// floor above the share links, so it offers the portal this interface and
// the composition root plugs it in (ShareModule::SetPortalReports); without
// it the portal shows no report.
#include <json/json.h>

#include <atomic>
#include <string>

namespace HospitalBridge {

class IPortalReports {
 public:
  virtual ~IPortalReports() = default;
  // The study's report as the patient may see it now (final, released),
  // e.g. {"status", "signed_at", "impression", "note", "glossary", "pdf"};
  // null when there is none to show.
  virtual Json::Value ReportOf(const std::string& studyOrthancId) = 0;
  // That report's PDF; false when there is none to show.
  virtual bool PdfOf(const std::string& studyOrthancId, std::string& pdf) = 0;
};

// The portal's hold on the reports, set once the module above exists.
class PortalReportsSlot {
 public:
  void Set(IPortalReports* reports) { reports_.store(reports); }
  IPortalReports* Get() const { return reports_.load(); }

 private:
  std::atomic<IPortalReports*> reports_{nullptr};
};

}  // namespace HospitalBridge
