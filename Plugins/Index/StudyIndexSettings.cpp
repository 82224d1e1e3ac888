#include "Index/StudyIndexSettings.h"

#include <string>

namespace HospitalBridge {

StudyIndexSettings ReadStudyIndexSettings(const SettingsReader& read) {
  StudyIndexSettings index;
  index.enabled = read.ModuleEnabled("StudyIndex");
  index.refreshDelayMs = read.Int("StudyIndex.RefreshDelayMs", 50, 60000);
  index.reconcileAtStart = read.Bool("StudyIndex.ReconcileAtStart");
  index.eventDelayMs = read.Int("StudyIndex.EventDelayMs", 0, 60000);
  index.defaultPageSize = read.Int("StudyIndex.DefaultPageSize", 1, 1000);
  index.maxPageSize = read.Int("StudyIndex.MaxPageSize", 1, 1000);
  if (index.defaultPageSize > index.maxPageSize) {
    SettingsReader::Invalid("StudyIndex.DefaultPageSize", "must not exceed StudyIndex.MaxPageSize (" +
                                                              std::to_string(index.maxPageSize) + ")");
  }
  return index;
}

}  // namespace HospitalBridge
