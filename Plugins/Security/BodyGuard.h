#pragma once
// Bodies that would crash Orthanc 1.10.1 before it could refuse them. Its
// JSON parser recurses on HTTP threads with a small stack: measured here, a
// JSON body nested some 300 levels deep kills the server. Orthanc's request
// filter sees no body, so HospitalBridge registers its own handler on each of
// Orthanc's routes that reads JSON and is open to a non-administrator, checks
// the body here, and hands the untouched request back to Orthanc (or refuses
// it with 400 and the reason).
//
// DICOM uploads (POST /instances) are not taken over: Orthanc would then
// record every upload as a plugin's, losing the uploader's address and user
// name in the instance's metadata. Each instance is checked instead in
// Orthanc's received-instance callback, before Orthanc parses it
// (Dicom/UploadCheck.h); a refused one is answered "FilteredOut".
//
// Two routes cannot be taken over without losing Orthanc's streaming of
// their GET answer (a study's ZIP): for a POST to them, the filter accepts
// only a body too short to nest deeply (kSmallBodyBytes).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "Common/Http.h"

namespace HospitalBridge {

struct GuardedRoute {
  std::string uriRegex;    // as Orthanc's REST callbacks take it
  std::string answerType;  // Content-Type of Orthanc's answer to forward
};

// The nesting limit, well below the depth measured to crash Orthanc.
constexpr int kMaxJsonNesting = 64;
constexpr size_t kSmallBodyBytes = 256;

// Orthanc's routes that HospitalBridge guards with its own handler.
const std::vector<GuardedRoute>& GuardedCoreRoutes();
// The guarded route a (canonical) path belongs to, or nullptr.
const GuardedRoute* FindGuardedRoute(const std::string& path);

// True when `text`'s arrays and objects nest no deeper than `maxDepth`
// (strings are skipped; the text need not be valid JSON).
bool JsonNestingWithin(const std::string& text, int maxDepth);

// Why a JSON body for a guarded route must be refused, or "" to forward it.
// `maxBytes`: the largest body accepted.
std::string RefuseJsonBody(const std::string& body, size_t maxBytes);

// For the filter: a POST to a route whose body cannot be checked
// (/{level}/{id}/archive and /media) must declare a short body.
bool BodyTooLongForFilter(const HttpRequest& request);

}  // namespace HospitalBridge
