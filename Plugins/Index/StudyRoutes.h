#pragma once
// GET /bridge/studies and GET /bridge/studies/{StudyInstanceUID}.
#include <functional>

#include "Common/Router.h"
#include "Index/StudyIndexSettings.h"
#include "Index/StudyIndexStore.h"

namespace HospitalBridge {

// Adds what modules above the index know of each study (its order) to the
// studies of an answer, given as a JSON array.
using StudyAnnotator = std::function<void(Json::Value& studies)>;

void RegisterStudyRoutes(Router& router, StudyIndexStore& store, const StudyIndexSettings& settings,
                         StudyAnnotator annotate = nullptr);

// Reads and checks the query parameters; throws DomainError (invalid) naming the
// parameter at fault.
StudyFilter ParseStudyFilter(const HttpRequest& request, const StudyIndexSettings& settings);

}  // namespace HospitalBridge
