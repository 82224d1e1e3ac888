#include "Share/ShareService.h"

#include <algorithm>

#include "Common/Crypto.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/ResourceParser.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Index/StudyReader.h"

namespace HospitalBridge {

namespace {
constexpr int64_t kMaxStudiesPerShare = 500;

std::string NewPin() {
  // Rejection sampling keeps the six digits uniform.
  while (true) {
    const std::string bytes = Crypto::RandomBytes(4);
    uint32_t value = 0;
    for (unsigned char c : bytes) value = (value << 8) | c;
    if (value >= 4294000000u) continue;  // largest multiple of 10^6 below 2^32
    std::string pin = std::to_string(value % 1000000);
    return std::string(6 - pin.size(), '0') + pin;
  }
}

std::string DaysFromNowDa(int days) {
  const int64_t at = Time::NowSeconds() + static_cast<int64_t>(days) * 86400;
  std::string iso = Time::FormatIsoUtc(at);  // 2026-11-22T...
  return iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2);
}
}  // namespace

LinkState LinkStateOf(const std::string& status) {
  if (status == "active") return LinkState::kActive;
  if (status == "revoked") return LinkState::kRevoked;
  if (status == "expired") return LinkState::kExpired;
  if (status == "locked") return LinkState::kLocked;
  if (status == "used-up") return LinkState::kUsedUp;
  return LinkState::kInvalid;
}

ShareService::ShareService(ShareStore& store, StudyIndexStore& studies, IOrthancRest& orthanc,
                           PatientStore* patients, ConsentService* consent, IAuditSink& audit,
                           const SiteSettings& site, const SharesSettings& settings,
                           const std::string& slipKeyPath)
    : store_(store),
      studies_(studies),
      orthanc_(orthanc),
      patients_(patients),
      consent_(consent),
      audit_(audit),
      settings_(settings),
      siteId_(site.siteId),
      // Failed look-ups and unlocks per address; a share's own failures are
      // counted in the database (and lock it).
      addressThrottle_({{settings.maxFailuresPerAddress, settings.windowMinutes * 60,
                         settings.lockoutMinutes * 60, false}}),
      seal_(slipKeyPath) {}

std::string ShareService::SecretHash(const std::string& secret, const std::string& salt) const {
  return Crypto::Pbkdf2Sha256(secret, salt, settings_.secretHashIterations, 32);
}

void ShareService::Audit(const std::string& action, const Share& share, const AuditActor& actor,
                         const std::string& outcome, Json::Value detail, const std::string& studyUid) {
  AuditEvent event = MakeAuditEvent(action, actor, outcome);
  event.dicomPatientId = share.patientId;
  event.patientId = share.registryPatient;
  event.studyUid = studyUid;
  if (studyUid.empty() && share.studies.size() == 1) event.studyUid = share.studies.front().studyUid;
  event.detail = std::move(detail);
  event.detail["share_id"] = static_cast<Json::Int64>(share.id);
  audit_.Record(event);
}

std::optional<StudyRecord> ShareService::FindStudy(const std::string& idOrUid) {
  if (std::optional<StudyRecord> found = studies_.FindByOrthancId(idOrUid)) return found;
  if (std::optional<StudyRecord> found = studies_.FindByUid(idOrUid)) return found;
  // Not indexed yet (it may still be arriving): ask Orthanc itself.
  std::string orthancId = idOrUid;
  std::string answer;
  Json::Value lookup;
  if (orthanc_.Post("/tools/lookup", idOrUid, answer) && JsonText::Parse(answer, lookup) &&
      lookup.isArray()) {
    for (const Json::Value& item : lookup) {
      if (item.get("Type", "").asString() == "Study") orthancId = item.get("ID", "").asString();
    }
  }
  if (!Text::IsIdentifier(orthancId, "-", 1, 64)) return std::nullopt;
  StudyReader reader(orthanc_);
  return reader.Read(orthancId, nullptr);
}

