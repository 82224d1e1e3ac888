#include "Share/ShareIssuer.h"

#include <algorithm>

#include "Common/Crypto.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Index/StudyReader.h"
#include "Share/ShareAudit.h"

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

std::string DaysFromNowDa(int64_t now, int days) {
  const int64_t at = now + static_cast<int64_t>(days) * 86400;
  std::string iso = Time::FormatIsoUtc(at);  // 2026-11-22T...
  return iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2);
}
}  // namespace

ShareIssuer::ShareIssuer(ShareStore& store, StudyIndexStore& studies, IOrthancRest& orthanc,
                         PatientStore* patients, ConsentService* consent, IAuditSink& audit,
                         const SiteSettings& site, const SharesSettings& settings, const IClock& clock,
                         const std::string& slipKeyPath)
    : store_(store),
      studies_(studies),
      orthanc_(orthanc),
      patients_(patients),
      consent_(consent),
      audit_(audit),
      settings_(settings),
      siteId_(site.siteId),
      clock_(clock),
      seal_(slipKeyPath) {}

std::optional<StudyRecord> ShareIssuer::FindStudy(const std::string& idOrUid) {
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

std::vector<StudyRecord> ShareIssuer::ResolveStudies(const ShareRequest& request) {
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

bool ShareIssuer::ConsentPermits(const std::string& registryPatient) {
  if (consent_ == nullptr) return true;
  return consent_->Decide(registryPatient).sharePermitted;
}

CreatedShare ShareIssuer::Create(const ShareRequest& request, const AuditActor& actor) {
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
    record.validUntil = DaysFromNowDa(clock_.NowSeconds(), validDays);
    record.note = "Attested by " + actor.name + " when creating a share link";
    record.recordedBy = actor.name;
    consent_->Record(record, "");
  }
  return Issue(std::move(share), validDays, actor, permitted ? "permitted" : "attested");
}

CreatedShare ShareIssuer::Issue(Share share, int validDays, const AuditActor& actor,
                                const std::string& consentBasis) {
  CreatedShare created;
  created.token = Crypto::NewToken();
  share.tokenHash = Crypto::Sha256(created.token);
  if (share.secondFactor == "pin") created.pin = NewPin();
  if (share.secondFactor != "none") {
    share.secretSalt = Crypto::RandomBytes(16);
    share.secretHash = HashShareSecret(share.secondFactor == "pin" ? created.pin : share.birthDate,
                                       share.secretSalt, settings_.secretHashIterations);
  }
  share.createdAt = clock_.NowSeconds();
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
  AuditShare(audit_, "share.created", created.share, actor, "success", detail);
  return created;
}

Share ShareIssuer::Get(int64_t id) {
  std::optional<Share> share = store_.Find(id);
  if (!share) throw DomainError::NotFound("No such share", "no share #" + std::to_string(id));
  return *share;
}

std::optional<PendingSlip> ShareIssuer::OpenPendingSlip(int64_t id) {
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

CreatedShare ShareIssuer::Reprint(int64_t id, const AuditActor& actor) {
  Share old = Get(id);
  const int64_t now = clock_.NowSeconds();
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

Share ShareIssuer::Revoke(int64_t id, const std::string& reason, const AuditActor& actor) {
  Share share = Get(id);
  if (store_.Revoke(id, actor.name, reason.empty() ? "revoked by staff" : reason, clock_.NowSeconds())) {
    Json::Value detail(Json::objectValue);
    detail["reason"] = reason;
    AuditShare(audit_, "share.revoked", share, actor, "success", detail);
  }
  return Get(id);
}

Share ShareIssuer::ClearLock(int64_t id, const AuditActor& actor) {
  Share share = Get(id);
  store_.ClearLock(id);
  AuditShare(audit_, "share.unlocked", share, actor);
  return Get(id);
}

Share ShareIssuer::MarkPrinted(int64_t id, const AuditActor& actor) {
  Share share = Get(id);
  if (share.slipPending) {
    store_.MarkPrinted(id, clock_.NowSeconds());
    AuditShare(audit_, "share.printed", share, actor);
  }
  return Get(id);
}

void ShareIssuer::RevokeForPatient(const std::string& registryPatientId) {
  for (int64_t id : store_.ActiveForRegistryPatient(registryPatientId, clock_.NowSeconds())) {
    Revoke(id, "share consent withdrawn", AuditActor::System("consent"));
  }
}

void ShareIssuer::ForgetOldSlips() {
  store_.PurgePendingSlips(clock_.NowSeconds() - static_cast<int64_t>(settings_.pendingSlipHours) * 3600);
}

}  // namespace HospitalBridge
