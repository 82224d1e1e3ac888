#pragma once
// The study index's settings (HospitalBridge.StudyIndex and
// Modules.StudyIndex): how long it waits before reading a changed study, the
// reconcile at start, the study-event delay, paging.
#include "Common/Settings.h"

namespace HospitalBridge {

struct StudyIndexSettings {
  bool enabled = true;
  int refreshDelayMs = 500;
  bool reconcileAtStart = true;
  int eventDelayMs = 0;
  int defaultPageSize = 50;
  int maxPageSize = 500;
};

StudyIndexSettings ReadStudyIndexSettings(const SettingsReader& read);

}  // namespace HospitalBridge
