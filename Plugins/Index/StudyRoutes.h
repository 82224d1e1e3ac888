#pragma once
// GET /bridge/studies and GET /bridge/studies/{StudyInstanceUID}.
#include "Common/Router.h"
#include "Index/StudyIndexSettings.h"
#include "Index/StudyIndexStore.h"

namespace HospitalBridge {

void RegisterStudyRoutes(Router& router, StudyIndexStore& store, const StudyIndexSettings& settings);

// Reads and checks the query parameters; throws DomainError (invalid) naming the
// parameter at fault.
StudyFilter ParseStudyFilter(const HttpRequest& request, const StudyIndexSettings& settings);

}  // namespace HospitalBridge
