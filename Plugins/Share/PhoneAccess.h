#pragma once
// The patient's side of a share link, as the phone reaches it: looking the
// link up, unlocking it with the second factor (each try reserved before the
// secret is checked, per link and per address), the session the phone keeps
// for a while, and the single-use ticket for Orthanc's own streaming download.
#include <optional>
#include <string>

#include "Common/AuditSink.h"
#include "Common/Clock.h"
#include "Common/Http.h"
#include "Security/AttemptLimiter.h"
#include "Share/DownloadTickets.h"
#include "Share/ShareSettings.h"
#include "Share/ShareStore.h"

namespace HospitalBridge {

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

class PhoneAccess {
 public:
  // `addressThrottle` limits failed look-ups and unlocks per address (a
  // link's own failures are counted in the database, and lock it).
  PhoneAccess(ShareStore& store, IAttemptLimiter& addressThrottle, IAuditSink& audit,
              const SharesSettings& settings, const IClock& clock);

  // A malformed token is looked up like any other, so that invalid,
  // unknown and revoked links cost the same time.
  LinkState LookUp(const std::string& token, std::optional<Share>& share);
  // Counts under the per-address limit as well as the link's own.
  UnlockOutcome Unlock(const Share& share, const std::string& pin, const std::string& birthDate,
                       const std::string& ip);
  // The share behind a session cookie, while both are usable.
  std::optional<Share> SessionShare(const std::string& sessionToken, int64_t* sessionExpiresAt = nullptr);
  void EndSession(const std::string& sessionToken);

  // Every look-up or unlock takes a ticket first (refused: wait
  // RetryAfterSeconds) and settles it: Failed() for an unknown link or a
  // wrong secret.
  IAttemptLimiter::Ticket ReserveAddressAttempt(const std::string& ip);
  int64_t RetryAfter(const std::string& ip);

  // A single-use ticket for Orthanc's own streaming download of one study
  // of the share (Share/DownloadTickets.h), for the phone at `ip`.
  std::string IssueDownloadTicket(const Share& share, const ShareStudyRef& study, const std::string& ip);
  // For the gate: is this anonymous request Orthanc's streaming download of
  // a study, carrying a live ticket for it from this address? Uses the
  // ticket up and audits the download.
  bool AdmitTicketedDownload(const HttpRequest& request);

  // Forgets expired sessions.
  void ForgetExpiredSessions();

 private:
  ShareStore& store_;
  IAttemptLimiter& addressThrottle_;
  IAuditSink& audit_;
  const SharesSettings settings_;
  const IClock& clock_;
  DownloadTickets tickets_;
};

}  // namespace HospitalBridge
