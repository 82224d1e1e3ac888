#include "Import/WatchFolderImporter.h"

#include "Dicom/UploadCheck.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Time.h"

namespace fs = std::filesystem;

namespace HospitalBridge {

namespace {
bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Names scanners and copy tools use while a file is still being written.
bool StillBeingWritten(const std::string& name) {
  return name.empty() || name[0] == '.' || EndsWith(name, ".part") || EndsWith(name, ".tmp") ||
         EndsWith(name, ".reason.txt");
}

bool Inside(const fs::path& path, const std::string& folder) {
  const std::string text = path.string();
  return text == folder || text.rfind(folder + "/", 0) == 0;
}

int64_t ModifiedNanoseconds(const fs::path& path, std::error_code& error) {
  return static_cast<int64_t>(fs::last_write_time(path, error).time_since_epoch().count());
}

bool ReadFile(const std::string& path, std::string& content) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::ostringstream buffer;
  buffer << file.rdbuf();
  content = buffer.str();
  return !file.bad();
}
}  // namespace

std::string MoveWithoutOverwrite(const std::string& from, const std::string& toFolder,
                                 const std::string& relative) {
  fs::path target = fs::path(toFolder) / relative;
  fs::create_directories(target.parent_path());
  const std::string stem = target.stem().string();
  const std::string extension = target.extension().string();
  for (int n = 2; fs::exists(target); n++) {
    target = target.parent_path() / (stem + " (" + std::to_string(n) + ")" + extension);
  }
  std::error_code error;
  fs::rename(from, target, error);
  if (error) {
    // Another file system: copy, then remove the original only once the
    // copy is complete.
    fs::copy_file(from, target, fs::copy_options::none);
    fs::remove(from);
  }
  return target.string();
}

WatchFolderImporter::WatchFolderImporter(const WatchFolderSettings& settings, IOrthancRest& orthanc,
                                         ILeases* leases)
    : settings_(settings),
      orthanc_(orthanc),
      counters_(settings.folders.size()),
      worker_("watch folder", [this] {
        ScanOnce(Time::NowMilliseconds());
        return std::chrono::milliseconds(settings_.scanIntervalMs);
      }) {
  if (leases != nullptr) worker_.RequireLease(*leases, "watch-folders");
}

WatchFolderImporter::~WatchFolderImporter() { Stop(); }

void WatchFolderImporter::Start() {
  if (!settings_.folders.empty()) worker_.Start();
}

void WatchFolderImporter::Stop() { worker_.Stop(); }

void WatchFolderImporter::ScanOnce(int64_t nowMs) {
  for (size_t i = 0; i < settings_.folders.size(); i++) {
    if (worker_.StopRequested()) return;
    ScanFolder(i, nowMs);
  }
}

