#include "Reports/ReportsSettings.h"

#include <algorithm>

#include "Common/Text.h"

namespace HospitalBridge {

int64_t ReportsSettings::TurnaroundSeconds(const std::string& priority) const {
  if (priority == "stat") return int64_t{statMinutes} * 60;
  if (priority == "urgent") return int64_t{urgentMinutes} * 60;
  return int64_t{routineMinutes} * 60;
}

int ReportsSettings::EffectiveMaxWaiting() const {
  if (maxWaiting > 0) return maxWaiting;
  return std::max(1, httpThreads / 4);
}

ReportsSettings ReadReportsSettings(const SettingsReader& read) {
  ReportsSettings reports;
  reports.enabled = read.ModuleEnabled("Reports");
  reports.queueOrderedStudies = read.Bool("Reports.Queue.FromOrders");
  reports.queueModalities = read.StringList("Reports.Queue.Modalities");
  for (const std::string& modality : reports.queueModalities) {
    if (!Text::IsIdentifier(modality, "", 1, 16)) {
      SettingsReader::Invalid("Reports.Queue.Modalities",
                              "\"" + modality + "\" is not a DICOM modality code");
    }
  }
  reports.statMinutes = read.Int("Reports.TurnaroundMinutes.Stat", 1, 525600);
  reports.urgentMinutes = read.Int("Reports.TurnaroundMinutes.Urgent", 1, 525600);
  reports.routineMinutes = read.Int("Reports.TurnaroundMinutes.Routine", 1, 525600);
  reports.residents = read.StringList("Reports.Residents");
  reports.leadRadiologists = read.StringList("Reports.LeadRadiologists");
  for (const char* path : {"Reports.Residents", "Reports.LeadRadiologists"}) {
    for (const std::string& name : read.StringList(path)) {
      if (!Text::IsUserName(name)) SettingsReader::Invalid(path, "\"" + name + "\" is not a user name");
    }
  }
  reports.releaseToPatientsAfterHours = read.Int("Reports.ReleaseToPatientsAfterHours", -1, 87600);
  reports.paper = read.Choice("Reports.Pdf.Paper", {"A4", "Letter"});
  reports.maxPages = read.Int("Reports.Pdf.MaxPages", 1, 200);
  reports.basicTextSr = read.Bool("Reports.BasicTextSr");
  reports.waitSeconds = read.Int("Reports.LiveUpdates.WaitSeconds", 1, 120);
  reports.maxWaiting = read.Int("Reports.LiveUpdates.MaxWaiting", 0, 1000);
  const Json::Value& threads = read.Orthanc()["HttpThreadsCount"];
  reports.httpThreads = threads.isInt() && threads.asInt() > 0 ? threads.asInt() : 50;
  if (reports.maxWaiting >= reports.httpThreads) {
    SettingsReader::Invalid("Reports.LiveUpdates.MaxWaiting",
                            "must be below Orthanc's HttpThreadsCount (" +
                                std::to_string(reports.httpThreads) +
                                "): waiting requests would hold every HTTP thread");
  }
  return reports;
}

}  // namespace HospitalBridge
