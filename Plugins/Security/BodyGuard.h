#pragma once
// Bodies that would crash Orthanc 1.10.1 before it could refuse them. Its
// JSON parser and its DICOM toolkit recurse on HTTP threads with a small
// stack: measured here, a JSON body nested some 300 levels deep or a DICOM
// file whose sequences nest some 48 levels deep kills the server. Orthanc's
// request filter sees no body, so HospitalBridge registers its own handler
// on each of Orthanc's routes that reads JSON or DICOM and is open to a
// non-administrator, checks the body here, and hands the untouched request
// back to Orthanc (or refuses it with 400 and the reason).
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

enum class BodyKind { kJson, kDicom };

struct GuardedRoute {
  std::string uriRegex;  // as Orthanc's REST callbacks take it
  BodyKind kind;
  std::string answerType;  // Content-Type of Orthanc's answer to forward
};

// Nesting limits, well below the depths measured to crash Orthanc.
constexpr int kMaxJsonNesting = 64;
constexpr int kMaxDicomSequenceNesting = 32;
constexpr size_t kSmallBodyBytes = 256;

// Orthanc's routes that HospitalBridge guards with its own handler.
const std::vector<GuardedRoute>& GuardedCoreRoutes();
// The guarded route a (canonical) path belongs to, or nullptr.
const GuardedRoute* FindGuardedRoute(const std::string& path);

// True when `text`'s arrays and objects nest no deeper than `maxDepth`
// (strings are skipped; the text need not be valid JSON).
bool JsonNestingWithin(const std::string& text, int maxDepth);

// Why a body for a guarded route must be refused, or "" to forward it.
// `maxJsonBytes`: the largest JSON body accepted.
std::string RefuseBody(BodyKind kind, const std::string& body, size_t maxJsonBytes);

// For the filter: a POST to a route whose body cannot be checked
// (/{level}/{id}/archive and /media) must declare a short body.
bool BodyTooLongForFilter(const HttpRequest& request);

}  // namespace HospitalBridge
