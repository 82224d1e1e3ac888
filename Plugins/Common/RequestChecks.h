#pragma once
// Checks every route makes of what a client sent: no unknown query
// parameter or body field (a typo must not be silently ignored, e.g. a
// filter that does not filter), and whole numbers within range. Errors are
// DomainError (invalid) naming the culprit and what is accepted.
#include <json/json.h>

#include <initializer_list>

#include "Common/Http.h"

namespace HospitalBridge {

void RejectUnknownParameters(const HttpRequest& request, std::initializer_list<const char*> known);
void RejectUnknownFields(const Json::Value& body, std::initializer_list<const char*> known);

// The query parameter `name` as a whole number in [min, max]; `fallback`
// when absent.
int IntegerParameter(const HttpRequest& request, const char* name, int fallback, int min, int max);

}  // namespace HospitalBridge
