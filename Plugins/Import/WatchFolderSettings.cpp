#include "Import/WatchFolderSettings.h"

namespace HospitalBridge {

WatchFolderSettings ReadWatchFolderSettings(const SettingsReader& read) {
  WatchFolderSettings watch;
  watch.scanIntervalMs = read.Int("WatchFolders.ScanIntervalMs", 100, 600000);
  watch.settleMs = read.Int("WatchFolders.SettleMs", 0, 3600000);
  const Json::Value& folders = read.At("WatchFolders.Folders");
  for (Json::ArrayIndex i = 0; i < folders.size(); i++) {
    const std::string at = "WatchFolders.Folders[" + std::to_string(i) + "]";
    const Json::Value& item = folders[i];
    if (!item.isObject()) {
      SettingsReader::Invalid(at, "must be an object with Path, ProcessedPath, FailedPath, AfterImport");
    }
    for (const std::string& key : item.getMemberNames()) {
      if (key != "Path" && key != "ProcessedPath" && key != "FailedPath" && key != "AfterImport") {
        SettingsReader::Invalid(at + "." + key,
                                "unknown option (known: Path, ProcessedPath, FailedPath, AfterImport)");
      }
      if (!item[key].isString()) SettingsReader::Invalid(at + "." + key, "must be a string");
    }
    WatchFolder folder;
    folder.path = item.get("Path", "").asString();
    while (folder.path.size() > 1 && folder.path.back() == '/') folder.path.pop_back();
    if (folder.path.empty() || folder.path[0] != '/')
      SettingsReader::Invalid(at + ".Path", "must be an absolute path");
    folder.processedPath = item.get("ProcessedPath", "").asString();
    if (folder.processedPath.empty()) folder.processedPath = folder.path + "/processed";
    folder.failedPath = item.get("FailedPath", "").asString();
    if (folder.failedPath.empty()) folder.failedPath = folder.path + "/failed";
    const std::string after = item.get("AfterImport", "move").asString();
    if (after != "move" && after != "delete")
      SettingsReader::Invalid(at + ".AfterImport", "must be move or delete");
    folder.deleteAfterImport = after == "delete";
    if (folder.processedPath == folder.path || folder.failedPath == folder.path) {
      SettingsReader::Invalid(at, "ProcessedPath and FailedPath must differ from Path");
    }
    watch.folders.push_back(folder);
  }
  return watch;
}

}  // namespace HospitalBridge