std::vector<StudyRecord> ShareService::ResolveStudies(const ShareRequest& request) {
  std::vector<StudyRecord> found;
  if (!request.study.empty()) {
    std::optional<StudyRecord> study = FindStudy(request.study);
    if (!study)
      throw DomainError::NotFound("No such study", "Orthanc has no study \"" + request.study + "\"");
    found.push_back(*study);
    return found;
  }
  StudyFilter filter;
  filter.patientId = request.patientId;
  filter.limit = static_cast<int>(kMaxStudiesPerShare);
  found = studies_.Search(filter).studies;
  if (found.empty()) {
    throw DomainError::NotFound("No studies for this patient",
                                "no study of PatientID \"" + request.patientId + "\" is stored here");
  }
  std::reverse(found.begin(), found.end());  // oldest first on the slip and the phone
  return found;
}

bool ShareService::ConsentPermits(const std::string& registryPatient) {
  if (consent_ == nullptr) return true;
  return consent_->Decide(registryPatient).sharePermitted;
}

CreatedShare ShareService::Create(const ShareRequest& request, const AuditActor& actor) {
  if (request.study.empty() == request.patientId.empty()) {
    throw DomainError::Invalid("Say what to share", "give either \"study\" or \"patient_id\", not both");
  }
  const int validDays = request.validDays == 0 ? settings_.defaultValidDays : request.validDays;
  if (validDays < 1 || validDays > settings_.maxValidDays) {
    throw DomainError::Invalid("Invalid field: valid_days",
                               "valid_days must be between 1 and " + std::to_string(settings_.maxValidDays));
  }
  if (request.secondFactor != "pin" && request.secondFactor != "birth-date" &&
      request.secondFactor != "none") {
    throw DomainError::Invalid("Invalid field: second_factor",
                               "second_factor must be pin, birth-date or none");
  }
  if (request.secondFactor == "none" && !settings_.allowNoSecondFactor) {
    throw DomainError::Invalid(
        "A second factor is required",
        "this site does not allow links without a PIN or birth date (Shares.AllowNoSecondFactor)");
  }
  if (request.maxUses < 0 || request.maxUses > 1000) {
    throw DomainError::Invalid("Invalid field: max_uses", "max_uses must be empty or between 1 and 1000");
  }

  std::vector<StudyRecord> studies = ResolveStudies(request);
  const StudyRecord& first = studies.front();
  Share share;
  share.scope = request.study.empty() ? "patient" : "study";
  share.patientId = first.patientId;
  share.patientName = first.patientName;
  share.birthDate = first.patientBirthDate;
  if (patients_ != nullptr) {
    if (std::optional<Patient> patient = patients_->FindByIdentifier(siteId_, first.patientId)) {
      share.registryPatient = patient->id;
    }
  }
  for (const StudyRecord& study : studies)
    share.studies.push_back(ShareStudyRef{study.orthancId, study.studyUid});
  // The one consent decision (ConsentService::Decide), as for peers.
  const bool permitted = ConsentPermits(share.registryPatient);
  if (!permitted && !request.consentAttested) {
    throw DomainError::Conflict(
        "Consent required",
        "No consent to share images is recorded for this patient (or it was refused). Record the "
        "patient's consent, or confirm that the patient agreed today.");
  }
  if (request.secondFactor == "birth-date" && share.birthDate.size() != 8) {
    throw DomainError::Invalid("No birth date", "the study has no PatientBirthDate; use a PIN instead");
  }
  share.secondFactor = request.secondFactor;
  share.canDownload = request.canDownload;
  share.maxUses = request.maxUses;
  share.automatic = request.automatic;
  share.note = request.note;

  if (!permitted && consent_ != nullptr && !share.registryPatient.empty()) {
    // The attestation is a consent record like any other, so the consent
    // history explains why this link exists.
    ConsentRecord record;
    record.patientId = share.registryPatient;
    record.kind = "share";
    record.decision = "permit";
    record.method = "attestation";
    record.validUntil = DaysFromNowDa(validDays);
    record.note = "Attested by " + actor.name + " when creating a share link";
    record.recordedBy = actor.name;
    consent_->Record(record, "");
  }
  return Issue(std::move(share), validDays, actor, permitted ? "permitted" : "attested");
}

