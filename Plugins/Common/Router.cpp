#include "Common/Router.h"

namespace HospitalBridge {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

void Router::Add(const std::string& method, const std::string& pattern, RoleSet roles, RouteHandler handler,
                 size_t maxBodyBytes) {
  routes_.push_back(Route{method, SplitPath(pattern), false, roles, std::move(handler), maxBodyBytes});
}

void Router::AddPublic(const std::string& method, const std::string& pattern, RouteHandler handler) {
  routes_.push_back(Route{method, SplitPath(pattern), true, RoleSet(), std::move(handler), 0});
}

bool Router::MatchSegments(const Route& route, const std::vector<std::string>& path,
                           std::map<std::string, std::string>& params) {
  params.clear();
  for (size_t i = 0; i < route.segments.size(); i++) {
    const std::string& segment = route.segments[i];
    bool isParameter = segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
    if (isParameter && segment[segment.size() - 2] == '*') {
      std::string rest;
      for (size_t j = i; j < path.size(); j++) rest += (j > i ? "/" : "") + path[j];
      params[segment.substr(1, segment.size() - 3)] = rest;
      return true;
    }
    if (i >= path.size()) return false;
    if (isParameter) {
      params[segment.substr(1, segment.size() - 2)] = UrlDecode(path[i], false);
    } else if (segment != path[i]) {
      return false;
    }
  }
  return route.segments.size() == path.size();
}

Router::Match Router::Find(const std::string& method, const std::string& path) const {
  Match match;
  std::vector<std::string> segments = SplitPath(path);
  std::map<std::string, std::string> params;
  for (const Route& route : routes_) {
    if (!MatchSegments(route, segments, params)) continue;
    if (route.method != method && !(method == "HEAD" && route.method == "GET")) {
      match.kind = Match::Kind::kWrongMethod;
      continue;
    }
    match.kind = Match::Kind::kFound;
    match.isPublic = route.isPublic;
    match.roles = route.roles;
    match.handler = &route.handler;
    match.maxBodyBytes = route.maxBodyBytes;
    match.params = params;
    return match;
  }
  return match;
}

}  // namespace HospitalBridge
