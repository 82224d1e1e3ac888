#include "Security/AccessGate.h"

#include "Common/Log.h"
#include "Security/BodyGuard.h"

namespace HospitalBridge {

bool AccessGate::IsBridgePath(const std::string& path) {
  return path == "/bridge" || path.rfind("/bridge/", 0) == 0 || path == "/s" || path.rfind("/s/", 0) == 0;
}

bool AccessGate::CrossSiteWrite(const HttpRequest& request, const Identity& identity) {
  // SameSite=Strict keeps the cookie off cross-site requests, but not off
  // requests from another port of the same host (same site, other origin).
  // A browser write must therefore come from this origin: its Origin, when
  // sent, names this host, and Sec-Fetch-Site (sent by current browsers on
  // every request) does not say another origin.
  if (!identity.viaSession || request.method == "GET" || request.method == "HEAD") return false;
  const std::string fetchSite = request.Header("sec-fetch-site");
  if (!fetchSite.empty() && fetchSite != "same-origin" && fetchSite != "none") return true;
  const std::string origin = request.Header("origin");
  // Orthanc turns GET ?_method=DELETE (or X-HTTP-Method-Override) into the
  // verb it names, and a browser sends no Origin with a GET (an image tag):
  // an overridden verb must prove its origin like the verb itself would.
  const bool overridden = request.HasQuery("_method") || !request.Header("x-http-method-override").empty();
  if (origin.empty()) return overridden;
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
  // A ticket stands for the patient it was given to, whatever else the
  // request carries; it opens one streaming download and nothing else.
  if (request.HasQuery("ticket") && !IsBridgePath(request.path)) {
    return ticketAdmission_ && ticketAdmission_(request);
  }
  AuthResult auth = authenticator_.Identify(request);
  if (auth.outcome != AuthResult::Outcome::kAuthenticated) return false;
  const Identity& identity = auth.identity;
  const bool crossSite = CrossSiteWrite(request, identity);
  if (crossSite) {
    Log::Warning("refused " + request.method + " " + request.path + " for '" + identity.username + "' from " +
                 request.remoteIp + ": a browser request from another origin (Origin '" +
                 request.Header("origin") + "', Sec-Fetch-Site '" + request.Header("sec-fetch-site") + "')");
  }

  if (IsBridgePath(request.path)) {
    if (crossSite) return false;
    if (match.kind == Router::Match::Kind::kFound) return match.roles.Contains(identity.role);
    // No such route (or wrong method): let staff through to a plain 404/405;
    // peers only ever see the routes made for them.
    return RoleSet::Staff().Contains(identity.role);
  }
  bool allowed = !crossSite && permissions_.Allows(identity.role, request.method, request.path);
  if (allowed && BodyTooLongForFilter(request)) {
    Log::Warning("refused " + request.method + " " + request.path + " from " + request.remoteIp +
                 ": its options may be at most " + std::to_string(kSmallBodyBytes) + " bytes");
    allowed = false;
  }
  if (observer_) observer_(request, identity, allowed);
  return allowed;
}

}  // namespace HospitalBridge
