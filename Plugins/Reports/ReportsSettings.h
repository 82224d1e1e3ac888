#pragma once
// The reporting module's settings (HospitalBridge.Reports and
// Modules.Reports): which studies need a report, the turnaround target of
// each priority, who signs preliminary and who assigns, when patients see a
// final report, the carriers made at sign-off and the live queue's limits.
#include <cstdint>
#include <string>
#include <vector>

#include "Common/Settings.h"

namespace HospitalBridge {

struct ReportsSettings {
  bool enabled = true;
  // Studies that enter the reading queue by themselves: those that fulfil an
  // order, and any study of these modalities.
  bool queueOrderedStudies = true;
  std::vector<std::string> queueModalities;
  // Turnaround targets (minutes from the study's arrival in the queue).
  int statMinutes = 60;
  int urgentMinutes = 240;
  int routineMinutes = 1440;
  // Radiologists (user names) whose signature is preliminary: a radiologist
  // not listed signs final. Empty: every signature is final.
  std::vector<std::string> residents;
  // Radiologists (user names) who may assign studies to others, as
  // administrators may.
  std::vector<std::string> leadRadiologists;
  // Hours after the final signature before the patient's share pages show
  // the report; -1: never.
  int releaseToPatientsAfterHours = 0;
  // The PDF: paper ("A4" or "Letter") and the most pages a report may take
  // (a longer one fails to render and the sign-off is refused).
  std::string paper = "A4";
  int maxPages = 20;
  // Also store a DICOM Basic Text SR with the verification attributes.
  bool basicTextSr = false;
  // Live queue updates (long polling): how long one request waits at most,
  // and how many may wait at once (0: a quarter of Orthanc's HTTP threads).
  int waitSeconds = 25;
  int maxWaiting = 0;
  // Orthanc's HttpThreadsCount (its default 50), to keep long polls from
  // taking every HTTP thread.
  int httpThreads = 50;

  // The turnaround target of a priority, in seconds.
  int64_t TurnaroundSeconds(const std::string& priority) const;
  // The long polls allowed at once, after the automatic choice.
  int EffectiveMaxWaiting() const;
};

ReportsSettings ReadReportsSettings(const SettingsReader& read);

}  // namespace HospitalBridge
