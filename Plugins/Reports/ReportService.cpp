#include "Reports/ReportService.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "Common/Errors.h"
#include "Common/Log.h"
#include "Common/RequestChecks.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Reports/FhirDiagnosticReport.h"

namespace HospitalBridge {
namespace {

const char kSystemActor[] = "HospitalBridge";

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// "2026-11-27T10:15[:30](Z|+07:00)" → Unix seconds; false when malformed.
bool ParseIsoInstant(const std::string& text, int64_t& seconds) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d%n", &year, &month, &day, &hour, &minute, &consumed) !=
      5) {
    return false;
  }
  size_t at = static_cast<size_t>(consumed);
  if (at < text.size() && text[at] == ':') {
    int more = 0;
    if (std::sscanf(text.c_str() + at, ":%2d%n", &second, &more) != 1) return false;
    at += static_cast<size_t>(more);
    while (at < text.size() && (text[at] == '.' || (text[at] >= '0' && text[at] <= '9'))) at++;
  }
  int offset = 0;
  if (at < text.size() && text[at] == 'Z') {
    at++;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int hh = 0, mm = 0;
    if (std::sscanf(text.c_str() + at + 1, "%2d:%2d", &hh, &mm) != 2) return false;
    offset = (hh * 60 + mm) * 60 * (text[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return false;
  }
  if (at != text.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return false;
  }
  std::tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  seconds = static_cast<int64_t>(timegm(&parts)) - offset;
  return true;
}

std::string OptionalText(const Json::Value& body, const char* name, size_t max) {
  const Json::Value& value = body[name];
  if (value.isNull()) return "";
  if (!value.isString() || value.asString().size() > max) {
    throw DomainError::Invalid(
        std::string("Invalid field: ") + name,
        std::string(name) + " must be text of at most " + std::to_string(max) + " characters");
  }
  return Text::Trim(value.asString());
}

std::string StatusWord(const std::string& status) {
  if (status == ReportStatus::kPreliminary) return "PRELIMINARY";
  if (status == ReportStatus::kAmended) return "AMENDED";
  if (status == ReportStatus::kFinal) return "FINAL";
  return "DRAFT";
}

std::string Readable(int64_t seconds) {
  std::string iso = Time::FormatIsoUtc(seconds);  // 2026-11-27T10:15:00Z
  if (iso.size() >= 16) return iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
  return iso;
}

}  // namespace

std::string ReportPatientName(const Report& report) { return Text::PersonNameForDisplay(report.patientName); }

ReportService::ReportService(Needs needs, const SiteSettings& site, const ReportsSettings& settings,
                             const IClock& clock)
    : store_(needs.store),
      studies_(needs.studies),
      orthanc_(needs.orthanc),
      renderer_(needs.renderer),
      audit_(needs.audit),
      auditStore_(needs.auditStore),
      orders_(needs.orders),
      feed_(needs.feed),
      checkPassword_(std::move(needs.checkPassword)),
      isRadiologist_(std::move(needs.isRadiologist)),
      hospital_(std::move(needs.hospital)),
      site_(site),
      settings_(settings),
      clock_(clock),
      permissions_(settings) {}

// --- the queue ---------------------------------------------------------------

bool ReportService::NeedsReport(const StudyRecord& study, const std::optional<ReportOrderInfo>& order) const {
  if (order && settings_.queueOrderedStudies) return true;
  for (const std::string& modality : study.modalities) {
    if (Contains(settings_.queueModalities, modality)) return true;
  }
  return false;
}

std::optional<ReportOrderInfo> ReportService::OrderOf(const StudyRecord& study) {
  if (orders_ == nullptr) return std::nullopt;
  return orders_->ForStudy(study.orthancId, study.studyUid);
}

Report ReportService::FromStudy(const StudyRecord& study, const std::optional<ReportOrderInfo>& order) const {
  Report report;
  report.orthancId = study.orthancId;
  report.studyUid = study.studyUid;
  report.accession = study.accessionNumber;
  report.patientId = study.patientId;
  report.patientName = study.patientName;
  report.patientBirthDate = study.patientBirthDate;
  report.patientSex = study.patientSex;
  report.studyDate = study.studyDate;
  report.studyTime = study.studyTime;
  report.description = study.description;
  report.modalities = study.modalities;
  report.site = study.originSite.empty() ? site_.siteId : study.originSite;
  if (order) {
    report.orderId = order->id;
    report.orderRef = order->serviceRequestId;
    report.referring = order->referringPhysician;
    report.reason = order->reason;
    report.priority = IsPriority(order->priority) ? order->priority : "routine";
    if (report.accession.empty()) report.accession = order->accession;
  }
  return report;
}

void ReportService::Consider(const StudyRecord& study) {
  const std::optional<ReportOrderInfo> order = OrderOf(study);
  if (!NeedsReport(study, order) && !store_.FindByOrthancId(study.orthancId)) return;
  Enqueue(study, order);
}

void ReportService::Enqueue(const StudyRecord& study, const std::optional<ReportOrderInfo>& order) {
  const int64_t now = clock_.NowSeconds();
  int64_t seq = 0;
  InWrite(store_.Database(), [&](Transaction& transaction) {
    std::optional<Report> existing = store_.FindByOrthancId(transaction, study.orthancId);
    if (!existing) {
      Report report = FromStudy(study, order);
      report.status = ReportStatus::kUnread;
      report.queuedAt = now;
      report.dueAt = now + settings_.TurnaroundSeconds(report.priority);
      report.updatedAt = now;
      if (store_.InsertIfAbsent(transaction, report))
        seq = Change(transaction, report, "queued", kSystemActor);
      return;
    }
    // What it copies of the study (and of its order) may have changed; a
    // signed report keeps what it was signed with.
    Report updated = *existing;
    if (!existing->studyGone && existing->signedVersion > 0) return;
    Report fresh = FromStudy(study, order);
    updated.studyGone = false;
    updated.studyUid = fresh.studyUid;
    updated.patientId = fresh.patientId;
    updated.patientName = fresh.patientName;
    updated.patientBirthDate = fresh.patientBirthDate;
    updated.patientSex = fresh.patientSex;
    updated.studyDate = fresh.studyDate;
    updated.studyTime = fresh.studyTime;
    updated.description = fresh.description;
    updated.modalities = fresh.modalities;
    if (!fresh.accession.empty()) updated.accession = fresh.accession;
    if (order) {
      updated.orderId = fresh.orderId;
      updated.orderRef = fresh.orderRef;
      updated.referring = fresh.referring;
      updated.reason = fresh.reason;
      if (updated.priority != fresh.priority) {
        updated.priority = fresh.priority;
        updated.dueAt = updated.queuedAt + settings_.TurnaroundSeconds(updated.priority);
      }
    }
    const bool changed =
        updated.ToJson(now) != existing->ToJson(now) || updated.orderRef != existing->orderRef;
    if (!changed) return;
    updated.updatedAt = now;
    store_.Update(transaction, updated);
    seq = Change(transaction, updated, "updated", kSystemActor);
  });
  Committed(seq);
}

void ReportService::StudyGone(const std::string& orthancId) {
  int64_t seq = 0;
  InWrite(store_.Database(), [&](Transaction& transaction) {
    std::optional<Report> report = store_.FindByOrthancId(transaction, orthancId);
    if (!report || report->studyGone) return;
    report->studyGone = true;
    report->updatedAt = clock_.NowSeconds();
    store_.Update(transaction, *report);
    seq = Change(transaction, *report, "gone", kSystemActor);
  });
  Committed(seq);
}

void ReportService::RequireStudyInOrthanc(const Report& report) {
  std::string body;
  if (!report.studyGone && orthanc_.Get("/studies/" + report.orthancId, body)) return;
  if (!report.studyGone) StudyGone(report.orthancId);
  throw DomainError::Gone("The study " + report.studyUid + " is no longer in Orthanc",
                          "study " + report.studyUid + " (Orthanc " + report.orthancId + ") was deleted");
}

// --- one report --------------------------------------------------------------

Report ReportService::Load(Transaction& transaction, int64_t id) {
  std::optional<Report> report = store_.Find(transaction, id);
  if (!report) throw DomainError::NotFound("No such report", "report " + std::to_string(id));
  return *report;
}

Report ReportService::Get(int64_t id) {
  std::optional<Report> report = store_.Find(id);
  if (!report) throw DomainError::NotFound("No such report", "report " + std::to_string(id));
  return *report;
}

int64_t ReportService::Change(Transaction& transaction, const Report& report, const std::string& kind,
                              const std::string& actor) {
  return store_.AddChange(transaction, report.id, kind, actor, clock_.NowSeconds());
}

void ReportService::Committed(int64_t seq) {
  if (seq > 0) feed_.Notify(seq);
}

ReportVersion ReportService::NewDraft(Transaction& transaction, Report& report, const std::string& kind,
                                      const ReportTemplate& reportTemplate, const Json::Value& content,
                                      const std::string& author) {
  ReportVersion version;
  version.reportId = report.id;
  version.version = report.latestVersion + 1;
  version.kind = kind;
  version.templateId = reportTemplate.id;
  version.content = content;
  version.author = author;
  version.createdAt = version.updatedAt = clock_.NowSeconds();
  store_.InsertVersion(transaction, version);
  report.latestVersion = version.version;
  return version;
}

namespace {

// A first draft: the template's defaults.
Json::Value DefaultContent(const ReportTemplate& reportTemplate) {
  Json::Value content(Json::objectValue);
  content["sections"] = Json::Value(Json::objectValue);
  for (const TemplateSection& section : reportTemplate.sections) {
    if (section.type == "multichoice") {
      content["sections"][section.id] = Json::Value(Json::arrayValue);
    } else {
      content["sections"][section.id] = section.defaultValue;
    }
  }
  content["critical"] = false;
  return content;
}

}  // namespace

Report ReportService::Create(const std::string& studyUid, const std::string& templateKey,
                             const Caller& caller) {
  permissions_.Permit(caller.identity, ReportAction::kCreate, nullptr);
  if (studyUid.empty() || studyUid.size() > 64)
    throw DomainError::Invalid("Invalid field: study", "a StudyInstanceUID");
  std::optional<StudyRecord> study = studies_.FindByUid(studyUid);
  if (!study) {
    // A study that had a report and then left Orthanc is gone, not unknown.
    QueueFilter known;
    known.status = "all";
    known.studyUid = studyUid;
    known.limit = 1;
    if (!store_.Queue(known).reports.empty()) {
      throw DomainError::Gone("The study " + studyUid + " is no longer in Orthanc",
                              "study " + studyUid + " was deleted");
    }
    throw DomainError::NotFound("No such study", "study " + studyUid + " is not in the index");
  }
  std::optional<ReportTemplate> reportTemplate =
      templateKey.empty() ? std::nullopt : store_.FindTemplate(templateKey);
  if (!templateKey.empty() && !reportTemplate) {
    throw DomainError::Invalid("Unknown template", "template \"" + templateKey + "\" does not exist");
  }
  std::string body;
  if (!orthanc_.Get("/studies/" + study->orthancId, body)) {
    if (store_.FindByOrthancId(study->orthancId)) StudyGone(study->orthancId);
    throw DomainError::Gone("The study " + studyUid + " is no longer in Orthanc",
                            "study " + studyUid + " (Orthanc " + study->orthancId + ") was deleted");
  }
  const std::optional<ReportOrderInfo> order = OrderOf(*study);
  const int64_t now = clock_.NowSeconds();
  int64_t seq = 0;
  bool created = false;
  Report report = InWrite(store_.Database(), [&](Transaction& transaction) {
    std::optional<Report> found = store_.FindByOrthancId(transaction, study->orthancId);
    Report current;
    if (found) {
      current = *found;
      if (current.studyGone) current.studyGone = false;
    } else {
      current = FromStudy(*study, order);
      current.queuedAt = now;
      current.dueAt = now + settings_.TurnaroundSeconds(current.priority);
      current.updatedAt = now;
      store_.InsertIfAbsent(transaction, current);
      Change(transaction, current, "queued", caller.identity.username);
    }
    permissions_.Permit(caller.identity, ReportAction::kClaim, &current);
    current.assignedTo = caller.identity.username;
    current.assignedAt = now;
    if (!current.HasDraft()) {
      if (current.status == ReportStatus::kPreliminary) {
        std::optional<ReportVersion> signedVersion =
            store_.FindVersion(transaction, current.id, current.signedVersion);
        std::optional<ReportTemplate> used = store_.TemplateById(transaction, signedVersion->templateId);
        NewDraft(transaction, current, "final", *used, signedVersion->content, caller.identity.username);
      } else {
        if (!reportTemplate) throw DomainError::Invalid("Choose a template", "template is required");
        NewDraft(transaction, current, "original", *reportTemplate, DefaultContent(*reportTemplate),
                 caller.identity.username);
        current.status = ReportStatus::kDraft;
        created = true;
      }
    }
    current.updatedAt = now;
    store_.Update(transaction, current);
    seq = Change(transaction, current, "claimed", caller.identity.username);
    return current;
  });
  Committed(seq);
  if (created) {
    Json::Value detail(Json::objectValue);
    detail["template"] = reportTemplate->key;
    detail["template_version"] = reportTemplate->version;
    Audit("report.created", report, caller.Actor(), detail);
  }
  return report;
}

Report ReportService::Claim(int64_t id, const Caller& caller) {
  int64_t seq = 0;
  Report report = InWrite(store_.Database(), [&](Transaction& transaction) {
    Report current = Load(transaction, id);
    permissions_.Permit(caller.identity, ReportAction::kClaim, &current);
    if (current.studyGone)
      throw DomainError::Gone("The study " + current.studyUid + " is no longer in Orthanc");
    if (current.assignedTo == caller.identity.username) return current;
    current.assignedTo = caller.identity.username;
    current.assignedAt = clock_.NowSeconds();
    if (current.status == ReportStatus::kUnread) current.status = ReportStatus::kInProgress;
    if (current.status == ReportStatus::kPreliminary && !current.HasDraft()) {
      std::optional<ReportVersion> signedVersion =
          store_.FindVersion(transaction, current.id, current.signedVersion);
      std::optional<ReportTemplate> used = store_.TemplateById(transaction, signedVersion->templateId);
      NewDraft(transaction, current, "final", *used, signedVersion->content, caller.identity.username);
    }
    current.updatedAt = clock_.NowSeconds();
    store_.Update(transaction, current);
    seq = Change(transaction, current, "claimed", caller.identity.username);
    return current;
  });
  if (seq > 0) {
    Committed(seq);
    Json::Value detail(Json::objectValue);
    detail["action"] = "claim";
    detail["to"] = caller.identity.username;
    Audit("report.assigned", report, caller.Actor(), detail);
  }
  return report;
}

Report ReportService::Assign(int64_t id, const std::string& username, const Caller& caller) {
  if (!Text::IsUserName(username)) throw DomainError::Invalid("Invalid field: user", "a user name");
  if (!isRadiologist_ || !isRadiologist_(username)) {
    throw DomainError::Invalid("Not a radiologist",
                               "\"" + username + "\" is not an active radiologist's account");
  }
  int64_t seq = 0;
  std::string previous;
  Report report = InWrite(store_.Database(), [&](Transaction& transaction) {
    Report current = Load(transaction, id);
    permissions_.Permit(caller.identity, ReportAction::kAssign, &current);
    if (current.studyGone)
      throw DomainError::Gone("The study " + current.studyUid + " is no longer in Orthanc");
    if (current.status == ReportStatus::kPreliminary && permissions_.IsResident(username)) {
      throw DomainError::Invalid("A preliminary report goes to a radiologist who signs final",
                                 username + "'s signature is preliminary (Reports.Residents)");
    }
    previous = current.assignedTo;
    if (previous == username) return current;
    current.assignedTo = username;
    current.assignedAt = clock_.NowSeconds();
    if (current.status == ReportStatus::kUnread) current.status = ReportStatus::kInProgress;
    if (current.status == ReportStatus::kPreliminary && !current.HasDraft()) {
      std::optional<ReportVersion> signedVersion =
          store_.FindVersion(transaction, current.id, current.signedVersion);
      std::optional<ReportTemplate> used = store_.TemplateById(transaction, signedVersion->templateId);
      NewDraft(transaction, current, "final", *used, signedVersion->content, username);
    }
    current.updatedAt = clock_.NowSeconds();
    store_.Update(transaction, current);
    seq = Change(transaction, current, "assigned", caller.identity.username);
    return current;
  });
  if (seq > 0) {
    Committed(seq);
    Json::Value detail(Json::objectValue);
    detail["action"] = "assign";
    detail["to"] = username;
    detail["from"] = previous;
    Audit("report.assigned", report, caller.Actor(), detail);
  }
  return report;
}

Report ReportService::Release(int64_t id, const Caller& caller) {
  int64_t seq = 0;
  std::string previous;
  Report report = InWrite(store_.Database(), [&](Transaction& transaction) {
    Report current = Load(transaction, id);
    if (current.assignedTo.empty()) return current;
    permissions_.Permit(caller.identity, ReportAction::kRelease, &current);
    if (ReportStatus::IsFinal(current.status) && !current.HasDraft())
      return current;  // the reader's name stays
    previous = current.assignedTo;
    current.assignedTo.clear();
    current.assignedAt = 0;
    if (current.status == ReportStatus::kInProgress) current.status = ReportStatus::kUnread;
    current.updatedAt = clock_.NowSeconds();
    store_.Update(transaction, current);
    seq = Change(transaction, current, "released", caller.identity.username);
    return current;
  });
  if (seq > 0) {
    Committed(seq);
    Json::Value detail(Json::objectValue);
    detail["action"] = "release";
    detail["from"] = previous;
    Audit("report.assigned", report, caller.Actor(), detail);
  }
  return report;
}

Report ReportService::Save(int64_t id, const Json::Value& body, const Caller& caller) {
  RejectUnknownFields(body, {"template", "sections", "critical", "addendum"});
  const std::string templateKey = OptionalText(body, "template", 64);
  if (body.isMember("critical") && !body["critical"].isBool()) {
    throw DomainError::Invalid("Invalid field: critical", "critical must be true or false");
  }
  if (!body["sections"].isNull() && !body["sections"].isObject()) {
    throw DomainError::Invalid("Invalid field: sections",
                               "sections must be an object of section id to value");
  }
  int64_t seq = 0;
  bool created = false;
  std::string createdTemplate;
  Report report = InWrite(store_.Database(), [&](Transaction& transaction) {
    Report current = Load(transaction, id);
    if (current.studyGone) {
      throw DomainError::Gone("The study " + current.studyUid + " is no longer in Orthanc",
                              "study " + current.studyUid + " was deleted");
    }
    if (ReportStatus::IsFinal(current.status) && !current.HasDraft()) {
      throw DomainError::Conflict("This report is signed", "amend it to add an addendum");
    }
    permissions_.Permit(caller.identity, ReportAction::kEdit, &current);
    ReportVersion draft;
    std::optional<ReportTemplate> reportTemplate;
    if (!current.HasDraft()) {
      if (current.status == ReportStatus::kPreliminary) {
        std::optional<ReportVersion> signedVersion =
            store_.FindVersion(transaction, current.id, current.signedVersion);
        reportTemplate = store_.TemplateById(transaction, signedVersion->templateId);
        draft = NewDraft(transaction, current, "final", *reportTemplate, signedVersion->content,
                         caller.identity.username);
      } else {
        if (templateKey.empty()) throw DomainError::Invalid("Choose a template", "template is required");
        reportTemplate = store_.FindTemplate(transaction, templateKey);
        if (!reportTemplate) {
          throw DomainError::Invalid("Unknown template", "template \"" + templateKey + "\" does not exist");
        }
        draft = NewDraft(transaction, current, "original", *reportTemplate, DefaultContent(*reportTemplate),
                         caller.identity.username);
        created = true;
        createdTemplate = templateKey;
      }
    } else {
      draft = *store_.FindVersion(transaction, current.id, current.latestVersion);
      reportTemplate = store_.TemplateById(transaction, draft.templateId);
    }
    if (!templateKey.empty() && templateKey != reportTemplate->key) {
      if (draft.kind != "original") {
        throw DomainError::Conflict("The template cannot change", "an addendum keeps its report's template");
      }
      reportTemplate = store_.FindTemplate(transaction, templateKey);
      if (!reportTemplate) {
        throw DomainError::Invalid("Unknown template", "template \"" + templateKey + "\" does not exist");
      }
      // Sections the new template does not have are dropped.
      Json::Value kept(Json::objectValue);
      const Json::Value old = draft.content["sections"];
      for (const TemplateSection& section : reportTemplate->sections) {
        kept[section.id] = old.isMember(section.id) &&
                                   old[section.id].type() ==
                                       (section.type == "multichoice" ? Json::arrayValue : Json::stringValue)
                               ? old[section.id]
                               : DefaultContent(*reportTemplate)["sections"][section.id];
      }
      draft.content["sections"] = kept;
      draft.templateId = reportTemplate->id;
    }
    Json::Value sections =
        draft.content["sections"].isObject() ? draft.content["sections"] : Json::Value(Json::objectValue);
    if (body["sections"].isObject()) {
      for (const std::string& name : body["sections"].getMemberNames()) {
        if (body["sections"][name].isNull()) {
          sections.removeMember(name);
        } else {
          sections[name] = body["sections"][name];
        }
      }
    }
    CheckSectionValues(*reportTemplate, sections);
    draft.content["sections"] = sections;
    if (body.isMember("critical")) draft.content["critical"] = body["critical"].asBool();
    if (body.isMember("addendum")) {
      if (draft.kind != "addendum")
        throw DomainError::Invalid("Invalid field: addendum", "only an addendum has one");
      draft.content["addendum"] = OptionalText(body, "addendum", 20000);
    }
    draft.author = caller.identity.username;
    draft.updatedAt = clock_.NowSeconds();
    store_.UpdateDraft(transaction, draft);
    current.critical = draft.content.get("critical", false).asBool();
    if (current.status == ReportStatus::kInProgress || current.status == ReportStatus::kUnread) {
      current.status = ReportStatus::kDraft;
    }
    current.updatedAt = draft.updatedAt;
    store_.Update(transaction, current);
    seq = Change(transaction, current, "saved", caller.identity.username);
    return current;
  });
  Committed(seq);
  if (created) {
    Json::Value detail(Json::objectValue);
    detail["template"] = createdTemplate;
    Audit("report.created", report, caller.Actor(), detail);
  }
  return report;
}

Json::Value ReportService::Canonical(const Report& report, const ReportVersion& version,
                                     const ReportTemplate& reportTemplate, const std::string& status,
                                     const std::string& predecessorHash) {
  Json::Value canonical(Json::objectValue);
  canonical["format"] = "hospitalbridge-report/1";
  canonical["site"]["id"] = site_.siteId;
  canonical["site"]["name"] = site_.siteName;
  canonical["report"] = static_cast<Json::Int64>(report.id);
  canonical["version"] = version.version;
  canonical["kind"] = version.kind;
  canonical["status"] = status;
  canonical["study"]["uid"] = report.studyUid;
  canonical["study"]["accession_number"] = report.accession;
  canonical["study"]["date"] = report.studyDate;
  canonical["study"]["description"] = report.description;
  canonical["study"]["modalities"] = Json::Value(Json::arrayValue);
  for (const std::string& modality : report.modalities) canonical["study"]["modalities"].append(modality);
  canonical["patient"]["id"] = report.patientId;
  canonical["patient"]["name"] = report.patientName;
  canonical["patient"]["birth_date"] = report.patientBirthDate;
  canonical["patient"]["sex"] = report.patientSex;
  if (report.orderId != 0) {
    canonical["order"]["id"] = static_cast<Json::Int64>(report.orderId);
    canonical["order"]["service_request"] = report.orderRef;
  }
  canonical["template"]["key"] = reportTemplate.key;
  canonical["template"]["version"] = reportTemplate.version;
  canonical["template"]["name"] = reportTemplate.name;
  canonical["sections"] = Json::Value(Json::arrayValue);
  const Json::Value& values = version.content["sections"];
  for (const TemplateSection& section : reportTemplate.sections) {
    Json::Value item(Json::objectValue);
    item["id"] = section.id;
    item["label"] = section.label;
    item["value"] = values.isObject() && values.isMember(section.id) ? values[section.id] : Json::Value("");
    canonical["sections"].append(item);
  }
  canonical["critical"] = version.content.get("critical", false).asBool();
  if (version.kind == "addendum") canonical["addendum"] = version.content.get("addendum", "").asString();
  if (!predecessorHash.empty()) canonical["replaces"] = predecessorHash;
  return canonical;
}

ReportDocument ReportService::DocumentOf(const Report& report, const ReportVersion& version,
                                         const ReportTemplate& reportTemplate, const std::string& status) {
  const HospitalInfo hospital = hospital_ ? hospital_() : HospitalInfo{site_.siteName, "", "", ""};
  ReportDocument document;
  document.hospitalName = hospital.name.empty() ? site_.siteName : hospital.name;
  std::vector<std::string> lines;
  for (const std::string& part : {hospital.address, hospital.phone, hospital.email}) {
    if (!part.empty()) lines.push_back(part);
  }
  for (size_t i = 0; i < lines.size(); i++) document.hospitalLines += (i > 0 ? " \u00b7 " : "") + lines[i];
  document.status = StatusWord(status);
  document.patient = {{"Name", ReportPatientName(report)},
                      {"Patient ID", report.patientId},
                      {"Birth date", Time::DicomDateToIso(report.patientBirthDate)},
                      {"Sex", report.patientSex}};
  std::string modalities;
  for (const std::string& modality : report.modalities)
    modalities += (modalities.empty() ? "" : ", ") + modality;
  document.study = {{"Study", report.description},
                    {"Date", Time::DicomDateToIso(report.studyDate)},
                    {"Modality", modalities},
                    {"Accession number", report.accession},
                    {"Referring physician", Text::PersonNameForDisplay(report.referring)},
                    {"Study UID", report.studyUid}};
  const Json::Value& values = version.content["sections"];
  for (const TemplateSection& section : reportTemplate.sections) {
    const std::string text = SectionText(values.isObject() ? values[section.id] : Json::Value());
    if (Text::Trim(text).empty() && !section.required) continue;
    document.sections.push_back({section.label, text});
  }
  if (version.kind == "addendum") {
    document.sections.push_back(
        {"Addendum (" + Readable(version.signedAt) + ")", version.content.get("addendum", "").asString()});
  }
  if (version.content.get("critical", false).asBool()) {
    for (const CriticalCommunication& told : store_.Criticals(report.id)) {
      document.notes.push_back("Critical finding communicated to " + told.to + " on " + Readable(told.at) +
                               (told.method.empty() ? "" : " by " + told.method) + " (recorded by " +
                               told.recordedBy + ").");
    }
  }
  if (version.kind != "original") {
    for (int previous = version.version - 1; previous >= 1; previous--) {
      std::optional<ReportVersion> earlier = store_.FindVersion(report.id, previous);
      if (earlier && earlier->IsSigned()) {
        document.notes.push_back("This version " + std::to_string(version.version) + " replaces version " +
                                 std::to_string(previous) + " (" + earlier->signedStatus + ", SHA-256 " +
                                 earlier->contentHash.substr(0, 16) + "\u2026).");
        break;
      }
    }
  }
  document.signature =
      "Signed by " + version.signedBy + " (" + version.signedRole + ") on " + Readable(version.signedAt);
  document.hash = version.contentHash;
  document.reference = "Report " + std::to_string(report.id) + ", version " +
                       std::to_string(version.version) + " \u00b7 template " + reportTemplate.name + " v" +
                       std::to_string(reportTemplate.version) + " \u00b7 " + site_.siteId;
  document.paper = settings_.paper;
  document.maxPages = settings_.maxPages;
  return document;
}

void ReportService::AuditInTransaction(Transaction& transaction, AuditEvent event) {
  if (event.timeMs == 0) event.timeMs = clock_.NowMs();
  if (auditStore_ == nullptr) {
    audit_.Record(event);
    return;
  }
  std::vector<AuditEvent> events{event};
  auditStore_->Append(transaction, events);
}

void ReportService::Audit(const std::string& action, const Report& report, const AuditActor& actor,
                          Json::Value detail, const std::string& outcome) {
  AuditEvent event = MakeAuditEvent(action, actor, outcome);
  event.studyUid = report.studyUid;
  event.dicomPatientId = report.patientId;
  detail["report"] = static_cast<Json::Int64>(report.id);
  event.detail = detail;
  audit_.Record(event);
}

SignOutcome ReportService::Sign(int64_t id, const std::string& password, const Caller& caller) {
  Report report = Get(id);
  // Nothing left to sign is a conflict whoever asks (signing twice).
  if (!report.HasDraft()) {
    throw DomainError::Conflict("This report has nothing to sign",
                                report.signedVersion > 0
                                    ? "version " + std::to_string(report.signedVersion) + " is signed already"
                                    : "write a draft first");
  }
  permissions_.Permit(caller.identity, ReportAction::kSign, &report);
  const bool preliminary = permissions_.IsResident(caller.identity.username);
  const std::string status = ReportStatus::AfterSigning(report.status, preliminary);

  auto refused = [&](const std::string& reason) {
    Json::Value detail(Json::objectValue);
    detail["reason"] = reason;
    detail["version"] = report.latestVersion;
    Audit("report.sign_refused", report, caller.Actor(), detail, "failure");
  };
  int64_t retryAfter = 0;
  if (password.empty() || !checkPassword_ ||
      !checkPassword_(caller.identity.username, password, caller.address, retryAfter)) {
    refused(retryAfter > 0 ? "password checks locked" : "wrong password");
    if (retryAfter > 0) {
      throw DomainError::Forbidden("Too many wrong passwords",
                                   "try again in " + std::to_string((retryAfter + 59) / 60) + " minutes");
    }
    throw DomainError::Forbidden("The password is not right", "signing needs your own password again");
  }
  RequireStudyInOrthanc(report);

  ReportVersion draft = *store_.FindVersion(report.id, report.latestVersion);
  std::optional<ReportTemplate> reportTemplate = store_.TemplateById(draft.templateId);
  if (!reportTemplate) throw DomainError::Conflict("The report's template is missing");
  const std::vector<std::string> missing =
      MissingRequiredSections(*reportTemplate, draft.content["sections"]);
  if (!missing.empty()) {
    std::string names;
    for (const std::string& name : missing) {
      const TemplateSection* section = reportTemplate->Find(name);
      names += (names.empty() ? "" : ", ") + (section ? section->label : name);
    }
    throw DomainError::Invalid("Required sections are empty", names);
  }
  if (draft.kind == "addendum" && Text::Trim(draft.content.get("addendum", "").asString()).empty()) {
    throw DomainError::Invalid("The addendum is empty", "write what the amendment adds or corrects");
  }
  if (draft.content.get("critical", false).asBool() && store_.Criticals(report.id).empty()) {
    throw DomainError::Invalid("A critical finding must be communicated first",
                               "record to whom and when it was told before signing");
  }
  std::string predecessorHash;
  if (report.signedVersion > 0) {
    std::optional<ReportVersion> predecessor = store_.FindVersion(report.id, report.signedVersion);
    if (predecessor) predecessorHash = predecessor->contentHash;
  }

  // Everything that can fail is done before anything is written: the
  // canonical content, its hash, the PDF.
  const int64_t now = clock_.NowSeconds();
  draft.signedStatus = status;
  draft.signedBy = caller.identity.username;
  draft.signedRole = preliminary ? "resident" : RoleName(caller.identity.role);
  draft.signedAt = now;
  draft.canonical = CanonicalJson(Canonical(report, draft, *reportTemplate, status, predecessorHash));
  draft.contentHash = ContentHash(draft.canonical);
  std::string pdf;
  try {
    pdf = renderer_.Render(DocumentOf(report, draft, *reportTemplate, status));
  } catch (const ReportRenderError& e) {
    refused(std::string("the PDF could not be made: ") + e.what());
    throw DomainError::Invalid("The report could not be made into a PDF, so it was not signed", e.what());
  }

  int64_t seq = 0;
  Report signedReport = InWrite(store_.Database(), [&](Transaction& transaction) {
    Report current = Load(transaction, id);
    if (current.latestVersion != draft.version || !current.HasDraft()) {
      throw DomainError::Conflict("The report changed while it was being signed", "open it again");
    }
    permissions_.Permit(caller.identity, ReportAction::kSign, &current);
    store_.SignVersion(transaction, draft, pdf);
    current.status = status;
    current.signedVersion = draft.version;
    current.critical = draft.content.get("critical", false).asBool();
    if (ReportStatus::IsFinal(status) && current.finalAt == 0) current.finalAt = now;
    if (status == ReportStatus::kPreliminary) {
      current.assignedTo.clear();  // for a radiologist to make final
      current.assignedAt = 0;
    }
    current.updatedAt = now;
    store_.Update(transaction, current);
    seq = Change(transaction, current, "signed", caller.identity.username);
    AuditEvent event = MakeAuditEvent("report.signed", caller.Actor());
    event.studyUid = current.studyUid;
    event.detail["report"] = static_cast<Json::Int64>(current.id);
    event.detail["version"] = draft.version;
    event.detail["status"] = status;
    event.detail["sha256"] = draft.contentHash;
    event.detail["signed_by"] = draft.signedBy;
    event.detail["signer_role"] = draft.signedRole;
    event.detail["signed_at"] = Time::FormatIsoUtc(now);
    event.detail["patient_id"] = current.patientId;
    AuditInTransaction(transaction, event);
    return current;
  });
  Committed(seq);
  Log::Info("report " + std::to_string(id) + " version " + std::to_string(draft.version) + " signed " +
            status + " by '" + caller.identity.username + "' (SHA-256 " + draft.contentHash + ")");
  draft.hasPdf = true;
  return SignOutcome{signedReport, draft};
}

Report ReportService::Amend(int64_t id, const std::string& reason, const Caller& caller) {
  const std::string why = Text::Trim(reason);
  if (why.empty() || why.size() > 500) {
    throw DomainError::Invalid("Invalid field: reason",
                               "say why the report is amended (at most 500 characters)");
  }
  int64_t seq = 0;
  Report report = InWrite(store_.Database(), [&](Transaction& transaction) {
    Report current = Load(transaction, id);
    if (!ReportStatus::IsFinal(current.status)) {
      throw DomainError::Conflict("Only a final report is amended", "the report is " + current.status);
    }
    permissions_.Permit(caller.identity, ReportAction::kAmend, &current);
    if (current.HasDraft()) {
      throw DomainError::Conflict("An addendum is being written", "by " + current.assignedTo);
    }
    if (current.studyGone)
      throw DomainError::Gone("The study " + current.studyUid + " is no longer in Orthanc");
    std::optional<ReportVersion> signedVersion =
        store_.FindVersion(transaction, current.id, current.signedVersion);
    std::optional<ReportTemplate> used = store_.TemplateById(transaction, signedVersion->templateId);
    Json::Value content = signedVersion->content;
    content["addendum"] = "";
    content["amendment_reason"] = why;
    NewDraft(transaction, current, "addendum", *used, content, caller.identity.username);
    current.assignedTo = caller.identity.username;
    current.assignedAt = clock_.NowSeconds();
    current.updatedAt = clock_.NowSeconds();
    store_.Update(transaction, current);
    seq = Change(transaction, current, "amended", caller.identity.username);
    return current;
  });
  Committed(seq);
  Json::Value detail(Json::objectValue);
  detail["reason"] = why;
  detail["version"] = report.latestVersion;
  Audit("report.amended", report, caller.Actor(), detail);
  return report;
}

CriticalCommunication ReportService::RecordCritical(int64_t id, const Json::Value& body,
                                                    const Caller& caller) {
  RejectUnknownFields(body, {"to", "at", "method", "note"});
  permissions_.Permit(caller.identity, ReportAction::kRecordCritical, nullptr);
  CriticalCommunication told;
  told.to = OptionalText(body, "to", 200);
  if (told.to.empty()) throw DomainError::Invalid("Invalid field: to", "say to whom the finding was told");
  told.method = OptionalText(body, "method", 100);
  told.note = OptionalText(body, "note", 1000);
  const std::string at = OptionalText(body, "at", 64);
  const int64_t now = clock_.NowSeconds();
  told.at = now;
  if (!at.empty() && !ParseIsoInstant(at, told.at)) {
    throw DomainError::Invalid("Invalid field: at",
                               "an ISO 8601 time with its zone, e.g. 2026-11-27T10:15:00Z");
  }
  if (told.at > now + 300) throw DomainError::Invalid("Invalid field: at", "the time is in the future");
  told.recordedBy = caller.identity.username;
  told.recordedAt = now;
  int64_t seq = 0;
  InWrite(store_.Database(), [&](Transaction& transaction) {
    Report current = Load(transaction, id);
    permissions_.Permit(caller.identity, ReportAction::kRead, &current);
    told.reportId = current.id;
    told.version = current.latestVersion;
    store_.AddCritical(transaction, told);
    current.updatedAt = now;
    store_.Update(transaction, current);
    seq = Change(transaction, current, "critical", caller.identity.username);
    AuditEvent event = MakeAuditEvent("report.critical_communicated", caller.Actor());
    event.studyUid = current.studyUid;
    event.detail["report"] = static_cast<Json::Int64>(current.id);
    event.detail["to"] = told.to;
    event.detail["at"] = Time::FormatIsoUtc(told.at);
    event.detail["method"] = told.method;
    event.detail["patient_id"] = current.patientId;
    AuditInTransaction(transaction, event);
  });
  Committed(seq);
  return told;
}

ReportVersion ReportService::VersionFor(const Report& report, const Identity& identity, int version) {
  permissions_.Permit(identity, ReportAction::kRead, &report);
  const bool drafts = identity.Has(RoleSet{Role::kRadiologist, Role::kAdmin});
  if (version == 0) {
    if (drafts) {
      version = report.latestVersion;
    } else {
      // The newest final or amended version.
      for (int n = report.signedVersion; n >= 1 && version == 0; n--) {
        std::optional<ReportVersion> candidate = store_.FindVersion(report.id, n);
        if (candidate && ReportStatus::IsFinal(candidate->signedStatus)) version = n;
      }
    }
  }
  std::optional<ReportVersion> found = version > 0 ? store_.FindVersion(report.id, version) : std::nullopt;
  if (!found) throw DomainError::NotFound("No such version", "report " + std::to_string(report.id));
  if (!drafts && !ReportStatus::IsFinal(found->signedStatus)) {
    throw DomainError::Forbidden("Only final reports can be read with this role");
  }
  return *found;
}

ReportTemplate ReportService::TemplateOf(const ReportVersion& version) {
  std::optional<ReportTemplate> found = store_.TemplateById(version.templateId);
  if (!found) throw DomainError::NotFound("The report's template is missing");
  return *found;
}

Json::Value ReportService::Fhir(const Report& report, const ReportVersion& version) {
  if (!version.IsSigned()) {
    throw DomainError::Conflict("A draft has no DiagnosticReport", "sign it first");
  }
  std::string pdf;
  store_.Pdf(report.id, version.version, pdf);
  const ReportTemplate reportTemplate = TemplateOf(version);
  std::optional<ReportVersion> predecessor;
  for (int n = version.version - 1; n >= 1 && !predecessor; n--) {
    std::optional<ReportVersion> candidate = store_.FindVersion(report.id, n);
    if (candidate && candidate->IsSigned()) predecessor = candidate;
  }
  return DiagnosticReportOf(DiagnosticReportInput{site_, report, version, reportTemplate, pdf,
                                                  predecessor ? &*predecessor : nullptr});
}

// --- templates ---------------------------------------------------------------

ReportTemplate ReportService::CreateTemplate(const Json::Value& body, const Caller& caller) {
  permissions_.Permit(caller.identity, ReportAction::kManageTemplates, nullptr);
  ReportTemplate parsed = ParseTemplate(body);
  parsed.createdAt = clock_.NowSeconds();
  parsed.createdBy = caller.identity.username;
  InWrite(store_.Database(), [&](Transaction& transaction) {
    if (store_.FindTemplate(transaction, parsed.key)) {
      throw DomainError::Conflict("This template exists",
                                  "PUT /bridge/report-templates/" + parsed.key + " makes a new version");
    }
    store_.InsertTemplateVersion(transaction, parsed);
  });
  AuditEvent event = MakeAuditEvent("report.template_changed", caller.Actor());
  event.detail["template"] = parsed.key;
  event.detail["version"] = parsed.version;
  audit_.Record(event);
  return parsed;
}

ReportTemplate ReportService::UpdateTemplate(const std::string& key, const Json::Value& body,
                                             const Caller& caller) {
  permissions_.Permit(caller.identity, ReportAction::kManageTemplates, nullptr);
  if (body.isMember("key") && body["key"] != Json::Value(key)) {
    throw DomainError::Invalid("Invalid template", "key cannot change (it is the one in the address)");
  }
  Json::Value copy = body;
  copy.removeMember("key");
  copy.removeMember("id");
  ReportTemplate parsed = ParseTemplate(copy, key);
  parsed.createdAt = clock_.NowSeconds();
  parsed.createdBy = caller.identity.username;
  InWrite(store_.Database(), [&](Transaction& transaction) {
    if (!store_.FindTemplate(transaction, key)) {
      throw DomainError::NotFound("No such template", "POST /bridge/report-templates makes a new one");
    }
    store_.InsertTemplateVersion(transaction, parsed);
  });
  AuditEvent event = MakeAuditEvent("report.template_changed", caller.Actor());
  event.detail["template"] = parsed.key;
  event.detail["version"] = parsed.version;
  audit_.Record(event);
  return parsed;
}

}  // namespace HospitalBridge
