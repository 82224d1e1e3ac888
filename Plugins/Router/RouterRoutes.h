#pragma once
// /bridge/router/...: what was sent where (per destination, per study, per
// delivery), and staff's actions on the queue (resend, resend all failed,
// cancel, route a study again).
#include <functional>

#include "Common/AuditSink.h"
#include "Common/Clock.h"
#include "Common/Router.h"
#include "Router/RouterService.h"

namespace HospitalBridge {

struct RouterRoutesContext {
  RouterService& service;
  IAuditSink& audit;
  const IClock& clock;
  // Routes the study again now (staff); the number of deliveries queued.
  std::function<int(const std::string& studyUid)> routeStudy;
  std::function<void()> wake;
};

void RegisterRouterRoutes(Router& router, RouterRoutesContext context);

}  // namespace HospitalBridge
