#include "Reports/Report.h"

#include <algorithm>
#include <cstdio>

#include "Common/Crypto.h"
#include "Common/Errors.h"
#include "Common/Time.h"

namespace HospitalBridge {

namespace ReportStatus {

const std::vector<std::string>& All() {
  static const std::vector<std::string> all = {kUnread, kInProgress, kDraft, kPreliminary, kFinal, kAmended};
  return all;
}

bool IsKnown(const std::string& status) {
  return std::find(All().begin(), All().end(), status) != All().end();
}

bool CanChange(const std::string& from, const std::string& to) {
  static const std::vector<std::pair<std::string, std::string>> allowed = {
      {kUnread, kInProgress}, {kInProgress, kUnread}, {kInProgress, kDraft},
      {kDraft, kDraft},       {kDraft, kPreliminary}, {kDraft, kFinal},
      {kPreliminary, kFinal}, {kFinal, kAmended},     {kAmended, kAmended}};
  return std::find(allowed.begin(), allowed.end(), std::make_pair(from, to)) != allowed.end();
}

bool IsFinal(const std::string& status) { return status == kFinal || status == kAmended; }

bool IsOpen(const std::string& status) { return !IsFinal(status); }

std::string AfterSigning(const std::string& current, bool preliminarySigner) {
  if (current == kDraft || current == kInProgress) return preliminarySigner ? kPreliminary : kFinal;
  if (current == kPreliminary) {
    if (preliminarySigner) {
      throw DomainError::Forbidden("A preliminary report is made final by a radiologist",
                                   "your signature is preliminary (Reports.Residents)");
    }
    return kFinal;
  }
  if (current == kFinal || current == kAmended) {
    if (preliminarySigner) {
      throw DomainError::Forbidden("An addendum is signed by a radiologist",
                                   "your signature is preliminary (Reports.Residents)");
    }
    return kAmended;
  }
  throw DomainError::Conflict("Nothing to sign", "the report is " + current);
}

}  // namespace ReportStatus

int PriorityRank(const std::string& priority) {
  if (priority == "stat") return 0;
  if (priority == "urgent") return 1;
  return 2;
}

bool IsPriority(const std::string& priority) {
  return priority == "stat" || priority == "urgent" || priority == "routine";
}

Json::Value Report::ToJson(int64_t now) const {
  Json::Value json(Json::objectValue);
  json["id"] = static_cast<Json::Int64>(id);
  json["study"]["orthanc_id"] = orthancId;
  json["study"]["uid"] = studyUid;
  json["study"]["accession_number"] = accession;
  json["study"]["date"] = Time::DicomDateToIso(studyDate);
  json["study"]["time"] = Time::DicomTimeToIso(studyTime);
  json["study"]["description"] = description;
  json["study"]["modalities"] = Json::Value(Json::arrayValue);
  for (const std::string& modality : modalities) json["study"]["modalities"].append(modality);
  json["study"]["gone"] = studyGone;
  json["patient"]["id"] = patientId;
  json["patient"]["name"] = patientName;
  json["patient"]["birth_date"] = Time::DicomDateToIso(patientBirthDate);
  json["patient"]["sex"] = patientSex;
  json["site"] = site;
  if (orderId != 0) {
    json["order"]["id"] = static_cast<Json::Int64>(orderId);
    json["order"]["service_request"] = orderRef;
  } else {
    json["order"] = Json::Value();
  }
  json["referring_physician"] = referring;
  json["reason"] = reason;
  json["priority"] = priority;
  json["status"] = status;
  json["assigned_to"] = assignedTo;
  json["assigned_at"] = Time::FormatIsoUtc(assignedAt);
  json["queued_at"] = Time::FormatIsoUtc(queuedAt);
  json["due_at"] = Time::FormatIsoUtc(dueAt);
  json["overdue"] = Overdue(now);
  json["latest_version"] = latestVersion;
  json["signed_version"] = signedVersion;
  json["has_draft"] = HasDraft();
  json["final_at"] = Time::FormatIsoUtc(finalAt);
  json["critical"] = critical;
  json["updated_at"] = Time::FormatIsoUtc(updatedAt);
  return json;
}

Json::Value ReportVersion::ToJson() const {
  Json::Value json(Json::objectValue);
  json["version"] = version;
  json["kind"] = kind;
  json["content"] = content;
  json["author"] = author;
  json["created_at"] = Time::FormatIsoUtc(createdAt);
  json["updated_at"] = Time::FormatIsoUtc(updatedAt);
  json["signed"] = IsSigned();
  json["status"] = IsSigned() ? signedStatus : std::string(ReportStatus::kDraft);
  json["signed_by"] = signedBy;
  json["signed_role"] = signedRole;
  json["signed_at"] = Time::FormatIsoUtc(signedAt);
  json["content_hash"] = contentHash;
  json["pdf"] = hasPdf;
  json["pdf_instance"] = pdfInstance;
  json["sr_instance"] = srInstance;
  json["delivered_at"] = Time::FormatIsoUtc(deliveredAt);
  json["delivery_error"] = deliveryError;
  return json;
}

namespace {

void AppendCanonicalString(std::string& out, const std::string& text) {
  out += '"';
  for (unsigned char c : text) {
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void AppendCanonical(std::string& out, const Json::Value& value) {
  switch (value.type()) {
    case Json::nullValue:
      out += "null";
      return;
    case Json::booleanValue:
      out += value.asBool() ? "true" : "false";
      return;
    case Json::intValue:
      out += std::to_string(value.asInt64());
      return;
    case Json::uintValue:
      out += std::to_string(value.asUInt64());
      return;
    case Json::realValue:
      throw std::invalid_argument("canonical JSON holds no floating-point numbers");
    case Json::stringValue:
      AppendCanonicalString(out, value.asString());
      return;
    case Json::arrayValue: {
      out += '[';
      for (Json::ArrayIndex i = 0; i < value.size(); i++) {
        if (i > 0) out += ',';
        AppendCanonical(out, value[i]);
      }
      out += ']';
      return;
    }
    case Json::objectValue: {
      std::vector<std::string> names = value.getMemberNames();
      std::sort(names.begin(), names.end());
      out += '{';
      for (size_t i = 0; i < names.size(); i++) {
        if (i > 0) out += ',';
        AppendCanonicalString(out, names[i]);
        out += ':';
        AppendCanonical(out, value[names[i]]);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string CanonicalJson(const Json::Value& value) {
  std::string out;
  AppendCanonical(out, value);
  return out;
}

std::string ContentHash(const std::string& canonical) { return Crypto::Sha256Hex(canonical); }

bool ReportPermissions::IsResident(const std::string& username) const {
  return std::find(settings_.residents.begin(), settings_.residents.end(), username) !=
         settings_.residents.end();
}

bool ReportPermissions::IsLead(const Identity& identity) const {
  if (!identity.authenticated) return false;
  if (identity.role == Role::kAdmin) return true;
  return identity.role == Role::kRadiologist &&
         std::find(settings_.leadRadiologists.begin(), settings_.leadRadiologists.end(), identity.username) !=
             settings_.leadRadiologists.end();
}

bool ReportPermissions::Allows(const Identity& identity, ReportAction action, const Report* report) const {
  try {
    Permit(identity, action, report);
    return true;
  } catch (const DomainError&) {
    return false;
  }
}

void ReportPermissions::Permit(const Identity& identity, ReportAction action, const Report* report) const {
  const bool radiologist = identity.Has(RoleSet{Role::kRadiologist});
  const bool admin = identity.Has(RoleSet{Role::kAdmin});
  const bool assignee =
      report != nullptr && !report->assignedTo.empty() && report->assignedTo == identity.username;
  auto refuse = [](const std::string& message, const std::string& detail = "") {
    throw DomainError::Forbidden(message, detail);
  };
  auto claimedDetail = [report]() {
    return report != nullptr && !report->assignedTo.empty() ? "it is claimed by " + report->assignedTo
                                                            : std::string("claim it first");
  };
  switch (action) {
    case ReportAction::kReadQueue:
      if (!radiologist && !admin) refuse("The reading queue is for radiologists");
      return;
    case ReportAction::kRead:
      if (radiologist || admin) return;
      if (identity.Has(RoleSet{Role::kTechnician, Role::kReception}) && report != nullptr &&
          report->signedVersion > 0 && report->finalAt > 0) {
        return;
      }
      refuse("Only final reports can be read with this role");
      return;
    case ReportAction::kCreate:
    case ReportAction::kClaim:
      if (!radiologist) refuse("Only radiologists read studies");
      if (report != nullptr) {
        if (!report->assignedTo.empty() && !assignee) refuse("This study is claimed", claimedDetail());
        if (ReportStatus::IsFinal(report->status) && !report->HasDraft()) {
          refuse("This report is final", "amend it to add an addendum");
        }
        if (report->status == ReportStatus::kPreliminary && IsResident(identity.username)) {
          refuse("A preliminary report is made final by a radiologist",
                 "your signature is preliminary (Reports.Residents)");
        }
      }
      return;
    case ReportAction::kAssign:
      if (!IsLead(identity)) refuse("Only administrators and lead radiologists assign studies");
      if (report != nullptr && ReportStatus::IsFinal(report->status) && !report->HasDraft()) {
        refuse("This report is final", "amend it to add an addendum");
      }
      return;
    case ReportAction::kRelease:
      if (assignee || IsLead(identity)) return;
      refuse("Only the radiologist who claimed a study, or a lead, releases it", claimedDetail());
      return;
    case ReportAction::kEdit:
    case ReportAction::kSign:
      if (!radiologist) refuse("Only radiologists write and sign reports");
      if (!assignee) {
        refuse(action == ReportAction::kSign ? "You cannot sign a report claimed by someone else"
                                             : "You cannot change a report claimed by someone else",
               claimedDetail());
      }
      return;
    case ReportAction::kAmend:
      if (!radiologist) refuse("Only radiologists amend reports");
      if (IsResident(identity.username)) {
        refuse("An addendum is signed by a radiologist", "your signature is preliminary (Reports.Residents)");
      }
      if (report != nullptr && report->HasDraft() && !assignee) {
        refuse("An addendum is being written", claimedDetail());
      }
      return;
    case ReportAction::kRecordCritical:
      if (!radiologist) refuse("Only radiologists record how a critical finding was communicated");
      return;
    case ReportAction::kManageTemplates:
      if (!admin) refuse("Only administrators change report templates");
      return;
  }
}

}  // namespace HospitalBridge
