#pragma once
// A study's report and its versions, the states a report goes through, the
// canonical form its signature covers, and who may do what with it.
//
//   unread ──claim/assign──► in-progress ──save──► draft ──sign──► preliminary (a resident)
//      ▲                         │                   │               │ sign (a radiologist)
//      └───────release───────────┘                   └─────sign──────┴──► final ──amend+sign──► amended
//
// A signed version never changes: finalising a preliminary report or
// amending a final one writes a new version, signed in its turn; earlier
// versions stay readable.
#include <json/json.h>

#include <cstdint>
#include <string>
#include <vector>

#include "Common/Identity.h"
#include "Reports/ReportsSettings.h"

namespace HospitalBridge {

namespace ReportStatus {
constexpr const char* kUnread = "unread";
constexpr const char* kInProgress = "in-progress";
constexpr const char* kDraft = "draft";
constexpr const char* kPreliminary = "preliminary";
constexpr const char* kFinal = "final";
constexpr const char* kAmended = "amended";

const std::vector<std::string>& All();
bool IsKnown(const std::string& status);
// Whether a report may go from `from` to `to`.
bool CanChange(const std::string& from, const std::string& to);
// Final or amended: the report is released to clinicians (and, later, patients).
bool IsFinal(const std::string& status);
// Still to be read: neither final nor amended.
bool IsOpen(const std::string& status);
// What signing makes of a report in `current` (draft, in-progress,
// preliminary, final or amended), by a preliminary signer or not.
std::string AfterSigning(const std::string& current, bool preliminarySigner);
}  // namespace ReportStatus

// 0 stat, 1 urgent, 2 routine (anything else).
int PriorityRank(const std::string& priority);
bool IsPriority(const std::string& priority);

struct Report {
  int64_t id = 0;
  std::string orthancId;
  std::string studyUid;
  std::string accession;
  std::string patientId;
  std::string patientName;  // DICOM PN
  std::string patientBirthDate;
  std::string patientSex;
  std::string studyDate;
  std::string studyTime;
  std::string description;
  std::vector<std::string> modalities;
  std::string site;
  int64_t orderId = 0;
  std::string orderRef;
  std::string referring;
  std::string reason;
  std::string priority = "routine";
  std::string status = ReportStatus::kUnread;
  std::string assignedTo;
  int64_t assignedAt = 0;
  int64_t queuedAt = 0;
  int64_t dueAt = 0;
  bool studyGone = false;
  int latestVersion = 0;
  int signedVersion = 0;
  int64_t finalAt = 0;
  bool critical = false;
  int64_t updatedAt = 0;

  bool Overdue(int64_t now) const { return ReportStatus::IsOpen(status) && dueAt < now; }
  // A draft (a first one, a finalisation or an addendum) is waiting to be signed.
  bool HasDraft() const { return latestVersion > signedVersion; }
  // The queue's shape; `now` for "overdue".
  Json::Value ToJson(int64_t now) const;
};

struct ReportVersion {
  int64_t id = 0;
  int64_t reportId = 0;
  int version = 0;
  std::string kind = "original";  // original | final | addendum
  int64_t templateId = 0;
  Json::Value content =
      Json::Value(Json::objectValue);  // {"sections": {...}, "critical": bool, "addendum": ""}
  std::string author;
  int64_t createdAt = 0;
  int64_t updatedAt = 0;
  std::string signedStatus;  // "" while a draft
  std::string signedBy;
  std::string signedRole;
  int64_t signedAt = 0;
  std::string canonical;
  std::string contentHash;
  std::string pdfInstance;
  std::string srInstance;
  int64_t deliveredAt = 0;
  std::string deliveryError;
  bool hasPdf = false;

  bool IsSigned() const { return !signedStatus.empty(); }
  // Without the canonical text (GET /bridge/reports/{id}/versions/{n} has it).
  Json::Value ToJson() const;
};

// JSON with object keys in byte order, no spaces, only the escapes JSON
// requires, written as RFC 8785 (JCS) writes them (\" \\ \b \t \n \f \r, other
// control characters as \u00xx), integers as written:
// the same text for the same content on every machine, whatever JsonCpp's
// version. Doubles are refused (the content holds none).
std::string CanonicalJson(const Json::Value& value);
// The SHA-256 of `canonical`, lower-case hex.
std::string ContentHash(const std::string& canonical);

// What may be done to a report; Permit throws DomainError (forbidden) with
// the reason, so routes and the service ask one place.
enum class ReportAction {
  kReadQueue,       // the reading queue, drafts included
  kRead,            // a report: drafts for readers, final ones for every staff role
  kCreate,          // start a report for a study
  kClaim,           // take an unassigned study
  kAssign,          // give a study to a radiologist (administrators, lead radiologists)
  kRelease,         // give a claimed study back
  kEdit,            // change the draft (its assignee)
  kSign,            // sign the draft (its assignee)
  kAmend,           // write an addendum to a final report
  kRecordCritical,  // record to whom a critical finding was told
  kManageTemplates
};

class ReportPermissions {
 public:
  explicit ReportPermissions(const ReportsSettings& settings) : settings_(settings) {}

  bool IsResident(const std::string& username) const;
  bool IsLead(const Identity& identity) const;
  // Throws DomainError::Forbidden when `identity` may not do `action` to
  // `report` (null for actions on no report yet).
  void Permit(const Identity& identity, ReportAction action, const Report* report) const;
  bool Allows(const Identity& identity, ReportAction action, const Report* report) const;

 private:
  const ReportsSettings& settings_;
};

}  // namespace HospitalBridge
