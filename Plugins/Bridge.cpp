#include "Bridge.h"

#include "Common/AuditVocabulary.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Migrations.h"
#include "Common/Version.h"
#include "System/SystemRoutes.h"
#include "Viewer/ViewerModule.h"
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
  modules["Viewer"] = config.viewer.enabled;
  modules["Orders"] = config.orders.enabled;
  modules["Reports"] = config.reports.enabled;
  modules["Security"] = true;
  modules["Router"] = config.router.enabled;
  return modules;
}
}  // namespace

Bridge::Bridge(const Configuration& config, IOrthancRest& orthanc, IPeerClient& peers,
               const std::string& orthancVersion)
    : config_(config),
      database_(config.databasePath),
      leases_(database_, SystemClock::Instance()),
      context_{config_, database_, orthanc, peers, audit_, router_, SystemClock::Instance(), leases_} {
  MigrateDatabase(database_, EmbeddedMigrations());

  // Each module after those it builds on. The study events reach their
  // consumers by stage (file, mark, match, act, record), whatever this order.
  // DICOMweb reads are for whoever may open the viewer.
  SecurityModule& security =
      Add<SecurityModule>(context_, config_.security, PermissionOptions{ViewerModule::Roles(config_.viewer)});
  IndexModule& index = Add<IndexModule>(context_, config_.studyIndex);
  StudyEventPipeline* pipeline = index.Pipeline();
  RegistryModule& registry = Add<RegistryModule>(context_, config_.registry, index.Studies(), pipeline,
                                                 config_.studyIndex.maxPageSize);
  AuditModule& audit = Add<AuditModule>(context_, config_.audit, audit_, index.Studies(),
                                        registry.PatientsIfEnabled(), pipeline, security.Gate());
  ConsentModule& consent = Add<ConsentModule>(context_, config_.consent, registry.Enabled(),
                                              registry.Patients(), index.Studies(), pipeline);
  const auto decide = [&consent](const std::string& patient) { return consent.Decide(patient); };
  Add<FederationModule>(context_, config_.federation, registry.Sites(), registry.Patients(), index.Studies(),
                        decide);
  ShareModule& shares =
      Add<ShareModule>(context_, config_.shares,
                       ShareModuleNeeds{index.Studies(), registry.Sites(), registry.PatientsIfEnabled(),
                                        consent.Service(), security.StudyAccess(), pipeline});
  Add<WatchFolderModule>(context_, config_.watchFolders);
  Add<ViewerModule>(context_, config_.viewer, config_.studyIndex.enabled ? &index.Studies() : nullptr);
  if (config_.orders.enabled) {
    OrdersModule& orders = Add<OrdersModule>(context_, config_.orders, registry.PatientsIfEnabled(),
                                             config_.audit.enabled, pipeline);
    index.AnnotateStudiesWith([&orders](Json::Value& studies) { orders.AnnotateStudies(studies); });
    orders_ = &orders;
  }
  OrderService* orderService = orders_ != nullptr ? &orders_->Service() : nullptr;
  ReportsModule& reports = Add<ReportsModule>(
      context_, config_.reports,
      ReportsModuleNeeds{
          index.Studies(), pipeline, security.Authentication(), security.Users(), audit.StoreIfEnabled(),
          registry.Sites(), orderService, [&registry](const StudyRecord& study) {
            const std::string id = registry.RegistryPatientOf(study);
            std::optional<Patient> patient = id.empty() ? std::nullopt : registry.Patients().Find(id);
            return std::make_pair(id, patient ? patient->nationalId : std::string());
          }});
  router_module_ = &Add<RouterModule>(context_, config_.router,
                                      RouterModuleNeeds{index.Studies(), pipeline,
                                                        [&registry, decide](const StudyRecord& study) {
                                                          return decide(registry.RegistryPatientOf(study));
                                                        },
                                                        nullptr});
  if (reports.Enabled() && router_module_->Enabled()) {
    // A signed report (preliminary, final, amended) goes to the destinations
    // of the report rules, with the reports module's DiagnosticReport.
    RouterModule* router = router_module_;
    reports.OnSigned([router](const SignedReport& done) {
      RoutedReport routed;
      routed.reportId = std::to_string(done.report.id);
      routed.studyUid = done.report.studyUid;
      routed.status = done.version.signedStatus;
      routed.conclusion = done.diagnosticReport.get("conclusion", "").asString();
      routed.author = done.version.signedBy;
      routed.signedAt = done.version.signedAt;
      routed.fhirResource = JsonText::Write(done.diagnosticReport);
      router->OnReportSigned(routed);
    });
  }
  if (orders_ != nullptr) {
    // "RequireOrder" asks the orders module, and the router looks for orders
    // that arrived for its waiting deliveries (a cancelled order is none).
    OrdersModule* orders = orders_;
    router_module_->SetOrderLookup([this, orders](const std::string& accession) {
      return InRead(database_, [&](Transaction& transaction) {
        const std::optional<Order> order = orders->Service().Store().FindByAccession(transaction, accession);
        return order.has_value() && order->status != OrderStatus::kCancelled;
      });
    });
    RouterModule* router = router_module_;
    orders->Service().OnCreated([router](const Order& order) { router->OnOrderArrived(order.accession); });
  }
  security_ = &security;
  index_ = &index;

  // What crosses modules.
  if (pipeline != nullptr) {
    pipeline->SetResolvers(
        [&registry](const StudyRecord& study) { return registry.RegistryPatientOf(study); }, decide);
  }
  if (shares.Enabled()) {
    security.Gate().SetTicketAdmission(
        [&shares](const HttpRequest& request) { return shares.AdmitTicketedDownload(request); });
    consent.OnDenied([&shares](const std::string& patientId, ConsentKind kind) {
      if (kind == ConsentKind::kShare) shares.RevokeForPatient(patientId);
    });
  }
  if (reports.Enabled() && shares.Enabled()) shares.SetPortalReports(reports.Portal());
  RegisterSystemRoutes(router_, SystemInfoSources{config_.Site(),
                                                  ModuleSwitches(config_),
                                                  database_,
                                                  orthanc,
                                                  orthancVersion,
                                                  {[this](Json::Value& answer) {
                                                    for (const std::unique_ptr<IModule>& module : modules_) {
                                                      Json::Value section(Json::objectValue);
                                                      module->Describe(section);
                                                      answer[module->Name()] = section;
                                                    }
                                                  }}});
  if (config_.webAppEnabled) RegisterStaticAssets(router_);
  RecordStart();
}

