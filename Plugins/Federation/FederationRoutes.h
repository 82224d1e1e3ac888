#pragma once
// /bridge/federation/...: the user-facing query and retrieve, and the
// peer-facing routes under /bridge/federation/v1/ (role "peer" only).
#include "Common/AuditSink.h"
#include "Common/OrthancRest.h"
#include "Common/Router.h"
#include "Common/Settings.h"
#include "Federation/FederationService.h"
#include "Federation/RetrieveJobs.h"

namespace HospitalBridge {

struct FederationRoutesContext {
  const SiteSettings& site;
  FederationService& federation;
  RetrieveJobs& retrieve;
  PatientStore& patients;
  StudyIndexStore& studies;
  IOrthancRest& orthanc;
  IAuditSink& audit;
};

void RegisterFederationRoutes(Router& router, FederationRoutesContext context);

}  // namespace HospitalBridge
