#pragma once
// The composition root of the core: builds the modules from the
// configuration, wires the few things that cross them, and answers the
// questions the Orthanc adapter asks. Knows nothing of the Orthanc SDK, so
// integration-free tests can drive it whole.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "Audit/AuditModule.h"
#include "Common/AuditSink.h"
#include "Common/Http.h"
#include "Common/Leases.h"
#include "Common/Module.h"
#include "Common/OrthancRest.h"
#include "Common/PeerClient.h"
#include "Common/Router.h"
#include "Common/SqliteDatabase.h"
#include "Configuration.h"
#include "Consent/ConsentModule.h"
#include "Federation/FederationModule.h"
#include "Import/WatchFolderModule.h"
#include "Index/IndexModule.h"
#include "Orders/OrdersModule.h"
#include "Registry/RegistryModule.h"
#include "Reports/ReportsModule.h"
#include "Router/RouterModule.h"
#include "Security/SecurityModule.h"
#include "Share/ShareModule.h"

namespace HospitalBridge {

class Bridge {
 public:
  // Opens and migrates the database, builds every module. Throws
  // StartupError with a message for the administrator.
  Bridge(const Configuration& config, IOrthancRest& orthanc, IPeerClient& peers,
         const std::string& orthancVersion);
  ~Bridge();

  // Before anything reads a request: its path in canonical form, its
  // client's address and scheme (through a trusted proxy or not).
  void PrepareRequest(HttpRequest& request) const { security_->PrepareRequest(request); }
  // Orthanc's incoming-request filter: may this request go on?
  bool AllowRequest(const HttpRequest& request) { return security_->Allows(request); }
  // Every route under /bridge/ and /s/.
  HttpResponse HandleRequest(const HttpRequest& request);
  // A request to one of Orthanc's routes guarded for its body (BodyGuard):
  // the refusal to answer, or nothing when Orthanc may have it.
  std::optional<HttpResponse> RefuseCoreBody(const HttpRequest& request);
  // A DICOM file Orthanc received by any path, before it parses it;
  // `origin` names the path (RestApi, DicomProtocol, Plugins, ...).
  bool AcceptsReceivedInstance(const std::string& file, const std::string& origin,
                               const std::string& address) {
    return security_->AcceptsReceivedInstance(file, origin, address);
  }

  // Orthanc's change events. They only record the ID and return.
  void OnOrthancStarted();
  void OnOrthancStopping();
  void OnStudyChanged(const std::string& orthancId) { index_->OnStudyChanged(orthancId); }
  void OnStudyStable(const std::string& orthancId) { index_->OnStudyStable(orthancId); }
  void OnStudyDeleted(const std::string& orthancId) { index_->OnStudyDeleted(orthancId); }

  const Configuration& Config() const { return config_; }
  // The orders module (the worklist callback asks it); null when switched off.
  OrdersModule* Orders() { return orders_; }

 private:
  // Takes a module: started after the ones before it, stopped (and
  // destroyed) before them, described in /bridge/system under its Name().
  template <typename Module, typename... Args>
  Module& Add(Args&&... args) {
    auto module = std::make_unique<Module>(std::forward<Args>(args)...);
    Module& added = *module;
    modules_.push_back(std::move(module));
    return added;
  }
  HttpResponse Dispatch(const HttpRequest& request);
  void RecordStart();

  const Configuration config_;
  SqliteDatabase database_;
  DatabaseLeases leases_;
  // Every module holds this sink from the start; it forwards to the audit
  // module's recorder once that exists.
  AuditForwarder audit_;
  Router router_;
  // What the core gives every module.
  ModuleContext context_;
  std::vector<std::unique_ptr<IModule>> modules_;
  SecurityModule* security_ = nullptr;
  IndexModule* index_ = nullptr;
  OrdersModule* orders_ = nullptr;
  RouterModule* router_module_ = nullptr;
};

}  // namespace HospitalBridge
