#include "Audit/CoreAccessAuditor.h"

#include <set>

#include "Common/Router.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const int64_t kViewWindowMs = 60 * 1000;
const std::set<std::string> kLevels = {"patients", "studies", "series", "instances"};
const std::set<std::string> kViews = {"preview", "image-uint8", "image-uint16", "image-int16",
                                      "frames",  "rendered",    "tags",         "simplified-tags",
                                      "content", "pdf",         "matlab",       "numpy"};
const std::set<std::string> kDownloads = {"archive", "media", "file"};
const std::set<std::string> kChanges = {"modify", "anonymize", "merge", "split"};
}  // namespace

std::string CoreAccessAuditor::Classify(const std::string& method, const std::string& path,
                                        std::string& resource) {
  std::vector<std::string> segments = SplitPath(path);
  resource.clear();
  if (segments.size() >= 2 && kLevels.count(segments[0]) > 0) {
    resource = "/" + segments[0] + "/" + segments[1];
    const std::string sub = segments.size() > 2 ? segments[2] : "";
    if (method == "DELETE" && segments.size() == 2) return "study.deleted";
    if (method == "GET" && sub.empty()) return "study.viewed";
    if (method == "GET" && kViews.count(sub) > 0) return "study.viewed";
    if ((method == "GET" || method == "POST") && kDownloads.count(sub) > 0) return "study.downloaded";
    if (method == "POST" && kChanges.count(sub) > 0) return "study.modified";
    resource.clear();
    return "";
  }
  if (method == "POST" && segments.size() == 2 && segments[0] == "tools" &&
      (segments[1] == "create-archive" || segments[1] == "create-media" ||
       segments[1] == "create-media-extended")) {
    return "study.downloaded";
  }
  if (method == "POST" && segments.size() == 3 && (segments[0] == "modalities" || segments[0] == "peers") &&
      (segments[2] == "store" || segments[2] == "move")) {
    return "study.exported";
  }
  if (method == "POST" && segments.size() >= 2 && segments[0] == "dicom-web" && segments[1] == "studies") {
    return "";  // an upload: audited as dicom.stored once indexed
  }
  return "";
}

bool CoreAccessAuditor::SeenRecently(const std::string& key, int64_t nowMs) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (recentViews_.size() > 10000) recentViews_.clear();
  auto found = recentViews_.find(key);
  if (found != recentViews_.end() && nowMs - found->second < kViewWindowMs) return true;
  recentViews_[key] = nowMs;
  return false;
}

void CoreAccessAuditor::Observe(const HttpRequest& request, const Identity& identity, bool allowed) {
  std::string resource;
  const std::string action = Classify(request.method, request.path, resource);
  if (action.empty()) return;
  if (allowed && action == "study.viewed" &&
      SeenRecently(identity.username + " " + resource, Time::NowMilliseconds())) {
    return;
  }
  AuditEvent event;
  event.actorName = identity.username;
  event.actorRole = RoleName(identity.role);
  event.actorKind = identity.role == Role::kPeer ? "peer" : "user";
  event.sourceIp = request.remoteIp;
  event.action = action;
  event.outcome = allowed ? "success" : "denied";
  event.orthancResource = resource;
  event.detail["method"] = request.method;
  event.detail["path"] = request.path;
  // A study's identity is read now: once deleted, the index no longer has it.
  if (resource.rfind("/studies/", 0) == 0) {
    std::optional<StudyRecord> study = studies_.FindByOrthancId(resource.substr(9));
    if (study) {
      event.studyUid = study->studyUid;
      event.dicomPatientId = study->patientId;
    }
  }
  audit_.Record(event);
}

}  // namespace HospitalBridge
