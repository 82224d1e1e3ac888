#pragma once
// Issuing share links: who gets one for what (the study or every study of a
// patient, consent or the patient's attested agreement, options within the
// site's limits), reprints, revocation, unlocking a locked link, and the slip
// waiting to print. Secrets are made here and leave only once, in the answer
// to the member of staff who made the link (and on the slip, sealed until it
// is printed or too old).
#include <optional>
#include <string>

#include "Common/AuditSink.h"
#include "Common/AuditVocabulary.h"
#include "Common/Clock.h"
#include "Common/OrthancRest.h"
#include "Common/Settings.h"
#include "Consent/ConsentService.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"
#include "Share/ShareSettings.h"
#include "Share/ShareStore.h"
#include "Share/SlipSeal.h"

namespace HospitalBridge {

struct ShareRequest {
  std::string study;      // Orthanc ID or StudyInstanceUID
  std::string patientId;  // or every study of this DICOM PatientID
  int validDays = 0;      // 0 = the default
  std::string secondFactor = "pin";
  bool canDownload = true;
  int64_t maxUses = 0;
  bool consentAttested = false;
  std::string note;
  bool automatic = false;
};

struct CreatedShare {
  Share share;
  std::string token;
  std::string pin;
};

class ShareIssuer {
 public:
  // `patients` and `consent` are null when those modules are off.
  // `slipKeyPath`: the key file sealing slips not printed yet (SlipSeal);
  // "" for a key of this process only.
  ShareIssuer(ShareStore& store, StudyIndexStore& studies, IOrthancRest& orthanc, PatientStore* patients,
              ConsentService* consent, IAuditSink& audit, const SiteSettings& site,
              const SharesSettings& settings, const IClock& clock, const std::string& slipKeyPath = "");

  // Throws DomainError (invalid field, unknown study, consent conflict).
  CreatedShare Create(const ShareRequest& request, const AuditActor& actor);
  CreatedShare Reprint(int64_t id, const AuditActor& actor);
  Share Revoke(int64_t id, const std::string& reason, const AuditActor& actor);
  Share ClearLock(int64_t id, const AuditActor& actor);
  Share MarkPrinted(int64_t id, const AuditActor& actor);
  Share Get(int64_t id);  // DomainError (not found)
  // The token and PIN a slip still waits to print, unsealed; nullopt once
  // printed, too old, or unreadable (key file replaced).
  std::optional<PendingSlip> OpenPendingSlip(int64_t id);
  // Consent for sharing was withdrawn: every live link of the patient ends.
  void RevokeForPatient(const std::string& registryPatientId);
  // Forgets the slips left unprinted longer than Shares.PendingSlipHours.
  void ForgetOldSlips();

  const SharesSettings& Settings() const { return settings_; }
  ShareStore& Store() { return store_; }

 private:
  // Gives `share` (its studies, patient and options set) a token, a second
  // factor and an expiry, stores it with its slip and audits it.
  CreatedShare Issue(Share share, int validDays, const AuditActor& actor, const std::string& consentBasis);
  std::vector<StudyRecord> ResolveStudies(const ShareRequest& request);
  std::optional<StudyRecord> FindStudy(const std::string& idOrUid);
  bool ConsentPermits(const std::string& registryPatient);

  ShareStore& store_;
  StudyIndexStore& studies_;
  IOrthancRest& orthanc_;
  PatientStore* patients_;
  ConsentService* consent_;
  IAuditSink& audit_;
  const SharesSettings settings_;
  const std::string siteId_;
  const IClock& clock_;
  const SlipSeal seal_;
};

}  // namespace HospitalBridge
