#include "Bridge.h"

#include "Audit/AuditRoutes.h"
#include "Common/AuditVocabulary.h"
#include "Common/Errors.h"
#include "Common/Log.h"
#include "Common/Migrations.h"
#include "Common/Time.h"
#include "Common/Version.h"
#include "Consent/ConsentRoutes.h"
#include "Dicom/UploadCheck.h"
#include "Federation/FederationRoutes.h"
#include "Index/StudyRoutes.h"
#include "Registry/RegistryRoutes.h"
#include "Security/BodyGuard.h"
#include "Security/BootstrapAdmin.h"
#include "Security/SecurityRoutes.h"
#include "Share/PortalRoutes.h"
#include "Share/ShareRoutes.h"
#include "System/SystemRoutes.h"
#include "Web/StaticAssets.h"

namespace HospitalBridge {
namespace {
Json::Value ModuleSwitches(const Configuration& config) {
  Json::Value modules(Json::objectValue);
  modules["StudyIndex"] = config.studyIndex.enabled;
  modules["WebApp"] = config.webAppEnabled;
  modules["Registry"] = config.registry.enabled;
  modules["Federation"] = config.federation.enabled;
  modules["Consent"] = config.consent.enabled;
  modules["Audit"] = config.audit.enabled;
  modules["Security"] = true;
  return modules;
}
}  // namespace

Bridge::Bridge(const Configuration& config, IOrthancRest& orthanc, IPeerClient& peers,
               const std::string& orthancVersion)
    : config_(config),
      orthanc_(orthanc),
      proxies_(config.security.trustedProxies, "HospitalBridge.Security.TrustedProxies"),
      database_(config.databasePath),
      leases_(database_, SystemClock::Instance()),
      hasher_(config.security.passwordHashIterations),
      users_(database_),
      sessions_(database_, config.security.sessionIdleMinutes * 60, config.security.sessionMaxHours * 3600),
      throttle_({{config.security.maxFailuresPerUser, config.security.throttleWindowMinutes * 60,
                  config.security.lockoutMinutes * 60, true},
                 {config.security.maxFailuresPerAddress, config.security.throttleWindowMinutes * 60,
                  config.security.lockoutMinutes * 60, false}}),
      authenticator_(users_, sessions_, throttle_, config.security.credentialCacheSeconds,
                     config.security.passwordHashIterations, audit_),
      gate_(authenticator_, router_, permissions_),
      studies_(database_),
      reader_(orthanc),
      eventLog_(database_),
      studyAccess_(orthanc),
      sites_(database_),
      patients_(database_),
      auditStore_(database_),
      consentStore_(database_),
      shareStore_(database_),
      context_{config_, database_, orthanc, peers, audit_, router_, SystemClock::Instance(), leases_} {
  MigrateDatabase(database_, EmbeddedMigrations());
  if (config_.audit.enabled) {
    recorder_ = std::make_unique<AuditRecorder>(auditStore_, studies_,
                                                config_.registry.enabled ? &patients_ : nullptr, orthanc,
                                                config_.Site(), config_.audit, &leases_);
    audit_.SetTarget(recorder_.get());
    recorder_->Start();
    storedReporter_ = std::make_unique<StoredReporter>(database_, auditStore_);
    coreAuditor_ = std::make_unique<CoreAccessAuditor>(audit_, studies_);
    gate_.SetObserver([this](const HttpRequest& request, const Identity& identity, bool allowed) {
      coreAuditor_->Observe(request, identity, allowed);
    });
    if (config_.audit.syslogEnabled) {
      syslog_ = std::make_unique<SyslogForwarder>(database_, auditStore_, config_.audit,
                                                  AuditSource{config_.siteId, config_.siteName}, &leases_);
      syslog_->Start();
    }
  }
  EnsureBootstrapAdmin(config_.Site(), config_.security, users_, hasher_);
  sessions_.PurgeExpired();

  RegisterSecurityRoutes(router_, SecurityRoutesContext{users_, sessions_, authenticator_, hasher_, audit_});
  if (config_.studyIndex.enabled) {
    worker_ = std::make_unique<IndexWorker>(studies_, reader_, config_.studyIndex.refreshDelayMs, &leases_);
    RegisterStudyRoutes(router_, studies_, config_.studyIndex);
  }
  if (config_.registry.enabled) {
    linker_ = std::make_unique<PatientLinker>(patients_, orthanc, config_.registry, config_.siteId);
    if (config_.consent.enabled) {
      consent_ = std::make_unique<ConsentService>(consentStore_, patients_, studies_, config_.consent,
                                                  config_.siteId);
      RegisterConsentRoutes(
          router_, ConsentRoutesContext{config_.Site(), *consent_, consentStore_, patients_, audit_});
    }
    RegisterRegistryRoutes(
        router_,
        RegistryRoutesContext{config_.Site(), config_.studyIndex.maxPageSize, sites_, patients_, studies_,
                              [&peers](const std::string& name) { return peers.Knows(name); }});
  }
  if (config_.federation.enabled) {
    federation_ = std::make_unique<FederationService>(config_.Site(), config_.federation, sites_, patients_,
                                                      studies_, peers);
    if (consent_) {
      federation_->SetConsentCheck([this](const std::string& patientId) {
        return consent_->Permits(patientId, ConsentKind::kFederation);
      });
    }
    retrieve_ = std::make_unique<RetrieveJobs>(database_, sites_, peers, orthanc, config_.siteId, &leases_);
    RegisterFederationRoutes(router_, FederationRoutesContext{config_.Site(), *federation_, *retrieve_,
                                                              patients_, studies_, orthanc, audit_});
  }
  RegisterSystemRoutes(router_, SystemInfoSources{config_.Site(),
                                                  ModuleSwitches(config_),
                                                  database_,
                                                  studies_,
                                                  worker_.get(),
                                                  orthanc,
                                                  patients_,
                                                  sites_,
                                                  orthancVersion,
                                                  {[this](Json::Value& answer) { SystemSections(answer); }}});
  if (config_.shares.enabled) {
    shares_ = std::make_unique<ShareService>(
        shareStore_, studies_, orthanc, config_.registry.enabled ? &patients_ : nullptr, consent_.get(),
        audit_, config_.Site(), config_.shares,
        config_.databasePath == ":memory:" ? "" : config_.databasePath + ".slip-key");
    portalMedia_ = std::make_unique<PortalMedia>(orthanc);
    RegisterShareRoutes(router_, ShareRoutesContext{config_.Site(), config_.shares, *shares_, sites_});
    RegisterPortalRoutes(router_,
                         PortalRoutesContext{config_.Site(), *shares_, *portalMedia_, sites_, studyAccess_});
    if (consent_) {
      consent_->OnDenied([this](const std::string& patientId, ConsentKind kind) {
        if (kind == ConsentKind::kShare) shares_->RevokeForPatient(patientId);
      });
    }
    gate_.SetTicketAdmission(
        [this](const HttpRequest& request) { return shares_->AdmitTicketedDownload(request); });
    shares_->Maintain();
  }
  if (!config_.watchFolders.folders.empty()) {
    watchFolders_ = std::make_unique<WatchFolderImporter>(config_.watchFolders, orthanc, &leases_);
  }
  if (config_.webAppEnabled) RegisterStaticAssets(router_);
  if (worker_) {
    // What happens after a study is indexed, in this order, each consumer
    // with its own cursor over the durable study events: file it under its
    // patient, mark what consent restricts, and once complete, share it
    // automatically and audit who sent it.
    pipeline_ = std::make_unique<StudyEventPipeline>(eventLog_, studies_, config_.studyIndex.eventDelayMs);
    pipeline_->SetResolvers(
        [this](const StudyRecord& study) -> std::string {
          if (!config_.registry.enabled) return "";
          std::optional<Patient> patient = patients_.FindByIdentifier(config_.siteId, study.patientId);
          if (!patient) return "";
          return patient->mergedInto.empty() ? patient->id : patient->mergedInto;
        },
        [this](const std::string& registryPatientId) {
          return consent_ ? consent_->Decide(registryPatientId) : PatientConsent{true, true, true};
        });
    if (linker_) pipeline_->Add(*linker_);
    if (consent_) {
      consentMarks_ = std::make_unique<ConsentMarks>(consentStore_);
      pipeline_->Add(*consentMarks_);
    }
    if (shares_) {
      autoShare_ = std::make_unique<AutoShare>(*shares_, config_.shares.autoShare);
      pipeline_->Add(*autoShare_);
    }
    if (storedReporter_) pipeline_->Add(*storedReporter_);
    worker_->SetOnChange([this] { pipeline_->Wake(); });
  }
  if (recorder_) {
    RegisterAuditRoutes(router_,
                        AuditRoutesContext{auditStore_, AuditSource{config_.siteId, config_.siteName},
                                           [this] { recorder_->Flush(); },
                                           [this](const std::string& id) {
                                             std::optional<Patient> patient = patients_.Find(id);
                                             return patient ? patient->ToJson() : Json::Value();
                                           }});
    AuditEvent started = MakeAuditEvent("system.started", AuditActor::System());
    started.detail["version"] = kPluginVersion;
    started.detail["site"] = config_.siteId;
    started.detail["database"] = config_.databasePath;
    started.detail["modules"]["StudyIndex"] = config_.studyIndex.enabled;
    started.detail["modules"]["Registry"] = config_.registry.enabled;
    started.detail["modules"]["Federation"] = config_.federation.enabled;
    started.detail["modules"]["Consent"] = config_.consent.enabled;
    started.detail["modules"]["Shares"] = config_.shares.enabled;
    started.detail["watch_folders"] = static_cast<Json::UInt64>(config_.watchFolders.folders.size());
    started.detail["remote_access"] = config_.orthanc.remoteAccessAllowed;
    started.detail["syslog"] = config_.audit.syslogEnabled;
    audit_.Record(started);
  }
}

Bridge::~Bridge() {
  OnOrthancStopping();
  if (syslog_) syslog_->Stop();
  if (recorder_) recorder_->Stop();  // writes what is still queued
  audit_.SetTarget(nullptr);
}

void Bridge::SystemSections(Json::Value& answer) {
  for (const std::unique_ptr<IModule>& module : modules_) {
    Json::Value section(Json::objectValue);
    module->Describe(section);
    answer[module->Name()] = section;
  }
  if (pipeline_) answer["study_events"] = pipeline_->Status();
  Json::Value& audit = answer["audit"];
  audit["enabled"] = recorder_ != nullptr;
  if (recorder_) {
    audit["events"] = static_cast<Json::Int64>(auditStore_.Count());
    audit["last_event_time"] = Time::FormatIsoUtcMilliseconds(auditStore_.LastTimeMs());
    audit["queue_depth"] = static_cast<Json::UInt64>(recorder_->QueueDepth());
  }
  audit["syslog"]["enabled"] = syslog_ != nullptr;
  if (syslog_) {
    SyslogForwarder::Status status = syslog_->GetStatus();
    audit["syslog"]["backlog"] = static_cast<Json::Int64>(status.backlog);
    audit["syslog"]["sent"] = static_cast<Json::Int64>(status.sent);
    audit["syslog"]["last_error"] = status.lastError;
    audit["syslog"]["destination"] = config_.audit.syslogHost + ":" +
                                     std::to_string(config_.audit.syslogPort) +
                                     (config_.audit.syslogTcp ? " (tcp)" : " (udp)");
  }
  Json::Value& shares = answer["shares"];
  shares["enabled"] = shares_ != nullptr;
  if (shares_) {
    const int64_t now = Time::NowSeconds();
    shares["public_base_url"] = config_.shares.publicBaseUrl;
    shares["default_valid_days"] = config_.shares.defaultValidDays;
    shares["max_valid_days"] = config_.shares.maxValidDays;
    shares["allow_no_second_factor"] = config_.shares.allowNoSecondFactor;
    shares["active"] = static_cast<Json::Int64>(shareStore_.CountActive(now));
    shares["pending_slips"] = static_cast<Json::Int64>(shareStore_.CountPendingSlips());
    shares["auto_share"]["enabled"] = config_.shares.autoShare.enabled;
    shares["auto_share"]["modalities"] = Json::Value(Json::arrayValue);
    for (const std::string& m : config_.shares.autoShare.modalities)
      shares["auto_share"]["modalities"].append(m);
    shares["auto_share"]["calling_aets"] = Json::Value(Json::arrayValue);
    for (const std::string& a : config_.shares.autoShare.callingAets)
      shares["auto_share"]["calling_aets"].append(a);
  }
  if (watchFolders_) {
    answer["watch_folders"] = watchFolders_->Status();
  } else {
    answer["watch_folders"]["enabled"] = false;
    answer["watch_folders"]["folders"] = Json::Value(Json::arrayValue);
  }
  Json::Value& consent = answer["consent"];
  consent["enabled"] = consent_ != nullptr;
  consent["defaults"]["share"] = config_.consent.sharePermitsByDefault ? "opt-out" : "opt-in";
  consent["defaults"]["federation"] = config_.consent.federationPermitsByDefault ? "opt-out" : "opt-in";
  consent["defaults"]["research"] = config_.consent.researchPermitsByDefault ? "opt-out" : "opt-in";
}

std::optional<HttpResponse> Bridge::RefuseCoreBody(const HttpRequest& request) {
  const GuardedRoute* route = FindGuardedRoute(request.path);
  if (route == nullptr || request.body.empty()) return std::nullopt;
  const std::string reason = RefuseJsonBody(request.body, config_.security.maxRequestBodyBytes);
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
  HttpResponse refusal = HttpResponse::Error(400, "The request was refused", reason);
  AddSecurityHeaders(refusal, false);
  return refusal;
}

bool Bridge::AcceptsReceivedInstance(const std::string& file, const std::string& origin,
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

void Bridge::PrepareRequest(HttpRequest& request) const {
  request.path = CanonicalPath(request.path);
  proxies_.Resolve(request, config_.orthanc.sslEnabled);
}

HttpResponse Bridge::HandleRequest(const HttpRequest& request) {
  HttpResponse response;
  try {
    response = Dispatch(request);
  } catch (const DomainError& e) {
    response = HttpResponse::Error(HttpStatusOf(e.GetKind()), e.what(), e.Detail());
  } catch (const std::exception& e) {
    Log::Error("internal error on " + request.method + " " + request.path + ": " + e.what());
    response = HttpResponse::Error(500, "Internal error", "The event was logged on the server.");
  }
  AddSecurityHeaders(response, request.path == "/s" || request.path.rfind("/s/", 0) == 0);
  return response;
}

HttpResponse Bridge::Dispatch(const HttpRequest& request) {
  Router::Match match = router_.Find(request.method, request.path);
  const size_t maxBody = match.maxBodyBytes > 0 ? match.maxBodyBytes : config_.security.maxRequestBodyBytes;
  if (request.body.size() > maxBody) {
    throw DomainError::TooLarge("The request body is too large",
                                "at most " + std::to_string(maxBody / 1024) + " KB");
  }
  if (match.kind == Router::Match::Kind::kNone) throw DomainError::NotFound("No such route", request.path);
  if (match.kind == Router::Match::Kind::kWrongMethod) {
    return HttpResponse::Error(405, "Method not allowed", request.method + " " + request.path);
  }
  Identity identity;
  if (!match.isPublic) {
    // The gate has let this request in already; checking again keeps a
    // route safe even if the filter were bypassed.
    AuthResult auth = authenticator_.Identify(request);
    if (auth.outcome != AuthResult::Outcome::kAuthenticated || !match.roles.Contains(auth.identity.role)) {
      throw DomainError::Forbidden("Forbidden");
    }
    identity = auth.identity;
  }
  RouteContext context{request, identity, match.params};
  return (*match.handler)(context);
}

IModule& Bridge::AddModule(std::unique_ptr<IModule> module) {
  modules_.push_back(std::move(module));
  return *modules_.back();
}

void Bridge::OnOrthancStarted() {
  if (pipeline_) pipeline_->Start();  // first: what a crash interrupted
  if (worker_) worker_->Start(config_.studyIndex.reconcileAtStart);
  if (retrieve_) retrieve_->Start();
  if (watchFolders_) watchFolders_->Start();
  for (std::unique_ptr<IModule>& module : modules_) module->Start();
}

void Bridge::OnOrthancStopping() {
  for (auto module = modules_.rbegin(); module != modules_.rend(); ++module) (*module)->Stop();
  if (watchFolders_) watchFolders_->Stop();
  if (retrieve_) retrieve_->Stop();
  if (worker_) worker_->Stop();
  if (pipeline_) pipeline_->Stop();
}

void Bridge::OnStudyChanged(const std::string& orthancId) {
  if (worker_) worker_->StudyChanged(orthancId);
}

void Bridge::OnStudyStable(const std::string& orthancId) {
  if (worker_) worker_->StudyStable(orthancId);
}

void Bridge::OnStudyDeleted(const std::string& orthancId) {
  if (worker_) worker_->StudyDeleted(orthancId);
}

}  // namespace HospitalBridge
