#include "Security/SecurityModule.h"

#include "Common/AuditVocabulary.h"
#include "Common/Log.h"
#include "Dicom/UploadCheck.h"
#include "Security/BodyGuard.h"
#include "Security/BootstrapAdmin.h"
#include "Security/SecurityRoutes.h"

namespace HospitalBridge {

SecurityModule::SecurityModule(const ModuleContext& context, const SecuritySettings& settings,
                               const PermissionOptions& permissions)
    : settings_(settings),
      site_(context.site),
      audit_(context.audit),
      proxies_(settings.trustedProxies, "HospitalBridge.Security.TrustedProxies"),
      hasher_(settings.passwordHashIterations),
      users_(context.database),
      sessions_(context.database, settings.sessionIdleMinutes * 60, settings.sessionMaxHours * 3600),
      // Per user name (a success forgets its failures) and per address.
      throttle_({{settings.maxFailuresPerUser, settings.throttleWindowMinutes * 60,
                  settings.lockoutMinutes * 60, true},
                 {settings.maxFailuresPerAddress, settings.throttleWindowMinutes * 60,
                  settings.lockoutMinutes * 60, false}}),
      credentials_(context.database, settings.credentialCacheSeconds, context.clock),
      sessionIdentities_(context.database, kSessionCacheSeconds, context.clock),
      authenticator_(users_, sessions_, throttle_, credentials_, sessionIdentities_,
                     settings.passwordHashIterations, context.audit),
      permissions_(permissions),
      gate_(authenticator_, context.router, permissions_),
      studyAccess_(context.orthanc) {
  EnsureBootstrapAdmin(context.site, settings_, users_, hasher_);
  sessions_.PurgeExpired();
  RegisterSecurityRoutes(context.router,
                         SecurityRoutesContext{users_, sessions_, authenticator_, hasher_, context.audit});
}

void SecurityModule::Describe(Json::Value& section) {
  section["trusted_proxies"] = static_cast<Json::UInt64>(settings_.trustedProxies.size());
  section["credential_cache_seconds"] = settings_.credentialCacheSeconds;
  section["max_request_body_kilobytes"] = static_cast<Json::UInt64>(settings_.maxRequestBodyBytes / 1024);
}

void SecurityModule::PrepareRequest(HttpRequest& request) const {
  request.path = CanonicalPath(request.path);
  proxies_.Resolve(request, site_.orthanc.sslEnabled);
}

std::optional<std::string> SecurityModule::RefuseCoreBody(const HttpRequest& request) {
  const GuardedRoute* route = FindGuardedRoute(request.path);
  if (route == nullptr || request.body.empty()) return std::nullopt;
  const std::string reason = RefuseJsonBody(request.body, settings_.maxRequestBodyBytes);
  if (reason.empty()) return std::nullopt;
  const AuthResult auth = authenticator_.Identify(request);
  Log::Warning("refused " + request.method + " " + request.path + " from " + request.remoteIp + " (" +
               auth.identity.username + "): " + reason);
  AuditEvent event =
      MakeAuditEvent("request.refused", AuditActor::Of(auth.identity, request.remoteIp), "failure");
  event.detail["method"] = request.method;
  event.detail["path"] = request.path;
  event.detail["reason"] = reason;
  audit_.Record(event);
  return reason;
}

bool SecurityModule::AcceptsReceivedInstance(const std::string& file, const std::string& origin,
                                             const std::string& address) {
  const std::string reason = RefuseDicomUpload(file);
  if (reason.empty()) return true;
  Log::Warning("discarded a DICOM instance of " + std::to_string(file.size()) + " bytes received through " +
               origin + (address.empty() ? "" : " from " + address) + ": " + reason);
  const AuditActor actor = origin == "DicomProtocol" ? AuditActor::DicomSender("", address)
                                                     : AuditActor{ActorKind::kSystem, origin, "", address};
  AuditEvent event = MakeAuditEvent("request.refused", actor, "failure");
  event.detail["what"] = "DICOM instance";
  event.detail["origin"] = origin;
  event.detail["bytes"] = static_cast<Json::UInt64>(file.size());
  event.detail["reason"] = reason;
  audit_.Record(event);
  return false;
}

}  // namespace HospitalBridge
