#pragma once
// Imports the files a scanner's PC drops into watched folders. A file is
// sent to Orthanc once it has stopped changing; then it is moved to the
// processed folder (or deleted), or, when Orthanc refuses it, moved to the
// failed folder with a reason file beside it. The folders themselves are the
// state: what is still in a watched folder has not been dealt with, so a
// restart simply carries on, and no file is removed before Orthanc has it.
#include <json/json.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "Common/BackgroundWorker.h"
#include "Common/Leases.h"
#include "Common/OrthancRest.h"
#include "Import/WatchFolderSettings.h"

namespace HospitalBridge {

class WatchFolderImporter {
 public:
  // One node scans the folders (lease "watch-folders"); `leases` may be null
  // in tests.
  WatchFolderImporter(const WatchFolderSettings& settings, IOrthancRest& orthanc, ILeases* leases);
  ~WatchFolderImporter();

  void Start();
  void Stop();
  // One pass over every folder at `nowMs` (steady milliseconds). The worker
  // calls it; tests call it directly.
  void ScanOnce(int64_t nowMs);
  Json::Value Status();

 private:
  struct Seen {
    uintmax_t size = 0;
    int64_t modified = 0;  // nanoseconds
    int64_t stableSinceMs = 0;
    int scans = 0;
  };
  struct Counters {
    int64_t waiting = 0;
    int64_t imported = 0;
    int64_t duplicates = 0;
    int64_t failed = 0;
    int64_t lastImport = 0;  // Unix seconds
    std::string lastError;
  };
  enum class Result { kImported, kDuplicate, kRejected, kRetryLater };

  void ScanFolder(size_t index, int64_t nowMs);
  Result Import(const std::string& path, std::string& reason);
  void Settle(size_t index, const std::string& path, Result result, const std::string& reason);
  const WatchFolderSettings settings_;
  IOrthancRest& orthanc_;
  std::mutex mutex_;  // guards counters_ and seen_
  std::vector<Counters> counters_;
  std::map<std::string, Seen> seen_;
  BackgroundWorker worker_;
};

// Moves `from` into folder `toFolder` under `relative`, creating folders, and
// never overwriting: "x.dcm" becomes "x (2).dcm" if taken. Copies and
// removes across file systems. Returns the path used; throws on failure
// (the file is then still at `from`).
std::string MoveWithoutOverwrite(const std::string& from, const std::string& toFolder,
                                 const std::string& relative);

}  // namespace HospitalBridge
