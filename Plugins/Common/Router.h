#pragma once
// Routes of HospitalBridge's own REST API. Every route states who may call it
// when it is declared, so a new route cannot be reachable by accident: the
// security gate asks the router, and a route without roles is unreachable.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "Common/Http.h"
#include "Common/Identity.h"

namespace HospitalBridge {

struct RouteContext {
  const HttpRequest& request;
  const Identity& identity;
  std::map<std::string, std::string> params;

  const std::string& Param(const std::string& name) const { return params.at(name); }
};

using RouteHandler = std::function<HttpResponse(const RouteContext&)>;

class Router {
 public:
  // Pattern segments: literal, "{name}" (one segment), or a final "{name*}"
  // (the rest of the path, possibly empty).
  // `maxBodyBytes` overrides Security.MaxRequestBodyKilobytes for a route
  // that takes files (0 = the configured limit).
  void Add(const std::string& method, const std::string& pattern, RoleSet roles, RouteHandler handler,
           size_t maxBodyBytes = 0);
  // Reachable without logging in (login, static pages).
  void AddPublic(const std::string& method, const std::string& pattern, RouteHandler handler);

  struct Match {
    enum class Kind { kNone, kWrongMethod, kFound } kind = Kind::kNone;
    bool isPublic = false;
    RoleSet roles;
    const RouteHandler* handler = nullptr;
    size_t maxBodyBytes = 0;
    std::map<std::string, std::string> params;
  };
  Match Find(const std::string& method, const std::string& path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    bool isPublic;
    RoleSet roles;
    RouteHandler handler;
    size_t maxBodyBytes = 0;
  };
  static bool MatchSegments(const Route& route, const std::vector<std::string>& path,
                            std::map<std::string, std::string>& params);
  std::vector<Route> routes_;
};

std::vector<std::string> SplitPath(const std::string& path);

}  // namespace HospitalBridge