CreatedShare ShareService::Issue(Share share, int validDays, const AuditActor& actor,
                                 const std::string& consentBasis) {
  CreatedShare created;
  created.token = Crypto::NewToken();
  share.tokenHash = Crypto::Sha256(created.token);
  if (share.secondFactor == "pin") created.pin = NewPin();
  if (share.secondFactor != "none") {
    share.secretSalt = Crypto::RandomBytes(16);
    share.secretHash =
        SecretHash(share.secondFactor == "pin" ? created.pin : share.birthDate, share.secretSalt);
  }
  share.createdAt = Time::NowSeconds();
  share.createdBy = actor.name;
  share.expiresAt = share.createdAt + static_cast<int64_t>(validDays) * 86400;

  PendingSlip slip;
  slip.token = seal_.Seal(created.token);
  slip.pin = created.pin.empty() ? "" : seal_.Seal(created.pin);
  share.id = store_.Insert(share, slip);
  created.share = *store_.Find(share.id);

  Json::Value detail(Json::objectValue);
  detail["studies"] = static_cast<Json::Int64>(share.studies.size());
  detail["second_factor"] = share.secondFactor;
  detail["valid_days"] = validDays;
  detail["download"] = share.canDownload;
  detail["max_uses"] = static_cast<Json::Int64>(share.maxUses);
  detail["automatic"] = share.automatic;
  detail["consent"] = consentBasis;
  if (share.replaces > 0) detail["replaces"] = static_cast<Json::Int64>(share.replaces);
  Audit("share.created", created.share, actor, "success", detail);
  return created;
}

Share ShareService::Get(int64_t id) {
  std::optional<Share> share = store_.Find(id);
  if (!share) throw DomainError::NotFound("No such share", "no share #" + std::to_string(id));
  return *share;
}

std::optional<PendingSlip> ShareService::OpenPendingSlip(int64_t id) {
  std::optional<PendingSlip> slip = store_.FindPendingSlip(id);
  if (!slip) return std::nullopt;
  std::string token;
  std::string pin;
  if (!seal_.Open(slip->token, token) || (!slip->pin.empty() && !seal_.Open(slip->pin, pin))) {
    Log::Warning("the slip of share #" + std::to_string(id) +
                 " cannot be unsealed (was the slip key file replaced?); Reprint makes a new one");
    return std::nullopt;
  }
  slip->token = token;
  slip->pin = pin;
  return slip;
}

CreatedShare ShareService::Reprint(int64_t id, const AuditActor& actor) {
  Share old = Get(id);
  const int64_t now = Time::NowSeconds();
  const std::string status = old.Status(now);
  if (status == "revoked" || status == "expired") {
    throw DomainError::Conflict("Cannot reprint a " + status + " link", "create a new share instead");
  }
  // The same studies (a patient's link does not grow with studies that came
  // later) and options; the consent the old link stood on carries over.
  Share share;
  share.scope = old.scope;
  share.patientId = old.patientId;
  share.registryPatient = old.registryPatient;
  share.patientName = old.patientName;
  share.birthDate = old.birthDate;
  share.secondFactor = old.secondFactor;
  share.canDownload = old.canDownload;
  share.maxUses = old.maxUses;
  share.note = old.note;
  share.replaces = old.id;
  share.studies = old.studies;
  const int validDays = static_cast<int>(
      std::min<int64_t>(settings_.maxValidDays, std::max<int64_t>(1, (old.expiresAt - now + 86399) / 86400)));
  CreatedShare created = Issue(std::move(share), validDays, actor, "reprint of #" + std::to_string(old.id));
  store_.SetReplacedBy(old.id, created.share.id);
  Revoke(old.id, "reprinted as #" + std::to_string(created.share.id), actor);
  created.share = *store_.Find(created.share.id);
  return created;
}

Share ShareService::Revoke(int64_t id, const std::string& reason, const AuditActor& actor) {
  Share share = Get(id);
  if (store_.Revoke(id, actor.name, reason.empty() ? "revoked by staff" : reason, Time::NowSeconds())) {
    Json::Value detail(Json::objectValue);
    detail["reason"] = reason;
    Audit("share.revoked", share, actor, "success", detail);
  }
  return Get(id);
}

Share ShareService::ClearLock(int64_t id, const AuditActor& actor) {
  Share share = Get(id);
  store_.ClearLock(id);
  Audit("share.unlocked", share, actor);
  return Get(id);
}

