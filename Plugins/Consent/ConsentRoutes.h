#pragma once
// /bridge/patients/{id}/consents and the FHIR R4 exports of a patient and
// its consents.
#include "Common/AuditSink.h"
#include "Common/Router.h"
#include "Common/Settings.h"
#include "Consent/ConsentService.h"
#include "Consent/ConsentStore.h"
#include "Registry/PatientStore.h"

namespace HospitalBridge {

struct ConsentRoutesContext {
  const SiteSettings& site;
  ConsentService& consents;
  ConsentStore& store;
  PatientStore& patients;
  IAuditSink& audit;
};

void RegisterConsentRoutes(Router& router, ConsentRoutesContext context);

Json::Value FhirPatient(const Patient& patient, const std::string& siteId);
Json::Value FhirConsent(const ConsentRecord& record, const Patient& patient, const std::string& siteName);

}  // namespace HospitalBridge
