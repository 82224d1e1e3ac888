#pragma once
// Serves the embedded WebAssets/ folder under /bridge/app/. The files hold no
// data: pages fetch it from the API with the caller's credentials, so they
// may be served to anyone (the login page must be).
#include "Common/Router.h"

namespace HospitalBridge {

void RegisterStaticAssets(Router& router);

const char* ContentTypeFor(const std::string& path);

// WebAssets/<relative> as embedded at build time; DomainError (not found) if absent.
HttpResponse ServeWebAsset(const std::string& relative);

// Headers every /bridge/ and /s/ answer carries; patient-facing (/s/)
// answers are never stored and never send a referrer.
void AddSecurityHeaders(HttpResponse& response, bool patientFacing = false);

}  // namespace HospitalBridge