Share ShareService::MarkPrinted(int64_t id, const AuditActor& actor) {
  Share share = Get(id);
  if (share.slipPending) {
    store_.MarkPrinted(id, Time::NowSeconds());
    Audit("share.printed", share, actor);
  }
  return Get(id);
}

Json::Value ShareService::ToJson(const Share& share) {
  const int64_t now = Time::NowSeconds();
  Json::Value json(Json::objectValue);
  json["id"] = static_cast<Json::Int64>(share.id);
  json["status"] = share.Status(now);
  json["scope"] = share.scope;
  json["patient_id"] = share.patientId;
  json["patient_name"] = share.patientName;
  json["patient_birth_date"] = Time::DicomDateToIso(share.birthDate);
  json["registry_patient"] = share.registryPatient;
  json["studies"] = Json::Value(Json::arrayValue);
  for (const ShareStudyRef& ref : share.studies) {
    Json::Value study(Json::objectValue);
    study["id"] = ref.orthancId;
    study["study_uid"] = ref.studyUid;
    std::optional<StudyRecord> record = studies_.FindByOrthancId(ref.orthancId);
    study["date"] = record ? Time::DicomDateToIso(record->studyDate) : "";
    study["description"] = record ? record->description : "";
    study["modalities"] = Json::Value(Json::arrayValue);
    if (record) {
      for (const std::string& modality : record->modalities) study["modalities"].append(modality);
    }
    study["available"] = record.has_value();
    json["studies"].append(study);
  }
  json["second_factor"] = share.secondFactor;
  json["permissions"] = Json::Value(Json::arrayValue);
  json["permissions"].append("view");
  if (share.canDownload) json["permissions"].append("download");
  json["max_uses"] = share.maxUses > 0 ? Json::Value(static_cast<Json::Int64>(share.maxUses)) : Json::Value();
  json["uses"] = static_cast<Json::Int64>(share.uses);
  json["failed_attempts"] = static_cast<Json::Int64>(share.failedAttempts);
  json["created_at"] = Time::FormatIsoUtc(share.createdAt);
  json["created_by"] = share.createdBy;
  json["expires_at"] = Time::FormatIsoUtc(share.expiresAt);
  json["revoked_at"] = Time::FormatIsoUtc(share.revokedAt);
  json["revoked_by"] = share.revokedBy;
  json["revoke_reason"] = share.revokeReason;
  json["locked_at"] = Time::FormatIsoUtc(share.lockedAt);
  json["last_used_at"] = Time::FormatIsoUtc(share.lastUsedAt);
  json["printed_at"] = Time::FormatIsoUtc(share.printedAt);
  json["auto"] = share.automatic;
  json["replaces"] =
      share.replaces > 0 ? Json::Value(static_cast<Json::Int64>(share.replaces)) : Json::Value();
  json["replaced_by"] =
      share.replacedBy > 0 ? Json::Value(static_cast<Json::Int64>(share.replacedBy)) : Json::Value();
  json["slip_pending"] = share.slipPending;
  json["note"] = share.note;
  return json;
}

LinkState ShareService::LookUp(const std::string& token, std::optional<Share>& share) {
  // Hash whatever arrived: a malformed token takes the same path as a
  // well-formed unknown one, and neither differs in work from a revoked one
  // until the answer is chosen.
  share = store_.FindByTokenHash(Crypto::Sha256(token));
  if (!share) {
    (void)store_.Find(-1);  // the second query a found share costs
    return LinkState::kInvalid;
  }
  return LinkStateOf(share->Status(Time::NowSeconds()));
}

