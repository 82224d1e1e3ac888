#include "Security/BodyGuard.h"

#include "Common/ResourceParser.h"
#include "Common/Router.h"

namespace HospitalBridge {
namespace {
const char kJsonType[] = "application/json";
}  // namespace

const std::vector<GuardedRoute>& GuardedCoreRoutes() {
  static const std::vector<GuardedRoute> routes = [] {
    const char kLevel[] = "(patients|studies|series|instances)";
    std::vector<GuardedRoute> list = {
        {"/tools/find", kJsonType},
        {"/tools/create-archive", "application/zip"},
        {"/tools/create-media", "application/zip"},
        {"/tools/create-media-extended", "application/zip"},
        {std::string("/") + kLevel + "/([^/]+)/(modify|anonymize)", kJsonType},
        {"/studies/([^/]+)/(merge|split)", kJsonType},
        {"/modalities/([^/]+)/(echo|store|query|move)", kJsonType},
        {"/peers/([^/]+)/store", kJsonType},
        {"/queries/([^/]+)/retrieve", kJsonType},
        {"/queries/([^/]+)/answers/([^/]+)/(retrieve|query-instances|query-series|query-studies)", kJsonType},
    };
    return list;
  }();
  return routes;
}

namespace {
// The route regexes use three forms of segment only: a literal, "([^/]+)"
// (any one segment) and "(a|b)" (one of these).
const char kAnySegment[] = "([^/]+)";

std::vector<std::string> PatternSegments(std::string regex) {
  // "[^/]" holds a slash: set it aside before splitting.
  for (size_t at = regex.find(kAnySegment); at != std::string::npos; at = regex.find(kAnySegment, at)) {
    regex.replace(at, sizeof(kAnySegment) - 1, "*");
  }
  return SplitPath(regex);
}

bool SegmentMatches(const std::string& pattern, const std::string& segment) {
  if (pattern == "*") return !segment.empty();
  if (pattern.size() > 2 && pattern.front() == '(' && pattern.back() == ')') {
    const std::string choices = "|" + pattern.substr(1, pattern.size() - 2) + "|";
    return choices.find("|" + segment + "|") != std::string::npos;
  }
  return pattern == segment;
}
}  // namespace

const GuardedRoute* FindGuardedRoute(const std::string& path) {
  const std::vector<std::string> segments = SplitPath(path);
  for (const GuardedRoute& route : GuardedCoreRoutes()) {
    const std::vector<std::string> pattern = PatternSegments(route.uriRegex);
    if (pattern.size() != segments.size()) continue;
    bool matches = true;
    for (size_t i = 0; i < pattern.size() && matches; i++) matches = SegmentMatches(pattern[i], segments[i]);
    if (matches) return &route;
  }
  return nullptr;
}

bool JsonNestingWithin(const std::string& text, int maxDepth) {
  int depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); i++) {
    const char c = text[i];
    if (inString) {
      if (c == '\\') {
        i++;
      } else if (c == '"') {
        inString = false;
      }
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > maxDepth) return false;
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return true;
}

std::string RefuseJsonBody(const std::string& body, size_t maxBytes) {
  if (body.size() > maxBytes) {
    return "the request body is larger than " + std::to_string(maxBytes / 1024) + " KB";
  }
  if (!JsonNestingWithin(body, kMaxJsonNesting)) {
    return "the JSON body nests more than " + std::to_string(kMaxJsonNesting) + " levels deep";
  }
  return "";
}

bool BodyTooLongForFilter(const HttpRequest& request) {
  const ParsedRequest parsed = ParseOrthancRequest(request.method, request.path);
  if (request.method != "POST" || parsed.access != ResourceAccess::kDownload || !parsed.HasResource()) {
    return false;  // only /{level}/{id}/archive and /media
  }
  if (request.Header("transfer-encoding").find("chunked") != std::string::npos) return true;
  const std::string length = request.Header("content-length");
  if (length.empty()) return false;
  if (length.size() > 9 || length.find_first_not_of("0123456789") != std::string::npos) return true;
  return std::stoul(length) > kSmallBodyBytes;
}

}  // namespace HospitalBridge
