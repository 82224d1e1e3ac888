#pragma once
// The rules of share links: who gets one for what, how a phone unlocks it,
// when it stops working. Secrets are made here and leave only once, in the
// answer to the member of staff who made the link (and on the slip, which
// forgets them once printed).
#include <functional>
#include <optional>
#include <string>

#include "Common/AuditSink.h"
#include "Common/AuditVocabulary.h"
#include "Common/Http.h"
#include "Common/OrthancRest.h"
#include "Common/Settings.h"
#include "Consent/ConsentService.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"
#include "Security/AttemptLimiter.h"
#include "Share/DownloadTickets.h"
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

enum class LinkState { kInvalid, kActive, kRevoked, kExpired, kLocked, kUsedUp };
LinkState LinkStateOf(const std::string& status);

struct UnlockOutcome {
  enum class Kind { kOpened, kWrongSecret, kLocked, kUsedUp, kThrottled } kind = Kind::kWrongSecret;
  std::string message;            // for the patient, when not opened
  int attemptsLeft = 0;           // after a wrong secret
  int64_t retryAfterSeconds = 0;  // when throttled
  std::string sessionToken;       // the cookie's value when opened
  int64_t sessionExpiresAt = 0;
};

class ShareService {
 public:
  // `slipKeyPath`: the key file sealing slips not printed yet (see
  // SlipSeal); "" for a key of this process only.
  ShareService(ShareStore& store, StudyIndexStore& studies, IOrthancRest& orthanc, PatientStore* patients,
               ConsentService* consent, IAuditSink& audit, const SiteSettings& site,
               const SharesSettings& settings, const std::string& slipKeyPath = "");

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

  // The staff view of a share, with each study's date and description.
  Json::Value ToJson(const Share& share);

  // Patient side. A malformed token is looked up like any other, so that
  // invalid, unknown and revoked links cost the same time.
  LinkState LookUp(const std::string& token, std::optional<Share>& share);
  // Counts under the per-address limit as well as the link's own.
  UnlockOutcome Unlock(const Share& share, const std::string& pin, const std::string& birthDate,
                       const std::string& ip);
  // The share behind a session cookie, while both are usable.
  std::optional<Share> SessionShare(const std::string& sessionToken, int64_t* sessionExpiresAt = nullptr);
  void EndSession(const std::string& sessionToken);

  // Per-address throttle of failed look-ups and unlocks. Every look-up or
  // unlock takes a ticket first (refused: wait RetryAfterSeconds) and
  // settles it: Failed() for an unknown link or a wrong secret.
  AttemptLimiter::Ticket ReserveAddressAttempt(const std::string& ip);
  int64_t RetryAfter(const std::string& ip);

  // Consent for sharing was withdrawn: every live link of the patient ends.
  void RevokeForPatient(const std::string& registryPatientId);

  // A single-use ticket for Orthanc's own streaming download of one study
  // of the share (Share/DownloadTickets.h), for the phone at `ip`.
  std::string IssueDownloadTicket(const Share& share, const ShareStudyRef& study, const std::string& ip);
  // For the gate: is this anonymous request Orthanc's streaming download of
  // a study, carrying a live ticket for it from this address? Uses the
  // ticket up and audits the download.
  bool AdmitTicketedDownload(const HttpRequest& request);

  // Forgets expired sessions and slips left unprinted too long.
  void Maintain();

  // Records a share.* audit event about `share`. `studyUid` names the
  // study concerned; by default the share's only study, if it has one.
  void Audit(const std::string& action, const Share& share, const AuditActor& actor,
             const std::string& outcome = "success", Json::Value detail = Json::Value(Json::objectValue),
             const std::string& studyUid = "");

  const SharesSettings& Settings() const { return settings_; }
  ShareStore& Store() { return store_; }

 private:
  // Gives `share` (its studies, patient and options set) a token, a second
  // factor and an expiry, stores it with its slip and audits it.
  CreatedShare Issue(Share share, int validDays, const AuditActor& actor, const std::string& consentBasis);
  std::vector<StudyRecord> ResolveStudies(const ShareRequest& request);
  std::optional<StudyRecord> FindStudy(const std::string& idOrUid);
  bool ConsentPermits(const std::string& registryPatient);
  std::string SecretHash(const std::string& secret, const std::string& salt) const;

  ShareStore& store_;
  StudyIndexStore& studies_;
  IOrthancRest& orthanc_;
  PatientStore* patients_;
  ConsentService* consent_;
  IAuditSink& audit_;
  const SharesSettings settings_;
  const std::string siteId_;
  AttemptLimiter addressThrottle_;
  DownloadTickets tickets_;
  const SlipSeal seal_;
};

}  // namespace HospitalBridge
