#pragma once
// Serves the embedded WebAssets/ folder under /bridge/app/. The files hold no
// data: pages fetch it from the API with the caller's credentials, so they
// may be served to anyone (the login page must be).
#include "Common/Router.h"

namespace HospitalBridge {

void RegisterStaticAssets(Router& router);

const char* ContentTypeFor(const std::string& path);

// Headers every /bridge/ answer carries.
void AddSecurityHeaders(HttpResponse& response);

}  // namespace HospitalBridge
