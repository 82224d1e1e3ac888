#include "Share/PhoneAccess.h"

#include <algorithm>

#include "Common/AuditVocabulary.h"
#include "Common/Crypto.h"
#include "Common/Log.h"
#include "Common/ResourceParser.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Share/ShareAudit.h"

namespace HospitalBridge {

LinkState LinkStateOf(const std::string& status) {
  if (status == "active") return LinkState::kActive;
  if (status == "revoked") return LinkState::kRevoked;
  if (status == "expired") return LinkState::kExpired;
  if (status == "locked") return LinkState::kLocked;
  if (status == "used-up") return LinkState::kUsedUp;
  return LinkState::kInvalid;
}

PhoneAccess::PhoneAccess(ShareStore& store, IAttemptLimiter& addressThrottle, IAuditSink& audit,
                         const SharesSettings& settings, const IClock& clock)
    : store_(store), addressThrottle_(addressThrottle), audit_(audit), settings_(settings), clock_(clock) {}

LinkState PhoneAccess::LookUp(const std::string& token, std::optional<Share>& share) {
  // Hash whatever arrived: a malformed token takes the same path as a
  // well-formed unknown one, and neither differs in work from a revoked one
  // until the answer is chosen.
  share = store_.FindByTokenHash(Crypto::Sha256(token));
  if (!share) {
    (void)store_.Find(-1);  // the second query a found share costs
    return LinkState::kInvalid;
  }
  return LinkStateOf(share->Status(clock_.NowSeconds()));
}

UnlockOutcome PhoneAccess::Unlock(const Share& share, const std::string& pin, const std::string& birthDate,
                                  const std::string& ip) {
  UnlockOutcome outcome;
  IAttemptLimiter::Ticket addressAttempt = ReserveAddressAttempt(ip);
  if (!addressAttempt.Granted()) {
    outcome.kind = UnlockOutcome::Kind::kThrottled;
    outcome.retryAfterSeconds = addressAttempt.RetryAfterSeconds();
    return outcome;
  }
  const int64_t now = clock_.NowSeconds();
  const AuditActor patient = AuditActor::PatientLink(share.id, ip);
  std::string secret;
  bool wellFormed = true;
  if (share.secondFactor == "pin") {
    secret = Text::Trim(pin);
    wellFormed = Text::IsDigits(secret, 6, 6);
    outcome.message = wellFormed ? "That PIN is not right. Check the 6 digits printed on your slip."
                                 : "The PIN is the 6 digits printed on your slip (numbers only).";
  } else if (share.secondFactor == "birth-date") {
    std::string da;
    wellFormed = Time::ParseDateParameter(Text::Trim(birthDate), da);
    secret = da;
    outcome.message = wellFormed ? "That date of birth does not match. Check the day, month and year."
                                 : "Enter your date of birth (day, month and year).";
  }
  bool right = share.secondFactor == "none";
  int64_t attempt = 0;
  if (!right) {
    // The try is taken before the secret is checked: simultaneous guesses
    // cannot check more secrets than the link allows.
    attempt = store_.ReserveUnlockAttempt(share.id, settings_.maxFailedUnlocks, now);
    if (attempt == 0) {
      addressAttempt.Succeeded();  // the address did not guess: the link was locked already
      outcome.kind = UnlockOutcome::Kind::kLocked;
      return outcome;
    }
    right = wellFormed &&
            Crypto::ConstantTimeEquals(
                HashShareSecret(secret, share.secretSalt, settings_.secretHashIterations), share.secretHash);
  }
  if (!right) {
    addressAttempt.Failed();
    outcome.attemptsLeft = static_cast<int>(std::max<int64_t>(0, settings_.maxFailedUnlocks - attempt));
    Json::Value detail(Json::objectValue);
    detail["failures"] = static_cast<Json::Int64>(attempt);
    detail["well_formed"] = wellFormed;
    AuditShare(audit_, "share.unlock_failed", share, patient, "failure", detail);
    if (outcome.attemptsLeft == 0) {
      outcome.kind = UnlockOutcome::Kind::kLocked;
      AuditShare(audit_, "share.locked", share, patient, "failure");
    } else {
      outcome.kind = UnlockOutcome::Kind::kWrongSecret;
    }
    return outcome;
  }
  addressAttempt.Succeeded();
  if (!store_.RecordUse(share.id, now)) {
    outcome.kind = UnlockOutcome::Kind::kUsedUp;
    return outcome;
  }
  outcome.kind = UnlockOutcome::Kind::kOpened;
  outcome.message.clear();
  outcome.sessionToken = Crypto::NewToken();
  outcome.sessionExpiresAt =
      std::min(now + static_cast<int64_t>(settings_.sessionMinutes) * 60, share.expiresAt);
  store_.CreateSession(Crypto::Sha256(outcome.sessionToken), share.id, outcome.sessionExpiresAt, ip, now);
  AuditShare(audit_, "share.opened", share, patient);
  return outcome;
}

std::optional<Share> PhoneAccess::SessionShare(const std::string& sessionToken, int64_t* sessionExpiresAt) {
  if (sessionToken.empty() || sessionToken.size() > 64) return std::nullopt;
  const int64_t now = clock_.NowSeconds();
  std::optional<ShareStore::Session> session = store_.FindSession(Crypto::Sha256(sessionToken), now);
  if (!session) return std::nullopt;
  if (sessionExpiresAt != nullptr) *sessionExpiresAt = session->expiresAt;
  std::optional<Share> share = store_.Find(session->shareId);
  if (!share || share->revokedAt > 0 || share->expiresAt <= now) return std::nullopt;
  return share;
}

void PhoneAccess::EndSession(const std::string& sessionToken) {
  if (!sessionToken.empty()) store_.DeleteSession(Crypto::Sha256(sessionToken));
}

IAttemptLimiter::Ticket PhoneAccess::ReserveAddressAttempt(const std::string& ip) {
  return addressThrottle_.Reserve({ip});
}

int64_t PhoneAccess::RetryAfter(const std::string& ip) { return addressThrottle_.RetryAfter({ip}); }

std::string PhoneAccess::IssueDownloadTicket(const Share& share, const ShareStudyRef& study,
                                             const std::string& ip) {
  DownloadTicket ticket;
  ticket.shareId = share.id;
  ticket.studyOrthancId = study.orthancId;
  ticket.studyUid = study.studyUid;
  ticket.address = ip;
  ticket.format = "dicom";
  return tickets_.Issue(ticket, clock_.NowSeconds());
}

bool PhoneAccess::AdmitTicketedDownload(const HttpRequest& request) {
  const ParsedRequest parsed = ParseOrthancRequest(request.method, request.path);
  if (parsed.level != "studies" || parsed.route != std::vector<std::string>{"media"} ||
      parsed.access != ResourceAccess::kDownload || request.query.size() != 1 ||
      !request.HasQuery("ticket")) {
    return false;
  }
  std::optional<DownloadTicket> ticket =
      tickets_.Redeem(request.Query("ticket"), parsed.id, request.remoteIp, clock_.NowSeconds());
  if (!ticket) {
    Log::Warning("refused a download ticket for study " + parsed.id + " from " + request.remoteIp +
                 ": unknown, used, expired or not for this study and address");
    return false;
  }
  std::optional<Share> share = store_.Find(ticket->shareId);
  if (!share || share->revokedAt > 0 || share->expiresAt <= clock_.NowSeconds() || !share->canDownload) {
    return false;
  }
  Json::Value detail(Json::objectValue);
  detail["format"] = ticket->format;
  detail["streamed"] = true;
  AuditShare(audit_, "share.downloaded", *share, AuditActor::PatientLink(share->id, request.remoteIp),
             "success", detail, ticket->studyUid);
  return true;
}

void PhoneAccess::ForgetExpiredSessions() { store_.PurgeSessions(clock_.NowSeconds()); }

}  // namespace HospitalBridge
