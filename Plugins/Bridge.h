#pragma once
// The composition root of the core: builds every enabled module from the
// configuration and answers the few questions the Orthanc adapter asks. Knows
// nothing of the Orthanc SDK, so integration-free tests can drive it whole.
#include <memory>
#include <string>

#include "Audit/AuditRecorder.h"
#include "Audit/AuditStore.h"
#include "Audit/CoreAccessAuditor.h"
#include "Audit/StoredReporter.h"
#include "Audit/SyslogForwarder.h"
#include "Common/AuditSink.h"
#include "Common/Http.h"
#include "Common/Module.h"
#include "Common/OrthancRest.h"
#include "Common/PeerClient.h"
#include "Common/Router.h"
#include "Common/SqliteDatabase.h"
#include "Configuration.h"
#include "Consent/ConsentMarks.h"
#include "Consent/ConsentService.h"
#include "Consent/ConsentStore.h"
#include "Federation/FederationService.h"
#include "Federation/RetrieveJobs.h"
#include "Import/WatchFolderImporter.h"
#include "Index/IndexWorker.h"
#include "Index/StudyEventLog.h"
#include "Index/StudyEventPipeline.h"
#include "Index/StudyIndexStore.h"
#include "Index/StudyReader.h"
#include "Registry/PatientLinker.h"
#include "Registry/PatientStore.h"
#include "Registry/SiteStore.h"
#include "Security/AccessGate.h"
#include "Security/AttemptLimiter.h"
#include "Security/Authenticator.h"
#include "Security/ClientAddress.h"
#include "Security/PasswordHasher.h"
#include "Security/PermissionTable.h"
#include "Security/SessionStore.h"
#include "Security/StudyAccessPolicy.h"
#include "Security/UserStore.h"
#include "Share/AutoShare.h"
#include "Share/PortalMedia.h"
#include "Share/ShareService.h"
#include "Share/ShareStore.h"

namespace HospitalBridge {

class Bridge {
 public:
  // Opens and migrates the database, creates the bootstrap administrator.
  // Throws StartupError with a message for the administrator.
  Bridge(const Configuration& config, IOrthancRest& orthanc, IPeerClient& peers,
         const std::string& orthancVersion);
  ~Bridge();

  // Before anything reads a request: its path in canonical form, its
  // client's address and scheme (through a trusted proxy or not).
  void PrepareRequest(HttpRequest& request) const;
  // Orthanc's incoming-request filter: may this request go on?
  bool AllowRequest(const HttpRequest& request) { return gate_.Allows(request); }
  // Every route under /bridge/ (and later /s/).
  HttpResponse HandleRequest(const HttpRequest& request);
  // A request to one of Orthanc's routes guarded for its body (BodyGuard):
  // the refusal to answer, or nothing when Orthanc may have it.
  std::optional<HttpResponse> RefuseCoreBody(const HttpRequest& request);
  // A DICOM file Orthanc received by any path, before it parses it;
  // `origin` names the path (RestApi, DicomProtocol, Plugins, ...).
  bool AcceptsReceivedInstance(const std::string& file, const std::string& origin,
                               const std::string& address);

  // Orthanc's change events. They only record the ID and return.
  void OnOrthancStarted();
  void OnOrthancStopping();
  void OnStudyChanged(const std::string& orthancId);
  void OnStudyStable(const std::string& orthancId);
  void OnStudyDeleted(const std::string& orthancId);

  const Configuration& Config() const { return config_; }
  IndexWorker* Worker() { return worker_.get(); }
  StudyIndexStore& Studies() { return studies_; }
  UserStore& Users() { return users_; }
  PatientStore& Patients() { return patients_; }
  SiteStore& Sites() { return sites_; }
  RetrieveJobs* Retrieve() { return retrieve_.get(); }
  AuditRecorder* Audit() { return recorder_.get(); }
  AuditStore& AuditEvents() { return auditStore_; }
  ConsentService* Consent() { return consent_.get(); }
  ShareService* Shares() { return shares_.get(); }
  WatchFolderImporter* WatchFolders() { return watchFolders_.get(); }

 private:
  HttpResponse Dispatch(const HttpRequest& request);
  // Takes a module: it is started after the others, stopped before them, and
  // describes itself in /bridge/system under its Name().
  IModule& AddModule(std::unique_ptr<IModule> module);
  void SystemSections(Json::Value& answer);

  const Configuration config_;
  IOrthancRest& orthanc_;
  const TrustedProxies proxies_;
  SqliteDatabase database_;
  DatabaseLeases leases_;
  // Declared before every module that reports to it, so they can hold it
  // from the start; it forwards to the recorder once that exists.
  AuditForwarder audit_;
  PasswordHasher hasher_;
  UserStore users_;
  SessionStore sessions_;
  AttemptLimiter throttle_;
  Authenticator authenticator_;
  PermissionTable permissions_;
  Router router_;
  AccessGate gate_;
  StudyIndexStore studies_;
  StudyReader reader_;
  std::unique_ptr<IndexWorker> worker_;
  StudyEventLog eventLog_;
  StudyAccessPolicy studyAccess_;
  std::unique_ptr<StudyEventPipeline> pipeline_;
  SiteStore sites_;
  PatientStore patients_;
  std::unique_ptr<PatientLinker> linker_;
  std::unique_ptr<FederationService> federation_;
  std::unique_ptr<RetrieveJobs> retrieve_;
  AuditStore auditStore_;
  ConsentStore consentStore_;
  std::unique_ptr<ConsentService> consent_;
  std::unique_ptr<AuditRecorder> recorder_;
  std::unique_ptr<SyslogForwarder> syslog_;
  std::unique_ptr<StoredReporter> storedReporter_;
  std::unique_ptr<CoreAccessAuditor> coreAuditor_;
  ShareStore shareStore_;
  std::unique_ptr<ShareService> shares_;
  std::unique_ptr<ConsentMarks> consentMarks_;
  std::unique_ptr<AutoShare> autoShare_;
  std::unique_ptr<PortalMedia> portalMedia_;
  std::unique_ptr<WatchFolderImporter> watchFolders_;
  // What the core gives every module, and the modules built in that shape.
  ModuleContext context_;
  std::vector<std::unique_ptr<IModule>> modules_;
};

}  // namespace HospitalBridge