void WatchFolderImporter::ScanFolder(size_t index, int64_t nowMs) {
  const WatchFolder& folder = settings_.folders[index];
  std::error_code error;
  fs::create_directories(folder.path, error);
  if (!fs::is_directory(folder.path)) {
    std::lock_guard<std::mutex> lock(mutex_);
    counters_[index].lastError = "cannot open the folder " + folder.path;
    return;
  }
  std::vector<std::string> ready;
  std::set<std::string> present;
  int64_t waiting = 0;
  fs::recursive_directory_iterator it(folder.path, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    const fs::path& path = it->path();
    if (it->is_directory(error)) {
      if (Inside(path, folder.processedPath) || Inside(path, folder.failedPath) ||
          path.filename().string().rfind('.', 0) == 0) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (!it->is_regular_file(error) || StillBeingWritten(path.filename().string())) continue;
    const uintmax_t size = it->file_size(error);
    const int64_t modified = ModifiedNanoseconds(path, error);
    if (error) continue;
    waiting++;
    present.insert(path.string());
    std::lock_guard<std::mutex> lock(mutex_);
    Seen& seen = seen_[path.string()];
    if (seen.scans == 0 || seen.size != size || seen.modified != modified) {
      seen = Seen{size, modified, nowMs, 1};
      continue;
    }
    seen.scans++;
    if (nowMs - seen.stableSinceMs >= settings_.settleMs) ready.push_back(path.string());
  }
  {
    // Forget files that went away by other hands.
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto seen = seen_.begin(); seen != seen_.end();) {
      if (Inside(seen->first, folder.path) && present.count(seen->first) == 0) {
        seen = seen_.erase(seen);
      } else {
        ++seen;
      }
    }
  }
  for (const std::string& path : ready) {
    std::string reason;
    Result result = Import(path, reason);
    Settle(index, path, result, reason);
    if (result != Result::kRetryLater) waiting--;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  counters_[index].waiting = waiting;
}

WatchFolderImporter::Result WatchFolderImporter::Import(const std::string& path, std::string& reason) {
  std::string content;
  std::error_code error;
  const uintmax_t sizeBefore = fs::file_size(path, error);
  if (error || !ReadFile(path, content)) {
    reason = "cannot read the file";
    return Result::kRetryLater;
  }
  if (fs::file_size(path, error) != sizeBefore || content.size() != sizeBefore) {
    reason = "the file changed while it was read";
    return Result::kRetryLater;
  }
  if (content.empty()) {
    reason = "the file is empty";
    return Result::kRejected;
  }
  // The same check Orthanc's own upload gets, with its reason kept for the
  // technician (Orthanc would only say the file was filtered out).
  const std::string refusal = RefuseDicomUpload(content);
  if (!refusal.empty()) {
    reason = "refused before import: " + refusal;
    return Result::kRejected;
  }
  std::string answer;
  try {
    if (!orthanc_.Post("/instances", content, answer)) {
      reason = "Orthanc did not accept the upload";
      return Result::kRetryLater;
    }
  } catch (const OrthancRejected& e) {
    reason = std::string("Orthanc refused the file: ") + e.what() +
             (content.size() < 132 || content.compare(128, 4, "DICM") != 0 ? " (it has no DICOM file header)"
                                                                           : "");
    return Result::kRejected;
  } catch (const OrthancUnavailable& e) {
    reason = e.what();
    return Result::kRetryLater;
  }
  Json::Value status;
  JsonText::Parse(answer, status);
  const std::string outcome = status.get("Status", "").asString();
  if (outcome == "AlreadyStored") return Result::kDuplicate;
  if (outcome == "Success") return Result::kImported;
  reason = "Orthanc answered \"" + outcome + "\" (a filter may refuse this file)";
  return Result::kRejected;
}

void WatchFolderImporter::Settle(size_t index, const std::string& path, Result result,
                                 const std::string& reason) {
  const WatchFolder& folder = settings_.folders[index];
  const std::string relative = fs::relative(path, folder.path).string();
  std::string problem;
  try {
    if (result == Result::kImported || result == Result::kDuplicate) {
      if (folder.deleteAfterImport) {
        fs::remove(path);
      } else {
        MoveWithoutOverwrite(path, folder.processedPath, relative);
      }
    } else if (result == Result::kRejected) {
      const std::string moved = MoveWithoutOverwrite(path, folder.failedPath, relative);
      std::ofstream note(moved + ".reason.txt");
      note << "File:     " << relative << "\n"
           << "Failed:   " << Time::FormatIsoUtc(Time::NowSeconds()) << "\n"
           << "Reason:   " << reason << "\n"
           << "To retry: fix the cause, then move the file back into " << folder.path << "\n";
    }
  } catch (const std::exception& e) {
    problem = "cannot move " + path + ": " + e.what() + " (left in place)";
    Log::Error("watch folder: " + problem);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  Counters& counters = counters_[index];
  // A file to retry stays "seen as stable", so the next scan tries again.
  if (result != Result::kRetryLater) seen_.erase(path);
  switch (result) {
    case Result::kImported:
      counters.imported++;
      counters.lastImport = Time::NowSeconds();
      break;
    case Result::kDuplicate:
      counters.duplicates++;
      counters.lastImport = Time::NowSeconds();
      break;
    case Result::kRejected:
      counters.failed++;
      counters.lastError = relative + ": " + reason;
      Log::Warning("watch folder: " + path + " moved to " + folder.failedPath + ": " + reason);
      break;
    case Result::kRetryLater:
      counters.lastError = relative + ": " + reason + " (will retry)";
      break;
  }
  if (!problem.empty()) counters.lastError = problem;
}

Json::Value WatchFolderImporter::Status() {
  std::lock_guard<std::mutex> lock(mutex_);
  Json::Value answer(Json::objectValue);
  answer["enabled"] = !settings_.folders.empty();
  answer["folders"] = Json::Value(Json::arrayValue);
  for (size_t i = 0; i < settings_.folders.size(); i++) {
    const WatchFolder& folder = settings_.folders[i];
    const Counters& counters = counters_[i];
    Json::Value entry(Json::objectValue);
    entry["path"] = folder.path;
    entry["processed_path"] = folder.deleteAfterImport ? "" : folder.processedPath;
    entry["failed_path"] = folder.failedPath;
    entry["after_import"] = folder.deleteAfterImport ? "delete" : "move";
    entry["waiting"] = static_cast<Json::Int64>(counters.waiting);
    entry["imported"] = static_cast<Json::Int64>(counters.imported);
    entry["duplicates"] = static_cast<Json::Int64>(counters.duplicates);
    entry["failed"] = static_cast<Json::Int64>(counters.failed);
    entry["last_import"] = Time::FormatIsoUtc(counters.lastImport);
    entry["last_error"] = counters.lastError;
    answer["folders"].append(entry);
  }
  return answer;
}

}  // namespace HospitalBridge
