#include "Reports/ReportRoutes.h"

#include <algorithm>
#include <memory>

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/RequestChecks.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {

const RoleSet kReaders{Role::kAdmin, Role::kRadiologist};
const RoleSet kStaff = RoleSet::Staff();
const RoleSet kRadiologists{Role::kRadiologist};
const RoleSet kAdmins{Role::kAdmin};

int64_t ReportId(const RouteContext& ctx) {
  const std::string& text = ctx.Param("id");
  if (!Text::IsDigits(text, 1, 18)) {
    throw DomainError::NotFound("No such report", "report ids are numbers, got \"" + text + "\"");
  }
  return std::stoll(text);
}

int VersionParameter(const HttpRequest& request) {
  return IntegerParameter(request, "version", 0, 1, 100000);
}

Caller CallerOf(const RouteContext& ctx) { return Caller{ctx.identity, ctx.request.remoteIp}; }

std::string StringField(const Json::Value& body, const char* name, size_t max) {
  const Json::Value& value = body[name];
  if (value.isNull()) return "";
  if (!value.isString() || value.asString().size() > max) {
    throw DomainError::Invalid(
        std::string("Invalid field: ") + name,
        std::string(name) + " must be a string of at most " + std::to_string(max) + " characters");
  }
  return value.asString();
}

struct Routes {
  ReportRoutesContext c;

  Json::Value Permissions(const Report& report, const Identity& identity) const {
    const ReportPermissions& rules = c.service.Permissions();
    Json::Value may(Json::objectValue);
    may["claim"] =
        report.assignedTo != identity.username && rules.Allows(identity, ReportAction::kClaim, &report);
    may["assign"] = rules.Allows(identity, ReportAction::kAssign, &report);
    may["release"] = !report.assignedTo.empty() &&
                     (!ReportStatus::IsFinal(report.status) || report.HasDraft()) &&
                     rules.Allows(identity, ReportAction::kRelease, &report);
    may["edit"] = !report.studyGone && (ReportStatus::IsOpen(report.status) || report.HasDraft()) &&
                  rules.Allows(identity, ReportAction::kEdit, &report);
    may["sign"] = report.HasDraft() && rules.Allows(identity, ReportAction::kSign, &report);
    may["amend"] = ReportStatus::IsFinal(report.status) && !report.HasDraft() &&
                   rules.Allows(identity, ReportAction::kAmend, &report);
    may["record_critical"] = rules.Allows(identity, ReportAction::kRecordCritical, &report);
    may["preliminary_signer"] = rules.IsResident(identity.username);
    return may;
  }

  // The whole report for its page: the version the caller reads, its
  // template, the versions, the critical-finding record, the patient's
  // other studies here, what the caller may do.
  Json::Value Full(const Report& report, const Identity& identity, int versionNumber) const {
    const int64_t now = c.service.Clock().NowSeconds();
    Json::Value answer = report.ToJson(now);
    const bool drafts = identity.Has(kReaders);
    Json::Value versions(Json::arrayValue);
    for (const ReportVersion& version : c.service.Store().Versions(report.id)) {
      if (!drafts && !ReportStatus::IsFinal(version.signedStatus)) continue;
      Json::Value entry = version.ToJson();
      entry.removeMember("content");
      versions.append(entry);
    }
    answer["versions"] = versions;
    if (report.latestVersion > 0 && (drafts || report.finalAt > 0)) {
      const ReportVersion version = c.service.VersionFor(report, identity, versionNumber);
      answer["version"] = version.ToJson();
      answer["template"] = c.service.TemplateOf(version).ToJson();
    } else {
      answer["version"] = Json::Value();
      answer["template"] = Json::Value();
    }
    answer["critical_communications"] = Json::Value(Json::arrayValue);
    for (const CriticalCommunication& told : c.service.Store().Criticals(report.id)) {
      answer["critical_communications"].append(told.ToJson());
    }
    answer["may"] = Permissions(report, identity);
    answer["priors"] = Json::Value(Json::arrayValue);
    if (drafts) {
      if (std::optional<StudyRecord> study = c.studies.FindByOrthancId(report.orthancId)) {
        if (c.registryPatient) {
          const auto [registryId, nationalId] = c.registryPatient(*study);
          answer["patient"]["registry_id"] = registryId;
          answer["patient"]["national_id"] = nationalId;
        }
      }
      if (!report.patientId.empty()) {
        StudyFilter filter;
        filter.patientId = report.patientId;
        filter.limit = 20;
        for (const StudyRecord& prior : c.studies.Search(filter).studies) {
          if (prior.orthancId == report.orthancId) continue;
          Json::Value entry(Json::objectValue);
          entry["orthanc_id"] = prior.orthancId;
          entry["uid"] = prior.studyUid;
          entry["date"] = Time::DicomDateToIso(prior.studyDate);
          entry["description"] = prior.description;
          entry["modalities"] = Json::Value(Json::arrayValue);
          for (const std::string& modality : prior.modalities) entry["modalities"].append(modality);
          if (std::optional<Report> priorReport = c.service.Store().FindByOrthancId(prior.orthancId)) {
            entry["report"]["id"] = static_cast<Json::Int64>(priorReport->id);
            entry["report"]["status"] = priorReport->status;
          }
          answer["priors"].append(entry);
        }
      }
    }
    return answer;
  }

  // After a change: the report as its page shows it.
  HttpResponse Answer(const Report& report, const RouteContext& ctx) const {
    return HttpResponse::Json(Full(report, ctx.identity, 0));
  }

  QueueFilter ParseQueue(const RouteContext& ctx) const {
    const HttpRequest& request = ctx.request;
    RejectUnknownParameters(request, {"status", "modality", "priority", "mine", "assigned", "overdue", "site",
                                      "study", "patient_id", "limit", "offset"});
    QueueFilter filter;
    filter.now = c.service.Clock().NowSeconds();
    if (request.HasQuery("status")) filter.status = request.Query("status");
    if (filter.status != "open" && filter.status != "all" && filter.status != "final" &&
        !ReportStatus::IsKnown(filter.status)) {
      throw DomainError::Invalid(
          "Invalid parameter: status",
          "open, all, final, or one of unread, in-progress, draft, preliminary, final, "
          "amended");
    }
    filter.modality = request.Query("modality");
    if (!filter.modality.empty() && !Text::IsIdentifier(filter.modality, "", 1, 16)) {
      throw DomainError::Invalid("Invalid parameter: modality", "a DICOM modality code such as CT");
    }
    filter.priority = request.Query("priority");
    if (!filter.priority.empty() && !IsPriority(filter.priority)) {
      throw DomainError::Invalid("Invalid parameter: priority", "stat, urgent or routine");
    }
    const std::string mine = request.Query("mine");
    if (mine == "1" || mine == "true") filter.assignedTo = ctx.identity.username;
    if (request.HasQuery("assigned")) {
      filter.assignedTo = request.Query("assigned");
      if (filter.assignedTo != "-" && !Text::IsUserName(filter.assignedTo)) {
        throw DomainError::Invalid("Invalid parameter: assigned", "a user name, or - for nobody");
      }
    }
    const std::string overdue = request.Query("overdue");
    filter.overdueOnly = overdue == "1" || overdue == "true";
    filter.site = request.Query("site");
    if (!filter.site.empty() && !Text::IsIdentifier(filter.site, "-_", 1, 32)) {
      throw DomainError::Invalid("Invalid parameter: site", "a site id");
    }
    filter.studyUid = request.Query("study");
    filter.patientId = request.Query("patient_id");
    if (filter.studyUid.size() > 64 || filter.patientId.size() > 64) {
      throw DomainError::Invalid("Invalid parameter", "study and patient_id are at most 64 characters");
    }
    filter.limit = IntegerParameter(request, "limit", 50, 1, 500);
    filter.offset = IntegerParameter(request, "offset", 0, 0, 100000000);
    return filter;
  }

  ReportVersion SignedVersionFor(const Report& report, const RouteContext& ctx) const {
    const ReportVersion version = c.service.VersionFor(report, ctx.identity, VersionParameter(ctx.request));
    if (!version.IsSigned()) throw DomainError::Conflict("This version is a draft", "sign it first");
    return version;
  }
};

}  // namespace

