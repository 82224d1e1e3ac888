#include "Audit/CoreAccessAuditor.h"

#include "Common/AuditVocabulary.h"
#include "Common/ResourceParser.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const int64_t kViewWindowMs = 60 * 1000;

const char* ActionOf(ResourceAccess access) {
  switch (access) {
    case ResourceAccess::kView:
      return "study.viewed";
    case ResourceAccess::kDownload:
      return "study.downloaded";
    case ResourceAccess::kModify:
      return "study.modified";
    case ResourceAccess::kDelete:
      return "study.deleted";
    case ResourceAccess::kSearch:
      return "study.searched";
    case ResourceAccess::kExport:
      return "study.exported";
    case ResourceAccess::kNone:
      break;
  }
  return "";
}
}  // namespace

// Which requests are which access is decided in one place, shared with the
// gate: Common/ResourceParser.cpp.
std::string CoreAccessAuditor::Classify(const std::string& method, const std::string& path,
                                        std::string& resource) {
  const ParsedRequest parsed = ParseOrthancRequest(method, path);
  const std::string action = ActionOf(parsed.access);
  resource = action.empty() ? "" : parsed.Resource();
  return action;
}

bool CoreAccessAuditor::SeenRecently(const std::string& key, int64_t nowMs, bool extend) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (recentViews_.size() > 10000) recentViews_.clear();
  auto found = recentViews_.find(key);
  if (found != recentViews_.end() && nowMs - found->second < kViewWindowMs) {
    if (extend) found->second = nowMs;
    return true;
  }
  recentViews_[key] = nowMs;
  return false;
}

void CoreAccessAuditor::ObserveDicomWeb(const HttpRequest& request, const Identity& identity, bool allowed,
                                        const ParsedRequest& parsed) {
  if (parsed.access != ResourceAccess::kView && parsed.access != ResourceAccess::kSearch) return;
  const bool search = parsed.access == ResourceAccess::kSearch;
  const std::string studyUid = request.path == "/wado" ? request.Query("studyUID") : parsed.studyUid;
  std::string query;
  for (const auto& [name, value] : request.query) query += (query.empty() ? "?" : "&") + name + "=" + value;
  const std::string key = identity.username + (allowed ? " " : " refused ") +
                          (search ? request.path + query : "study " + studyUid);
  if (SeenRecently(key, Time::NowMilliseconds(), !search)) return;
  AuditEvent event =
      MakeAuditEvent(search ? "study.searched" : "study.viewed", AuditActor::Of(identity, request.remoteIp),
                     allowed ? "success" : "denied");
  event.detail["method"] = request.method;
  event.detail["path"] = request.path;
  event.detail["via"] = "DICOMweb";
  if (search) event.detail["query"] = "GET " + request.path + query;
  // Informational (a client can write any Referer): the request came from
  // the viewer's pages.
  if (request.Header("referer").find("/bridge/viewer") != std::string::npos) event.detail["viewer"] = true;
  event.studyUid = studyUid;
  if (!studyUid.empty()) {
    if (std::optional<StudyRecord> study = studies_.FindByUid(studyUid)) {
      event.orthancResource = "/studies/" + study->orthancId;
      event.dicomPatientId = study->patientId;
      // Care is not sharing: clinical staff open a study whose patient keeps
      // it from other hospitals, and the trail says so (what the pages call
      // "restricted"; share links are opt-in, so most studies are closed to
      // them and that says nothing).
      if (study->restrictedFederation) {
        event.detail["consent_restricted"] = Json::Value(Json::arrayValue);
        event.detail["consent_restricted"].append("federation");
      }
    }
  }
  audit_.Record(event);
}

void CoreAccessAuditor::Observe(const HttpRequest& request, const Identity& identity, bool allowed) {
  const ParsedRequest parsed = ParseOrthancRequest(request.method, request.path);
  if (parsed.dicomWeb) {
    ObserveDicomWeb(request, identity, allowed, parsed);
    return;
  }
  std::string resource;
  const std::string action = Classify(request.method, request.path, resource);
  if (action.empty()) return;
  // The same read of the same thing by the same user within a minute is one
  // event (a viewer asks for a frame many times); every other is its own.
  // A read that names no resource (POST /tools/bulk-content) is always its own.
  if (allowed && action == "study.viewed" && !resource.empty() &&
      SeenRecently(identity.username + " " + request.path, Time::NowMilliseconds())) {
    return;
  }
  AuditEvent event =
      MakeAuditEvent(action, AuditActor::Of(identity, request.remoteIp), allowed ? "success" : "denied");
  if (action == "study.searched") event.detail["query"] = "POST /tools/find";
  event.orthancResource = resource;
  event.detail["method"] = request.method;
  event.detail["path"] = request.path;
  if (request.HasQuery("resources"))
    event.detail["resources"] = request.Query("resources");  // GET /tools/create-*
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
