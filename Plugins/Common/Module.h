#pragma once
// What a module is to the composition root (Bridge): it is built from its
// settings and the ModuleContext, registers its routes and study-event
// consumers while it is built, starts its threads when Orthanc has started
// and stops them before Orthanc stops, and describes itself in
// GET /bridge/system. Adding a module is one line in Bridge.cpp.
#include <json/json.h>

#include <string>

#include "Common/AuditSink.h"
#include "Common/Clock.h"
#include "Common/Leases.h"
#include "Common/OrthancRest.h"
#include "Common/PeerClient.h"
#include "Common/Router.h"
#include "Common/Settings.h"
#include "Common/Storage.h"

namespace HospitalBridge {

// What the core gives every module: the site, the database, Orthanc, the
// peers, the audit trail, the router, the clock and the leases (for work
// that must run on one node only). A module's own settings
// are read by its Read...Settings function (listed in Configuration.cpp) and
// given to its constructor beside this.
struct ModuleContext {
  const SiteSettings& site;
  IDatabase& database;
  IOrthancRest& orthanc;
  IPeerClient& peers;
  IAuditSink& audit;
  Router& router;
  const IClock& clock;
  ILeases& leases;
};

class IModule {
 public:
  virtual ~IModule() = default;
  // The key of its /bridge/system section ("shares", "watch_folders").
  virtual std::string Name() const = 0;
  // Orthanc has started: start threads, pick up what a crash interrupted.
  virtual void Start() {}
  // Orthanc is stopping: stop threads; nothing may be lost.
  virtual void Stop() {}
  // Fills its /bridge/system section (`section` is an empty object).
  virtual void Describe(Json::Value& section) { (void)section; }
};

}  // namespace HospitalBridge
