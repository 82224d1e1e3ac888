#include "Audit/CoreAccessAuditor.h"

#include <set>

#include "Common/AuditVocabulary.h"
#include "Common/Router.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const int64_t kViewWindowMs = 60 * 1000;
const std::set<std::string> kLevels = {"patients", "studies", "series", "instances"};
// Sub-routes of a resource that hand out the files themselves.
const std::set<std::string> kDownloads = {"archive", "media", "file"};
const std::set<std::string> kChanges = {"modify", "anonymize", "merge", "split"};
// What an attachment is, without its content.
const std::set<std::string> kAttachmentFacts = {
    "size",          "md5",  "compressed-size",   "compressed-md5",
    "is-compressed", "info", "uncompressed-size", "uncompressed-md5"};

// Every read under a resource returns its data, except these few, which
// tell how it is stored, never what it holds. Deny by default: a sub-route
// not listed here (a new one in a newer Orthanc) is audited as a view.
bool ReturnsNoPatientData(const std::vector<std::string>& segments) {
  if (segments.size() == 3) return segments[2] == "statistics" || segments[2] == "attachments";
  if (segments.size() == 4 && segments[2] == "attachments") return true;  // the list of an attachment's facts
  if (segments.size() == 5 && segments[2] == "attachments") return kAttachmentFacts.count(segments[4]) > 0;
  return false;
}

bool IsDownload(const std::vector<std::string>& segments) {
  if (segments.size() == 3) return kDownloads.count(segments[2]) > 0;
  return segments.size() == 5 && segments[2] == "attachments" &&
         (segments[4] == "data" || segments[4] == "compressed-data");
}
}  // namespace

std::string CoreAccessAuditor::Classify(const std::string& method, const std::string& path,
                                        std::string& resource) {
  std::vector<std::string> segments = SplitPath(path);
  resource.clear();
  if (segments.size() >= 2 && kLevels.count(segments[0]) > 0) {
    resource = "/" + segments[0] + "/" + segments[1];
    const std::string sub = segments.size() > 2 ? segments[2] : "";
    if (method == "DELETE" && segments.size() == 2) return "study.deleted";
    if (method == "GET" || method == "HEAD") {
      if (IsDownload(segments)) return "study.downloaded";
      if (!ReturnsNoPatientData(segments)) return "study.viewed";
    }
    if (method == "POST" && (sub == "archive" || sub == "media")) return "study.downloaded";
    if (method == "POST" && kChanges.count(sub) > 0) return "study.modified";
    resource.clear();
    return "";
  }
  if (method == "POST" && segments.size() == 2 && segments[0] == "tools" &&
      (segments[1] == "create-archive" || segments[1] == "create-media" ||
       segments[1] == "create-media-extended")) {
    return "study.downloaded";
  }
  if (method == "POST" && segments.size() == 2 && segments[0] == "tools" && segments[1] == "find") {
    return "study.searched";
  }
  if (method == "POST" && segments.size() == 3 && (segments[0] == "modalities" || segments[0] == "peers") &&
      (segments[2] == "store" || segments[2] == "move")) {
    return "study.exported";
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
  // The same read of the same thing by the same user within a minute is one
  // event (a viewer asks for a frame many times); every other is its own.
  if (allowed && action == "study.viewed" &&
      SeenRecently(identity.username + " " + request.path, Time::NowMilliseconds())) {
    return;
  }
  AuditEvent event =
      MakeAuditEvent(action, AuditActor::Of(identity, request.remoteIp), allowed ? "success" : "denied");
  if (action == "study.searched") event.detail["query"] = "POST /tools/find";
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