void RegisterReportRoutes(Router& router, ReportRoutesContext context) {
  auto r = std::make_shared<Routes>(Routes{context});

  router.Add("GET", "/bridge/reports/queue", kReaders, [r](const RouteContext& ctx) {
    r->c.service.Permissions().Permit(ctx.identity, ReportAction::kReadQueue, nullptr);
    QueueFilter filter = r->ParseQueue(ctx);
    // The number first: a change made while the page reads is announced again.
    const int64_t seq = r->c.service.Store().LatestSeq();
    QueuePage page = r->c.service.Store().Queue(filter);
    Json::Value answer(Json::objectValue);
    answer["seq"] = static_cast<Json::Int64>(seq);
    answer["now"] = Time::FormatIsoUtc(filter.now);
    answer["total"] = static_cast<Json::Int64>(page.total);
    answer["limit"] = filter.limit;
    answer["offset"] = filter.offset;
    answer["reports"] = Json::Value(Json::arrayValue);
    for (const Report& report : page.reports) answer["reports"].append(report.ToJson(filter.now));
    return HttpResponse::Json(answer);
  });

  // Long polling: GET /bridge/reports/changes?since=N&wait=25 answers as soon
  // as a change after N exists, or after `wait` seconds with none.
  router.Add("GET", "/bridge/reports/changes", kReaders, [r](const RouteContext& ctx) {
    const HttpRequest& request = ctx.request;
    RejectUnknownParameters(request, {"since", "wait"});
    // A page may ask for a longer wait than this server allows
    // (Reports.LiveUpdates.WaitSeconds): it waits that long at most.
    const int maxWait = r->c.service.Settings().waitSeconds;
    const int wait = std::min(IntegerParameter(request, "wait", maxWait, 0, 120), maxWait);
    int64_t since = -1;
    if (request.HasQuery("since")) {
      if (!Text::IsDigits(request.Query("since"), 1, 18)) {
        throw DomainError::Invalid("Invalid parameter: since", "the last change number seen");
      }
      since = std::stoll(request.Query("since"));
    }
    int64_t latest = r->c.service.Store().LatestSeq();
    Json::Value answer(Json::objectValue);
    answer["waited"] = false;
    if (since >= 0 && latest <= since && wait > 0) {
      ChangeFeed::Slot slot = r->c.feed.TryEnter();
      if (!slot.Granted()) {
        const int retry = 5;
        HttpResponse busy = HttpResponse::Error(
            503, "Too many pages are waiting for live updates",
            "at most " + std::to_string(r->c.feed.MaxWaiting()) +
                " requests wait at once (Reports.LiveUpdates.MaxWaiting); ask again without waiting, or in " +
                std::to_string(retry) + " s");
        Json::Value body;
        JsonText::Parse(busy.body, body);
        body["busy"] = true;
        body["seq"] = static_cast<Json::Int64>(latest);
        body["retry_after_seconds"] = retry;
        busy.body = JsonText::Write(body);
        busy.AddHeader("Retry-After", std::to_string(retry));
        return busy;
      }
      latest = r->c.feed.WaitAfter(since, std::chrono::seconds(wait));
      answer["waited"] = true;
    }
    answer["seq"] = static_cast<Json::Int64>(latest);
    answer["changes"] = Json::Value(Json::arrayValue);
    answer["more"] = false;
    if (since >= 0 && latest > since) {
      const std::vector<ReportChange> changes = r->c.service.Store().ChangesAfter(since, 500);
      for (const ReportChange& change : changes) {
        Json::Value entry(Json::objectValue);
        entry["seq"] = static_cast<Json::Int64>(change.seq);
        entry["report"] = static_cast<Json::Int64>(change.reportId);
        entry["kind"] = change.kind;
        entry["actor"] = change.actor;
        entry["at"] = Time::FormatIsoUtc(change.at);
        answer["changes"].append(entry);
      }
      answer["more"] = changes.size() >= 500;
      if (!changes.empty()) answer["seq"] = static_cast<Json::Int64>(changes.back().seq);
    }
    return HttpResponse::Json(answer);
  });

  // Whom a study can be assigned to: the active radiologists.
  router.Add("GET", "/bridge/reports/radiologists", kReaders, [r](const RouteContext& ctx) {
    RejectUnknownParameters(ctx.request, {});
    r->c.service.Permissions().Permit(ctx.identity, ReportAction::kReadQueue, nullptr);
    Json::Value answer(Json::objectValue);
    answer["radiologists"] = Json::Value(Json::arrayValue);
    if (r->c.radiologists) {
      for (const std::string& name : r->c.radiologists()) answer["radiologists"].append(name);
    }
    return HttpResponse::Json(answer);
  });

  // The reports of a study or patient (every staff role; final ones only for
  // technicians and reception).
  router.Add("GET", "/bridge/reports", kStaff, [r](const RouteContext& ctx) {
    RejectUnknownParameters(ctx.request, {"study", "patient_id", "limit", "offset"});
    QueueFilter filter;
    filter.status = ctx.identity.Has(kReaders) ? "all" : "final";
    filter.now = r->c.service.Clock().NowSeconds();
    filter.studyUid = ctx.request.Query("study");
    filter.patientId = ctx.request.Query("patient_id");
    if (filter.studyUid.empty() && filter.patientId.empty()) {
      throw DomainError::Invalid("Missing parameter", "study or patient_id");
    }
    filter.limit = IntegerParameter(ctx.request, "limit", 50, 1, 500);
    filter.offset = IntegerParameter(ctx.request, "offset", 0, 0, 100000000);
    QueuePage page = r->c.service.Store().Queue(filter);
    Json::Value answer(Json::objectValue);
    answer["total"] = static_cast<Json::Int64>(page.total);
    answer["reports"] = Json::Value(Json::arrayValue);
    for (const Report& report : page.reports) answer["reports"].append(report.ToJson(filter.now));
    return HttpResponse::Json(answer);
  });

  router.Add("POST", "/bridge/reports", kRadiologists, [r](const RouteContext& ctx) {
    const Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    RejectUnknownFields(body, {"study", "template"});
    const std::string study = StringField(body, "study", 64);
    if (study.empty()) throw DomainError::Invalid("Missing field: study", "the StudyInstanceUID to report");
    Report report = r->c.service.Create(study, StringField(body, "template", 64), CallerOf(ctx));
    return r->Answer(report, ctx);
  });

  router.Add("GET", "/bridge/reports/{id}", kStaff, [r](const RouteContext& ctx) {
    RejectUnknownParameters(ctx.request, {"version"});
    const Report report = r->c.service.Get(ReportId(ctx));
    r->c.service.Permissions().Permit(ctx.identity, ReportAction::kRead, &report);
    return HttpResponse::Json(r->Full(report, ctx.identity, VersionParameter(ctx.request)));
  });

  router.Add("GET", "/bridge/reports/{id}/versions/{n}", kStaff, [r](const RouteContext& ctx) {
    const Report report = r->c.service.Get(ReportId(ctx));
    const std::string& n = ctx.Param("n");
    if (!Text::IsDigits(n, 1, 6)) throw DomainError::NotFound("No such version");
    const ReportVersion version = r->c.service.VersionFor(report, ctx.identity, std::stoi(n));
    Json::Value answer = version.ToJson();
    answer["canonical"] = version.canonical;
    answer["template"] = r->c.service.TemplateOf(version).ToJson();
    return HttpResponse::Json(answer);
  });

  router.Add("PUT", "/bridge/reports/{id}", kRadiologists, [r](const RouteContext& ctx) {
    const Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    return r->Answer(r->c.service.Save(ReportId(ctx), body, CallerOf(ctx)), ctx);
  });

  router.Add("POST", "/bridge/reports/{id}/claim", kRadiologists, [r](const RouteContext& ctx) {
    return r->Answer(r->c.service.Claim(ReportId(ctx), CallerOf(ctx)), ctx);
  });

  router.Add("POST", "/bridge/reports/{id}/assign", kReaders, [r](const RouteContext& ctx) {
    const Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    RejectUnknownFields(body, {"user"});
    return r->Answer(r->c.service.Assign(ReportId(ctx), StringField(body, "user", 64), CallerOf(ctx)), ctx);
  });

  router.Add("POST", "/bridge/reports/{id}/release", kReaders, [r](const RouteContext& ctx) {
    return r->Answer(r->c.service.Release(ReportId(ctx), CallerOf(ctx)), ctx);
  });

  router.Add("POST", "/bridge/reports/{id}/sign", kRadiologists, [r](const RouteContext& ctx) {
    const Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    RejectUnknownFields(body, {"password"});
    const SignOutcome outcome =
        r->c.service.Sign(ReportId(ctx), StringField(body, "password", 1024), CallerOf(ctx));
    // The carriers (PDF, SR, FHIR) are made on the delivery worker, woken
    // now; the answer does not wait for them (Orthanc's HTTP thread is not
    // held): the version says "pdf_instance" once they are stored, and the
    // page asks again until then.
    r->c.delivery.Wake();
    const Report report = r->c.service.Get(outcome.report.id);
    Json::Value answer = r->Full(report, ctx.identity, outcome.version.version);
    answer["signed"]["version"] = outcome.version.version;
    answer["signed"]["status"] = outcome.version.signedStatus;
    answer["signed"]["content_hash"] = outcome.version.contentHash;
    return HttpResponse::Json(answer);
  });

  router.Add("POST", "/bridge/reports/{id}/amend", kRadiologists, [r](const RouteContext& ctx) {
    const Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    RejectUnknownFields(body, {"reason"});
    return r->Answer(r->c.service.Amend(ReportId(ctx), StringField(body, "reason", 500), CallerOf(ctx)), ctx);
  });

  router.Add("POST", "/bridge/reports/{id}/critical", kRadiologists, [r](const RouteContext& ctx) {
    const Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    const int64_t id = ReportId(ctx);
    r->c.service.RecordCritical(id, body, CallerOf(ctx));
    return r->Answer(r->c.service.Get(id), ctx);
  });

  router.Add("GET", "/bridge/reports/{id}/pdf", kStaff, [r](const RouteContext& ctx) {
    RejectUnknownParameters(ctx.request, {"version", "download"});
    const Report report = r->c.service.Get(ReportId(ctx));
    const ReportVersion version = r->SignedVersionFor(report, ctx);
    HttpResponse response;
    if (!r->c.service.Store().Pdf(report.id, version.version, response.body)) {
      throw DomainError::NotFound("This version has no PDF");
    }
    Json::Value detail(Json::objectValue);
    detail["version"] = version.version;
    detail["format"] = "pdf";
    r->c.service.Audit("report.viewed", report, AuditActor::Of(ctx.identity, ctx.request.remoteIp), detail);
    response.contentType = "application/pdf";
    const std::string name =
        "report-" + std::to_string(report.id) + "-v" + std::to_string(version.version) + ".pdf";
    response.AddHeader("Content-Disposition",
                       std::string(ctx.request.Query("download") == "1" ? "attachment" : "inline") +
                           "; filename=\"" + name + "\"");
    return response;
  });

  router.Add("GET", "/bridge/reports/{id}/fhir", kStaff, [r](const RouteContext& ctx) {
    RejectUnknownParameters(ctx.request, {"version"});
    const Report report = r->c.service.Get(ReportId(ctx));
    const ReportVersion version = r->SignedVersionFor(report, ctx);
    Json::Value detail(Json::objectValue);
    detail["version"] = version.version;
    detail["format"] = "fhir";
    r->c.service.Audit("report.viewed", report, AuditActor::Of(ctx.identity, ctx.request.remoteIp), detail);
    HttpResponse response = HttpResponse::Json(r->c.service.Fhir(report, version));
    response.contentType = "application/fhir+json; charset=utf-8";
    return response;
  });

  // --- templates
  router.Add("GET", "/bridge/report-templates", kStaff, [r](const RouteContext& ctx) {
    RejectUnknownParameters(ctx.request, {"all"});
    const bool all = ctx.request.Query("all") == "1";
    Json::Value answer(Json::objectValue);
    answer["templates"] = Json::Value(Json::arrayValue);
    for (const ReportTemplate& t : r->c.service.Store().Templates(all))
      answer["templates"].append(t.ToJson());
    answer["field_types"] = Json::Value(Json::arrayValue);
    for (const std::string& type : TemplateFieldTypes()) answer["field_types"].append(type);
    return HttpResponse::Json(answer);
  });

  router.Add("GET", "/bridge/report-templates/{key}", kStaff, [r](const RouteContext& ctx) {
    RejectUnknownParameters(ctx.request, {"version"});
    std::optional<ReportTemplate> found =
        r->c.service.Store().FindTemplate(ctx.Param("key"), VersionParameter(ctx.request));
    if (!found) throw DomainError::NotFound("No such template", ctx.Param("key"));
    return HttpResponse::Json(found->ToJson());
  });

  router.Add("POST", "/bridge/report-templates", kAdmins, [r](const RouteContext& ctx) {
    const Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    return HttpResponse::Json(r->c.service.CreateTemplate(body, CallerOf(ctx)).ToJson());
  });

  router.Add("PUT", "/bridge/report-templates/{key}", kAdmins, [r](const RouteContext& ctx) {
    const Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    return HttpResponse::Json(r->c.service.UpdateTemplate(ctx.Param("key"), body, CallerOf(ctx)).ToJson());
  });
}

}  // namespace HospitalBridge
