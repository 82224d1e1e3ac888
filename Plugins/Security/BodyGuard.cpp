#include "Security/BodyGuard.h"

#include "Common/Router.h"
#include "Common/ZipReader.h"
#include "Dicom/DicomNesting.h"

namespace HospitalBridge {
namespace {
const char kJsonType[] = "application/json";
const size_t kMaxZipEntryBytes = size_t(2) << 30;

std::string RefuseDicom(const std::string& body) {
  if (ZipReader::LooksLikeZip(body)) {
    ZipReader zip;
    std::string error;
    if (!zip.Open(body, error)) return "the ZIP archive cannot be read: " + error;
    for (const ZipReader::Entry& entry : zip.Entries()) {
      if (!entry.name.empty() && entry.name.back() == '/') continue;  // a folder
      std::string content;
      if (!zip.Read(entry, kMaxZipEntryBytes, content, error))
        return "the ZIP archive cannot be read: " + error;
      const NestingCheck check = CheckDicomNesting(content, kMaxDicomSequenceNesting);
      if (!check.acceptable) return entry.name + ": " + check.reason;
    }
    return "";
  }
  const NestingCheck check = CheckDicomNesting(body, kMaxDicomSequenceNesting);
  return check.acceptable ? "" : check.reason;
}
}  // namespace

const std::vector<GuardedRoute>& GuardedCoreRoutes() {
  static const std::vector<GuardedRoute> routes = [] {
    const char kLevel[] = "(patients|studies|series|instances)";
    std::vector<GuardedRoute> list = {
        {"/instances", BodyKind::kDicom, kJsonType},
        {"/tools/find", BodyKind::kJson, kJsonType},
        {"/tools/create-archive", BodyKind::kJson, "application/zip"},
        {"/tools/create-media", BodyKind::kJson, "application/zip"},
        {"/tools/create-media-extended", BodyKind::kJson, "application/zip"},
        {std::string("/") + kLevel + "/([^/]+)/(modify|anonymize)", BodyKind::kJson, kJsonType},
        {"/studies/([^/]+)/(merge|split)", BodyKind::kJson, kJsonType},
        {"/modalities/([^/]+)/(echo|store|query|move)", BodyKind::kJson, kJsonType},
        {"/peers/([^/]+)/store", BodyKind::kJson, kJsonType},
        {"/queries/([^/]+)/retrieve", BodyKind::kJson, kJsonType},
        {"/queries/([^/]+)/answers/([^/]+)/(retrieve|query-instances|query-series|query-studies)",
         BodyKind::kJson, kJsonType},
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

std::string RefuseBody(BodyKind kind, const std::string& body, size_t maxJsonBytes) {
  if (kind == BodyKind::kDicom) return RefuseDicom(body);
  if (body.size() > maxJsonBytes) {
    return "the request body is larger than " + std::to_string(maxJsonBytes / 1024) + " KB";
  }
  if (!JsonNestingWithin(body, kMaxJsonNesting)) {
    return "the JSON body nests more than " + std::to_string(kMaxJsonNesting) + " levels deep";
  }
  return "";
}

bool BodyTooLongForFilter(const HttpRequest& request) {
  if (request.method != "POST") return false;
  const std::vector<std::string> segments = SplitPath(request.path);
  if (segments.size() != 3 || (segments[2] != "archive" && segments[2] != "media")) return false;
  const std::string& level = segments[0];
  if (level != "patients" && level != "studies" && level != "series" && level != "instances") return false;
  if (request.Header("transfer-encoding").find("chunked") != std::string::npos) return true;
  const std::string length = request.Header("content-length");
  if (length.empty()) return false;
  if (length.size() > 9 || length.find_first_not_of("0123456789") != std::string::npos) return true;
  return std::stoul(length) > kSmallBodyBytes;
}

}  // namespace HospitalBridge
