#include "Common/ResourceParser.h"

#include <set>

#include "Common/Router.h"

namespace HospitalBridge {
namespace {
const std::set<std::string> kLevels = {"patients", "studies", "series", "instances"};
const std::set<std::string> kDownloads = {"archive", "media", "file"};
const std::set<std::string> kChanges = {"modify", "anonymize", "merge", "split"};
// What an attachment is, without its content.
const std::set<std::string> kAttachmentFacts = {
    "size",          "md5",  "compressed-size",   "compressed-md5",
    "is-compressed", "info", "uncompressed-size", "uncompressed-md5"};

// The few reads under a resource that say how it is stored, never what it
// holds. A sub-route not listed here (a new one in a newer Orthanc) is a view.
bool ReturnsNoPatientData(const std::vector<std::string>& route) {
  if (route.size() == 1) return route[0] == "statistics" || route[0] == "attachments";
  if (route.size() == 2 && route[0] == "attachments") return true;  // the list of an attachment's facts
  if (route.size() == 3 && route[0] == "attachments") return kAttachmentFacts.count(route[2]) > 0;
  return false;
}

bool IsDownload(const std::vector<std::string>& route) {
  if (route.size() == 1) return kDownloads.count(route[0]) > 0;
  return route.size() == 3 && route[0] == "attachments" &&
         (route[2] == "data" || route[2] == "compressed-data");
}
}  // namespace

ParsedRequest ParseOrthancRequest(const std::string& method, const std::string& path) {
  ParsedRequest parsed;
  const std::vector<std::string> segments = SplitPath(path);
  const bool read = method == "GET" || method == "HEAD";
  if (segments.size() >= 2 && kLevels.count(segments[0]) > 0) {
    parsed.level = segments[0];
    parsed.id = segments[1];
    parsed.route.assign(segments.begin() + 2, segments.end());
    const std::string sub = parsed.route.empty() ? "" : parsed.route[0];
    if (method == "DELETE" && parsed.route.empty()) {
      parsed.access = ResourceAccess::kDelete;
    } else if (read && IsDownload(parsed.route)) {
      parsed.access = ResourceAccess::kDownload;
    } else if (read && !ReturnsNoPatientData(parsed.route)) {
      parsed.access = ResourceAccess::kView;
    } else if (method == "POST" && parsed.route.size() == 1 && (sub == "archive" || sub == "media")) {
      parsed.access = ResourceAccess::kDownload;
    } else if (method == "POST" && parsed.route.size() == 1 && kChanges.count(sub) > 0) {
      parsed.access = ResourceAccess::kModify;
    }
    return parsed;
  }
  if (!segments.empty() && (segments[0] == "dicom-web" || (segments[0] == "wado" && segments.size() == 1))) {
    parsed.dicomWeb = true;
    if (!read) return parsed;  // STOW-RS is audited as what it stores
    if (segments[0] == "wado") {
      parsed.access = ResourceAccess::kView;
    } else if (segments.size() == 2 &&
               (segments[1] == "studies" || segments[1] == "series" || segments[1] == "instances")) {
      parsed.access = ResourceAccess::kSearch;
    } else if (segments.size() >= 3 && segments[1] == "studies") {
      parsed.studyUid = segments[2];
      parsed.access = ResourceAccess::kView;
    }
    return parsed;
  }
  if (segments.size() == 2 && segments[0] == "tools") {
    const std::string& tool = segments[1];
    if ((method == "POST" || read) &&
        (tool == "create-archive" || tool == "create-media" || tool == "create-media-extended")) {
      parsed.access = ResourceAccess::kDownload;  // GET with ?resources= since
                                                  // Orthanc 1.12.2
    } else if (method == "POST" && tool == "find") {
      parsed.access = ResourceAccess::kSearch;
    } else if (method == "POST" && tool == "bulk-content") {
      // The bulk routes (admin only, Security/PermissionTable.cpp) name their
      // resources in the body, which the gate does not see.
      parsed.access = ResourceAccess::kView;
    } else if (method == "POST" && tool == "bulk-delete") {
      parsed.access = ResourceAccess::kDelete;
    } else if (method == "POST" && (tool == "bulk-modify" || tool == "bulk-anonymize")) {
      parsed.access = ResourceAccess::kModify;
    }
    return parsed;
  }
  // What an asynchronous archive or media job made (GET /jobs/{id}/archive):
  // whoever fetches it downloads the studies, not only who started the job.
  if (read && segments.size() == 3 && segments[0] == "jobs") {
    parsed.access = ResourceAccess::kDownload;
    return parsed;
  }
  if (method == "POST" && segments.size() == 3 && (segments[0] == "modalities" || segments[0] == "peers") &&
      (segments[2] == "store" || segments[2] == "move")) {
    parsed.access = ResourceAccess::kExport;
  }
  return parsed;
}

}  // namespace HospitalBridge
