#include "Bridge.h"

#include "Common/Errors.h"
#include "Common/Log.h"
#include "Common/Migrations.h"
#include "Federation/FederationRoutes.h"
#include "Index/StudyRoutes.h"
#include "Registry/RegistryRoutes.h"
#include "Security/BootstrapAdmin.h"
#include "Security/SecurityRoutes.h"
#include "System/SystemRoutes.h"
#include "Web/StaticAssets.h"

namespace HospitalBridge {

Bridge::Bridge(const Configuration& config, IOrthancRest& orthanc, IPeerClient& peers,
               const std::string& orthancVersion)
    : config_(config),
      database_(config.databasePath),
      hasher_(config.security.passwordHashIterations),
      users_(database_),
      sessions_(database_, config.security.sessionIdleMinutes * 60, config.security.sessionMaxHours * 3600),
      throttle_(config.security.maxFailuresPerUser, config.security.maxFailuresPerAddress,
                config.security.throttleWindowMinutes * 60, config.security.lockoutMinutes * 60),
      authenticator_(users_, sessions_, throttle_, config.security.credentialCacheSeconds),
      gate_(authenticator_, router_, permissions_),
      studies_(database_),
      reader_(orthanc),
      sites_(database_),
      patients_(database_) {
  MigrateDatabase(database_, EmbeddedMigrations());
  EnsureBootstrapAdmin(config_, users_, hasher_);
  sessions_.PurgeExpired();

  RegisterSecurityRoutes(
      router_, SecurityRoutesContext{users_, sessions_, authenticator_, hasher_, config_.orthanc.sslEnabled});
  if (config_.studyIndex.enabled) {
    worker_ = std::make_unique<IndexWorker>(studies_, reader_, config_.studyIndex.refreshDelayMs);
    RegisterStudyRoutes(router_, studies_, config_.studyIndex);
  }
  if (config_.registry.enabled) {
    linker_ = std::make_unique<PatientLinker>(patients_, orthanc, config_.registry, config_.siteId);
    if (worker_) worker_->SetOnIndexed([this](const StudyRecord& study) { linker_->Link(study); });
    RegisterRegistryRoutes(
        router_, RegistryRoutesContext{config_, sites_, patients_, studies_,
                                       [&peers](const std::string& name) { return peers.Knows(name); }});
  }
  if (config_.federation.enabled) {
    federation_ = std::make_unique<FederationService>(config_, sites_, patients_, studies_, peers);
    retrieve_ = std::make_unique<RetrieveJobs>(database_, sites_, peers, orthanc, config_.siteId);
    RegisterFederationRoutes(
        router_, FederationRoutesContext{config_, *federation_, *retrieve_, patients_, studies_, orthanc});
  }
  RegisterSystemRoutes(router_, SystemInfoSources{config_, database_, studies_, worker_.get(), orthanc,
                                                  patients_, sites_, orthancVersion});
  if (config_.webAppEnabled) RegisterStaticAssets(router_);
}

Bridge::~Bridge() { OnOrthancStopping(); }

HttpResponse Bridge::HandleRequest(const HttpRequest& request) {
  HttpResponse response;
  try {
    response = Dispatch(request);
  } catch (const HttpError& e) {
    response = HttpResponse::Error(e.Status(), e.what(), e.Detail());
  } catch (const std::exception& e) {
    Log::Error("internal error on " + request.method + " " + request.path + ": " + e.what());
    response = HttpResponse::Error(500, "Internal error", "The event was logged on the server.");
  }
  AddSecurityHeaders(response);
  return response;
}

HttpResponse Bridge::Dispatch(const HttpRequest& request) {
  if (request.body.size() > config_.security.maxRequestBodyBytes) {
    throw HttpError(413, "The request body is too large",
                    "at most " + std::to_string(config_.security.maxRequestBodyBytes / 1024) + " KB");
  }
  Router::Match match = router_.Find(request.method, request.path);
  if (match.kind == Router::Match::Kind::kNone) throw HttpError(404, "No such route", request.path);
  if (match.kind == Router::Match::Kind::kWrongMethod) {
    throw HttpError(405, "Method not allowed", request.method + " " + request.path);
  }
  Identity identity;
  if (!match.isPublic) {
    // The gate has let this request in already; checking again keeps a
    // route safe even if the filter were bypassed.
    AuthResult auth = authenticator_.Identify(request);
    if (auth.outcome != AuthResult::Outcome::kAuthenticated || !match.roles.Contains(auth.identity.role)) {
      throw HttpError(403, "Forbidden");
    }
    identity = auth.identity;
  }
  RouteContext context{request, identity, match.params};
  return (*match.handler)(context);
}

void Bridge::OnOrthancStarted() {
  if (worker_) worker_->Start(config_.studyIndex.reconcileAtStart);
  if (retrieve_) retrieve_->Start();
}

void Bridge::OnOrthancStopping() {
  if (retrieve_) retrieve_->Stop();
  if (worker_) worker_->Stop();
}

void Bridge::OnStudyChanged(const std::string& orthancId) {
  if (worker_) worker_->StudyChanged(orthancId);
}

void Bridge::OnStudyDeleted(const std::string& orthancId) {
  if (worker_) worker_->StudyDeleted(orthancId);
}

}  // namespace HospitalBridge
