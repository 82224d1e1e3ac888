#pragma once
// Audits what staff do with studies through Orthanc's own routes, as the
// security gate sees each request: viewing, downloading, searching,
// modifying, deleting and sending studies elsewhere, allowed or refused.
// Every read under a patient, study, series or instance is a view unless it
// is one of the few that say how the data is stored (deny by default); the
// same read by the same user within a minute counts once. DICOMweb reads (the
// viewer's) are views of the study they name, counted once per study and user
// for as long as they keep coming less than a minute apart (one opening of
// the viewer is one event), marked when consent restricts the study.
#include <map>
#include <mutex>
#include <string>

#include "Common/AuditSink.h"
#include "Common/Http.h"
#include "Common/Identity.h"
#include "Common/ResourceParser.h"
#include "Index/StudyIndexStore.h"

namespace HospitalBridge {

class CoreAccessAuditor {
 public:
  CoreAccessAuditor(IAuditSink& audit, StudyIndexStore& studies) : audit_(audit), studies_(studies) {}

  void Observe(const HttpRequest& request, const Identity& identity, bool allowed);

  // The audit action for a request to Orthanc's routes, or "" when it is
  // not one. Sets `resource` to "/<level>/<id>" when the request names one.
  static std::string Classify(const std::string& method, const std::string& path, std::string& resource);

 private:
  // `extend`: a repeat within the window starts it again.
  bool SeenRecently(const std::string& key, int64_t nowMs, bool extend = false);
  void ObserveDicomWeb(const HttpRequest& request, const Identity& identity, bool allowed,
                       const ParsedRequest& parsed);

  IAuditSink& audit_;
  StudyIndexStore& studies_;
  std::mutex mutex_;
  std::map<std::string, int64_t> recentViews_;
};

}  // namespace HospitalBridge