UnlockOutcome ShareService::Unlock(const Share& share, const std::string& pin, const std::string& birthDate,
                                   const std::string& ip) {
  UnlockOutcome outcome;
  AttemptLimiter::Ticket addressAttempt = ReserveAddressAttempt(ip);
  if (!addressAttempt.Granted()) {
    outcome.kind = UnlockOutcome::Kind::kThrottled;
    outcome.retryAfterSeconds = addressAttempt.RetryAfterSeconds();
    return outcome;
  }
  const int64_t now = Time::NowSeconds();
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
    right = wellFormed && Crypto::ConstantTimeEquals(SecretHash(secret, share.secretSalt), share.secretHash);
  }
  if (!right) {
    addressAttempt.Failed();
    outcome.attemptsLeft = static_cast<int>(std::max<int64_t>(0, settings_.maxFailedUnlocks - attempt));
    Json::Value detail(Json::objectValue);
    detail["failures"] = static_cast<Json::Int64>(attempt);
    detail["well_formed"] = wellFormed;
    Audit("share.unlock_failed", share, patient, "failure", detail);
    if (outcome.attemptsLeft == 0) {
      outcome.kind = UnlockOutcome::Kind::kLocked;
      Audit("share.locked", share, patient, "failure");
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
  Audit("share.opened", share, patient);
  return outcome;
}

std::optional<Share> ShareService::SessionShare(const std::string& sessionToken, int64_t* sessionExpiresAt) {
  if (sessionToken.empty() || sessionToken.size() > 64) return std::nullopt;
  const int64_t now = Time::NowSeconds();
  std::optional<ShareStore::Session> session = store_.FindSession(Crypto::Sha256(sessionToken), now);
  if (!session) return std::nullopt;
  if (sessionExpiresAt != nullptr) *sessionExpiresAt = session->expiresAt;
  std::optional<Share> share = store_.Find(session->shareId);
  if (!share || share->revokedAt > 0 || share->expiresAt <= now) return std::nullopt;
  return share;
}

void ShareService::EndSession(const std::string& sessionToken) {
  if (!sessionToken.empty()) store_.DeleteSession(Crypto::Sha256(sessionToken));
}

AttemptLimiter::Ticket ShareService::ReserveAddressAttempt(const std::string& ip) {
  return addressThrottle_.Reserve({ip});
}

int64_t ShareService::RetryAfter(const std::string& ip) { return addressThrottle_.RetryAfter({ip}); }

void ShareService::RevokeForPatient(const std::string& registryPatientId) {
  for (int64_t id : store_.ActiveForRegistryPatient(registryPatientId, Time::NowSeconds())) {
    Revoke(id, "share consent withdrawn", AuditActor::System("consent"));
  }
}

std::string ShareService::IssueDownloadTicket(const Share& share, const ShareStudyRef& study,
                                              const std::string& ip) {
  DownloadTicket ticket;
  ticket.shareId = share.id;
  ticket.studyOrthancId = study.orthancId;
  ticket.studyUid = study.studyUid;
  ticket.address = ip;
  ticket.format = "dicom";
  return tickets_.Issue(ticket, Time::NowSeconds());
}

bool ShareService::AdmitTicketedDownload(const HttpRequest& request) {
  const ParsedRequest parsed = ParseOrthancRequest(request.method, request.path);
  if (parsed.level != "studies" || parsed.route != std::vector<std::string>{"media"} ||
      parsed.access != ResourceAccess::kDownload || request.query.size() != 1 ||
      !request.HasQuery("ticket")) {
    return false;
  }
  std::optional<DownloadTicket> ticket =
      tickets_.Redeem(request.Query("ticket"), parsed.id, request.remoteIp, Time::NowSeconds());
  if (!ticket) {
    Log::Warning("refused a download ticket for study " + parsed.id + " from " + request.remoteIp +
                 ": unknown, used, expired or not for this study and address");
    return false;
  }
  std::optional<Share> share = store_.Find(ticket->shareId);
  if (!share || share->revokedAt > 0 || share->expiresAt <= Time::NowSeconds() || !share->canDownload) {
    return false;
  }
  Json::Value detail(Json::objectValue);
  detail["format"] = ticket->format;
  detail["streamed"] = true;
  Audit("share.downloaded", *share, AuditActor::PatientLink(share->id, request.remoteIp), "success", detail,
        ticket->studyUid);
  return true;
}

void ShareService::Maintain() {
  const int64_t now = Time::NowSeconds();
  store_.PurgeSessions(now);
  store_.PurgePendingSlips(now - static_cast<int64_t>(settings_.pendingSlipHours) * 3600);
}

}  // namespace HospitalBridge