Bridge::~Bridge() {
  OnOrthancStopping();
  // The last built goes first: no module outlives one it builds on.
  while (!modules_.empty()) modules_.pop_back();
}

void Bridge::RecordStart() {
  AuditEvent started = MakeAuditEvent("system.started", AuditActor::System());
  started.detail["version"] = kPluginVersion;
  started.detail["site"] = config_.siteId;
  started.detail["database"] = config_.databasePath;
  started.detail["modules"]["StudyIndex"] = config_.studyIndex.enabled;
  started.detail["modules"]["Registry"] = config_.registry.enabled;
  started.detail["modules"]["Federation"] = config_.federation.enabled;
  started.detail["modules"]["Consent"] = config_.consent.enabled;
  started.detail["modules"]["Shares"] = config_.shares.enabled;
  started.detail["modules"]["Router"] = config_.router.enabled;
  started.detail["watch_folders"] = static_cast<Json::UInt64>(config_.watchFolders.folders.size());
  started.detail["remote_access"] = config_.orthanc.remoteAccessAllowed;
  started.detail["syslog"] = config_.audit.syslogEnabled;
  audit_.Record(started);
}

std::optional<HttpResponse> Bridge::RefuseCoreBody(const HttpRequest& request) {
  const std::optional<std::string> reason = security_->RefuseCoreBody(request);
  if (!reason) return std::nullopt;
  HttpResponse refusal = HttpResponse::Error(400, "The request was refused", *reason);
  AddSecurityHeaders(refusal, false);
  return refusal;
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
  const size_t maxBody = match.maxBodyBytes > 0 ? match.maxBodyBytes : security_->MaxRequestBodyBytes();
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
    AuthResult auth = security_->Identify(request);
    if (auth.outcome != AuthResult::Outcome::kAuthenticated || !match.roles.Contains(auth.identity.role)) {
      throw DomainError::Forbidden("Forbidden");
    }
    identity = auth.identity;
  }
  RouteContext context{request, identity, match.params};
  return (*match.handler)(context);
}

void Bridge::OnOrthancStarted() {
  for (std::unique_ptr<IModule>& module : modules_) module->Start();
}

void Bridge::OnOrthancStopping() {
  for (auto module = modules_.rbegin(); module != modules_.rend(); ++module) (*module)->Stop();
}

}  // namespace HospitalBridge
