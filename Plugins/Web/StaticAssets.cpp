#include "Web/StaticAssets.h"

#include "Common/EmbeddedResources.h"
#include "Common/Errors.h"

namespace HospitalBridge {
namespace {
bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

HttpResponse ServeWebAsset(const std::string& relative) {
  if (relative.find("..") != std::string::npos) throw DomainError::NotFound("No such page", relative);
  std::string content;
  const std::string path = "WebAssets/" + (relative.empty() ? std::string("index.html") : relative);
  if (!FindEmbeddedFile(path, content)) throw DomainError::NotFound("No such page", relative);
  HttpResponse response;
  response.contentType = ContentTypeFor(path);
  response.body = content;
  // Pages change with each plugin version; "no-cache" makes the browser ask.
  response.AddHeader("Cache-Control", "no-cache");
  return response;
}

const char* ContentTypeFor(const std::string& path) {
  if (EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(path, ".js")) return "text/javascript; charset=utf-8";
  if (EndsWith(path, ".json")) return "application/json; charset=utf-8";
  if (EndsWith(path, ".svg")) return "image/svg+xml";
  if (EndsWith(path, ".png")) return "image/png";
  if (EndsWith(path, ".ico")) return "image/x-icon";
  if (EndsWith(path, ".woff2")) return "font/woff2";
  if (EndsWith(path, ".txt")) return "text/plain; charset=utf-8";
  if (EndsWith(path, ".wasm")) return "application/wasm";
  if (EndsWith(path, ".mjs")) return "text/javascript; charset=utf-8";
  if (EndsWith(path, ".map")) return "application/json; charset=utf-8";
  if (EndsWith(path, ".xml")) return "application/xml";
  if (EndsWith(path, ".webapp")) return "application/x-web-app-manifest+json";
  if (EndsWith(path, ".jpg") || EndsWith(path, ".jpeg")) return "image/jpeg";
  if (EndsWith(path, ".gif")) return "image/gif";
  if (EndsWith(path, ".woff")) return "font/woff";
  if (EndsWith(path, ".ttf")) return "font/ttf";
  return "application/octet-stream";
}

void AddSecurityHeaders(HttpResponse& response, bool patientFacing) {
  // A route that needs its own policy or framing (the viewer) sets it; every
  // other answer gets the strict ones.
  bool ownPolicy = false;
  bool ownFraming = false;
  for (const auto& header : response.headers) {
    ownPolicy = ownPolicy || header.first == "Content-Security-Policy";
    ownFraming = ownFraming || header.first == "X-Frame-Options";
  }
  response.AddHeader("X-Content-Type-Options", "nosniff");
  if (!ownFraming) response.AddHeader("X-Frame-Options", "DENY");
  // A patient's page must not tell the next site where the phone came from:
  // the first address carries the link's token.
  response.AddHeader("Referrer-Policy", patientFacing ? "no-referrer" : "same-origin");
  if (patientFacing) {
    for (auto& header : response.headers) {
      if (header.first == "Cache-Control") header.second = "no-store";
    }
  }
  if (!ownPolicy) {
    response.AddHeader("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
  }
  bool cacheSet = false;
  for (const auto& header : response.headers) cacheSet = cacheSet || header.first == "Cache-Control";
  if (!cacheSet) response.AddHeader("Cache-Control", "no-store");
}

void RegisterStaticAssets(Router& router) {
  router.AddPublic("GET", "/bridge",
                   [](const RouteContext&) { return HttpResponse::Redirect("/bridge/app/"); });
  // Orthanc drops a trailing slash before plugins see the URL, so
  // "/bridge/app" and "/bridge/app/" both arrive here and both get the
  // dashboard (pages link with absolute paths, so either works).
  router.AddPublic("GET", "/bridge/app/{file*}",
                   [](const RouteContext& ctx) { return ServeWebAsset(ctx.Param("file")); });
}

}  // namespace HospitalBridge
