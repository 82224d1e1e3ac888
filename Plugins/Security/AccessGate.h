#pragma once
// The decision taken in Orthanc's incoming-request filter, for every HTTP
// request, before Orthanc or any plugin handles it: deny unless the caller's
// role is allowed on that route. HospitalBridge's routes are judged by the
// router's declarations, Orthanc's by the PermissionTable.
#include <functional>

#include "Common/Http.h"
#include "Common/Router.h"
#include "Security/Authenticator.h"
#include "Security/PermissionTable.h"

namespace HospitalBridge {

class AccessGate {
 public:
  AccessGate(Authenticator& authenticator, const Router& router, const PermissionTable& permissions)
      : authenticator_(authenticator), router_(router), permissions_(permissions) {}

  // `request` has no body (Orthanc's filter does not see it).
  bool Allows(const HttpRequest& request);

  static bool IsBridgePath(const std::string& path);

  // Told of every request to Orthanc's own routes by an authenticated
  // caller, with the verdict (for the audit trail). Set before use.
  void SetObserver(std::function<void(const HttpRequest&, const Identity&, bool allowed)> observer) {
    observer_ = std::move(observer);
  }
  // Decides requests that carry a download ticket (?ticket=) instead of a
  // user: a patient's phone fetching Orthanc's streaming ZIP of one study.
  // Unset: such requests are judged like any other.
  void SetTicketAdmission(std::function<bool(const HttpRequest&)> admission) {
    ticketAdmission_ = std::move(admission);
  }

 private:
  static bool CrossSiteWrite(const HttpRequest& request, const Identity& identity);

  Authenticator& authenticator_;
  const Router& router_;
  const PermissionTable& permissions_;
  std::function<void(const HttpRequest&, const Identity&, bool)> observer_;
  std::function<bool(const HttpRequest&)> ticketAdmission_;
};

}  // namespace HospitalBridge
