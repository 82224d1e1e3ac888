#pragma once
// Audits what staff do with studies through Orthanc's own routes, as the
// security gate sees each request: viewing, downloading, searching,
// modifying, deleting and sending studies elsewhere, allowed or refused.
// Every read under a patient, study, series or instance is a view unless it
// is one of the few that say how the data is stored (deny by default); the
// same read by the same user within a minute counts once.
#include <map>
#include <mutex>
#include <string>

#include "Common/AuditSink.h"
#include "Common/Http.h"
#include "Common/Identity.h"
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
  bool SeenRecently(const std::string& key, int64_t nowMs);

  IAuditSink& audit_;
  StudyIndexStore& studies_;
  std::mutex mutex_;
  std::map<std::string, int64_t> recentViews_;
};

}  // namespace HospitalBridge
