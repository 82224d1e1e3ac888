#pragma once
// Everything a patient's phone reaches, under /s/: the landing page behind
// the QR code, the unlock form, the study pages and their images and
// downloads. These routes are public to the staff gate; each one checks the
// share session itself, and a session reaches only its share's studies.
#include "Common/AuditSink.h"
#include "Common/HtmlTemplate.h"
#include "Common/Router.h"
#include "Common/Settings.h"
#include "Registry/SiteStore.h"
#include "Security/StudyAccessPolicy.h"
#include "Share/PhoneAccess.h"
#include "Share/PortalMedia.h"
#include "Share/PortalReports.h"

namespace HospitalBridge {

struct PortalRoutesContext {
  const SiteSettings& site;
  PhoneAccess& phone;
  IAuditSink& audit;
  PortalMedia& media;
  SiteStore& sites;
  StudyAccessPolicy& access;
  const PortalReportsSlot& reports;  // a study's final report, when reporting is on
};

void RegisterPortalRoutes(Router& router, PortalRoutesContext context);

// The name of the share session cookie (Path=/s).
extern const char kShareCookie[];

// This site's name and contact for the pages ("hospital_name",
// "hospital_phone", "hospital_email", "hospital_address"): the site record
// staff keep on the sites page, else the configured name.
TemplateValues HospitalTemplateValues(const SiteSettings& site, SiteStore& sites);

// key=value&... of an HTML form, decoded.
std::map<std::string, std::string> ParseFormBody(const std::string& body);

}  // namespace HospitalBridge
