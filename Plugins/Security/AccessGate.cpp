#include "Security/AccessGate.h"

namespace HospitalBridge {

bool AccessGate::IsBridgePath(const std::string& path) {
  return path == "/bridge" || path.rfind("/bridge/", 0) == 0 || path == "/s" || path.rfind("/s/", 0) == 0;
}

bool AccessGate::CrossSiteWrite(const HttpRequest& request, const Identity& identity) {
  // SameSite=Strict already keeps the cookie off cross-site requests; this
  // also refuses a browser write whose Origin names another host.
  if (!identity.viaSession || request.method == "GET" || request.method == "HEAD") return false;
  const std::string origin = request.Header("origin");
  if (origin.empty()) return false;
  size_t scheme = origin.find("://");
  std::string host = scheme == std::string::npos ? origin : origin.substr(scheme + 3);
  return host != request.Header("host");
}

bool AccessGate::Allows(const HttpRequest& request) {
  Router::Match match;
  if (IsBridgePath(request.path)) {
    match = router_.Find(request.method, request.path);
    if (match.kind == Router::Match::Kind::kFound && match.isPublic) return true;
  }
  AuthResult auth = authenticator_.Identify(request);
  if (auth.outcome != AuthResult::Outcome::kAuthenticated) return false;
  const Identity& identity = auth.identity;
  if (CrossSiteWrite(request, identity)) return false;

  if (IsBridgePath(request.path)) {
    if (match.kind == Router::Match::Kind::kFound) return match.roles.Contains(identity.role);
    // No such route (or wrong method): let staff through to a plain 404/405;
    // peers only ever see the routes made for them.
    return RoleSet::Staff().Contains(identity.role);
  }
  bool allowed = permissions_.Allows(identity.role, request.method, request.path);
  if (observer_) observer_(request, identity, allowed);
  return allowed;
}

}  // namespace HospitalBridge
