#pragma once
// The decision taken in Orthanc's incoming-request filter, for every HTTP
// request, before Orthanc or any plugin handles it: deny unless the caller's
// role is allowed on that route. HospitalBridge's routes are judged by the
// router's declarations, Orthanc's by the PermissionTable.
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

 private:
  static bool CrossSiteWrite(const HttpRequest& request, const Identity& identity);

  Authenticator& authenticator_;
  const Router& router_;
  const PermissionTable& permissions_;
};

}  // namespace HospitalBridge
