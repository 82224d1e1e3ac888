#pragma once
// Share links as a module, in four parts: issuing (ShareIssuer: staff make,
// reprint and revoke links, the slip waits to print), phone access
// (PhoneAccess: the patient unlocks a link, a session, download tickets),
// auto-share (the "auto-share" study-event consumer) and presentation (the
// staff routes under /bridge/shares, the slip and QR code, and the portal
// under /s/ with its pages and images). An hourly upkeep forgets expired
// sessions and slips left unprinted.
#include <memory>
#include <string>

#include "Common/BackgroundWorker.h"
#include "Common/Module.h"
#include "Consent/ConsentService.h"
#include "Index/StudyEventPipeline.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"
#include "Registry/SiteStore.h"
#include "Security/AttemptLimiter.h"
#include "Security/StudyAccessPolicy.h"
#include "Share/AutoShare.h"
#include "Share/PhoneAccess.h"
#include "Share/PortalMedia.h"
#include "Share/PortalReports.h"
#include "Share/ShareIssuer.h"
#include "Share/ShareSettings.h"
#include "Share/ShareStore.h"

namespace HospitalBridge {

struct ShareModuleNeeds {
  StudyIndexStore& studies;
  SiteStore& sites;
  PatientStore* patients;        // null when the registry is off
  ConsentService* consent;       // null when consent is off
  StudyAccessPolicy& access;     // which study a link may see
  StudyEventPipeline* pipeline;  // null when the index is off
};

class ShareModule : public IModule {
 public:
  ShareModule(const ModuleContext& context, const SharesSettings& settings, ShareModuleNeeds needs);

  std::string Name() const override { return "shares"; }
  void Start() override;
  void Stop() override;
  void Describe(Json::Value& section) override;

  bool Enabled() const { return issuer_ != nullptr; }
  // For the gate: Orthanc's streaming download of a study on a live ticket.
  bool AdmitTicketedDownload(const HttpRequest& request);
  // Consent for sharing was withdrawn: the patient's live links end.
  void RevokeForPatient(const std::string& registryPatientId);
  // The reports the portal shows (reporting is a floor above).
  void SetPortalReports(IPortalReports* reports) { portalReports_.Set(reports); }

 private:
  const SharesSettings settings_;
  const IClock& clock_;
  ShareStore store_;
  // Failed look-ups and unlocks per address (a link's own failures are
  // counted in the database, and lock it).
  AttemptLimiter addressThrottle_;
  std::unique_ptr<ShareIssuer> issuer_;
  std::unique_ptr<PhoneAccess> phone_;
  std::unique_ptr<PortalMedia> media_;
  std::unique_ptr<AutoShare> autoShare_;
  PortalReportsSlot portalReports_;
  BackgroundWorker upkeep_;
};

}  // namespace HospitalBridge
