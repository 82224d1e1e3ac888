#pragma once
// The scanner watch folders' settings (HospitalBridge.WatchFolders): which
// folders, where imported and failed files go, how often and how long a file
// must stay unchanged before it is read.
#include <string>
#include <vector>

#include "Common/Settings.h"

namespace HospitalBridge {

struct WatchFolder {
  std::string path;
  std::string processedPath;
  std::string failedPath;
  bool deleteAfterImport = false;
};

struct WatchFolderSettings {
  std::vector<WatchFolder> folders;  // empty: the watcher does not run
  int scanIntervalMs = 2000;
  int settleMs = 3000;
};

WatchFolderSettings ReadWatchFolderSettings(const SettingsReader& read);

}  // namespace HospitalBridge
