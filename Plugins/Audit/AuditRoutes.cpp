#include "Audit/AuditRoutes.h"

#include "Common/AuditVocabulary.h"

#include <ctime>

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/RequestChecks.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const RoleSet kAdmin = {Role::kAdmin};
const RoleSet kReporters = {Role::kAdmin, Role::kReception};

AuditFilter ParseFilter(const HttpRequest& request, int maxLimit) {
  RejectUnknownParameters(
      request, {"patient_id", "study_uid", "actor", "action", "from", "to", "limit", "offset", "format"});
  AuditFilter filter;
  filter.patientId = request.Query("patient_id");
  filter.studyUid = request.Query("study_uid");
  filter.actor = request.Query("actor");
  filter.action = request.Query("action");
  for (const char* name : {"from", "to"}) {
    if (request.Query(name).empty()) continue;
    int64_t& target = std::string(name) == "from" ? filter.fromMs : filter.toMs;
    if (!ParseAuditTime(request.Query(name), std::string(name) == "to", target)) {
      throw DomainError::Invalid(std::string("Invalid parameter: ") + name,
                                 std::string(name) + " must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got \"" +
                                     request.Query(name) + "\"");
    }
  }
  filter.limit = IntegerParameter(request, "limit", 100, 1, maxLimit);
  filter.offset = IntegerParameter(request, "offset", 0, 0, 100000000);
  return filter;
}

Json::Value Events(const std::vector<AuditEvent>& events) {
  Json::Value list(Json::arrayValue);
  for (const AuditEvent& event : events) list.append(event.ToJson());
  return list;
}

// In plain words, for the patient's report.
const char* PlainWords(const std::string& action) {
  if (action == "study.viewed") return "viewed the images";
  if (action == "study.downloaded") return "downloaded the images";
  if (action == "study.exported") return "sent the images elsewhere";
  if (action == "study.modified") return "corrected the images' data";
  if (action == "study.deleted") return "deleted the images";
  if (action == "federation.query.answered") return "another hospital asked which images exist";
  if (action == "federation.retrieve") return "copied the images from another hospital";
  if (action == "dicom.stored") return "the images were received";
  if (action.rfind("share.", 0) == 0) return "a patient link was used or changed";
  if (action.rfind("consent.", 0) == 0) return "a consent was recorded";
  return "other";
}
}  // namespace

bool ParseAuditTime(const std::string& text, bool upperBound, int64_t& milliseconds) {
  std::string da;
  if (text.size() == 10 && Time::ParseDateParameter(text, da)) {
    int64_t day = Time::ParseOrthancTimestamp(da + "T000000") * 1000;
    milliseconds = upperBound ? day + 86400LL * 1000 : day;
    return day > 0;
  }
  // YYYY-MM-DDTHH:MM:SS[.fff][Z]
  if (text.size() < 19 || text[10] != 'T' || text[13] != ':' || text[16] != ':') return false;
  if (!Time::ParseDateParameter(text.substr(0, 10), da)) return false;
  std::string clock = text.substr(11, 2) + text.substr(14, 2) + text.substr(17, 2);
  if (!Text::IsDigits(clock, 6, 6) || std::stoi(clock.substr(0, 2)) > 23 ||
      std::stoi(clock.substr(2, 2)) > 59 || std::stoi(clock.substr(4, 2)) > 59) {
    return false;
  }
  std::string rest = text.substr(19);
  int64_t fraction = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t digits = 1;
    while (digits < rest.size() && isdigit(static_cast<unsigned char>(rest[digits]))) digits++;
    std::string ms = (rest.substr(1, digits - 1) + "000").substr(0, 3);
    if (digits == 1) return false;
    fraction = std::stoi(ms);
    rest = rest.substr(digits);
  }
  if (!rest.empty() && rest != "Z") return false;
  int64_t seconds = Time::ParseOrthancTimestamp(da + "T" + clock);
  if (seconds <= 0) return false;
  milliseconds = seconds * 1000 + fraction;
  return true;
}

void RegisterAuditRoutes(Router& router, AuditRoutesContext c) {
  // The one vocabulary, for the pages (Common/AuditVocabulary.h).
  router.Add("GET", "/bridge/audit/actions", RoleSet::Staff(), [](const RouteContext&) {
    Json::Value answer(Json::objectValue);
    answer["actions"] = Json::Value(Json::arrayValue);
    for (const AuditAction& action : AuditActions()) {
      Json::Value item(Json::objectValue);
      item["action"] = action.name;
      item["group"] = action.group;
      item["words"] = action.words;
      item["plain_words"] = action.plainWords;
      item["dicom_event"] = std::string(action.eventCode) + " " + action.eventName;
      item["dicom_action"] = action.actionCode;
      answer["actions"].append(item);
    }
    return HttpResponse::Json(answer);
  });
  router.Add("GET", "/bridge/audit", kAdmin, [c](const RouteContext& ctx) {
    AuditFilter filter = ParseFilter(ctx.request, 1000);
    if (ctx.request.HasQuery("format"))
      throw DomainError::Invalid("Unknown parameter: format", "use /bridge/audit/export");
    c.flush();
    AuditPage page = c.store.Query(filter);
    Json::Value answer(Json::objectValue);
    answer["events"] = Events(page.events);
    answer["total"] = static_cast<Json::Int64>(page.total);
    answer["limit"] = filter.limit;
    answer["offset"] = filter.offset;
    return HttpResponse::Json(answer);
  });

  router.Add("GET", "/bridge/audit/verify", kAdmin, [c](const RouteContext&) {
    c.flush();
    ChainVerdict verdict = c.store.Verify();
    Json::Value answer(Json::objectValue);
    answer["ok"] = verdict.ok;
    answer["events_checked"] = static_cast<Json::Int64>(verdict.checked);
    if (verdict.ok) {
      answer["first_broken"] = Json::nullValue;
    } else {
      answer["first_broken"]["id"] = static_cast<Json::Int64>(verdict.brokenId);
      answer["first_broken"]["reason"] = verdict.reason;
    }
    if (verdict.checkpointId > 0) {
      answer["checkpoint"]["last_pruned_id"] = static_cast<Json::Int64>(verdict.checkpointId);
      answer["checkpoint"]["hash"] = verdict.checkpointHash;
    } else {
      answer["checkpoint"] = Json::nullValue;
    }
    return HttpResponse::Json(answer);
  });

  router.Add("GET", "/bridge/audit/export", kAdmin, [c](const RouteContext& ctx) {
    AuditFilter filter = ParseFilter(ctx.request, 100000);
    if (!ctx.request.HasQuery("limit")) filter.limit = 10000;
    const std::string format = ctx.request.Query("format");
    if (format != "fhir" && format != "dicom") {
      throw DomainError::Invalid("Invalid parameter: format", "format must be fhir or dicom");
    }
    c.flush();
    AuditPage page = c.store.Query(filter);
    HttpResponse response;
    if (format == "fhir") {
      response = HttpResponse::Json(ToFhirBundle(page.events, c.source));
      response.contentType = "application/fhir+json; charset=utf-8";
    } else {
      response.body = ToDicomAuditMessages(page.events, c.source);
      response.contentType = "application/xml; charset=utf-8";
    }
    response.AddHeader("Content-Disposition", std::string("attachment; filename=\"audit-") + c.source.siteId +
                                                  (format == "fhir" ? ".json\"" : ".xml\""));
    return response;
  });

  router.Add("GET", "/bridge/patients/{id}/access-report", kReporters, [c](const RouteContext& ctx) {
    Json::Value patient = c.patientSummary(ctx.Param("id"));
    if (patient.isNull()) throw DomainError::NotFound("No such patient", ctx.Param("id"));
    c.flush();
    AuditFilter filter;
    filter.patientId = ctx.Param("id");
    filter.limit = 10000;
    Json::Value events(Json::arrayValue);
    for (const AuditEvent& event : c.store.Query(filter).events) {
      if (event.action == "consent.recorded" || event.action == "dicom.stored") continue;
      Json::Value item = event.ToJson();
      item["what"] = PlainWords(event.action);
      item.removeMember("hash");
      events.append(item);
    }
    Json::Value answer(Json::objectValue);
    answer["patient"] = patient;
    answer["site"]["id"] = c.source.siteId;
    answer["site"]["name"] = c.source.siteName;
    answer["generated_at"] = Time::FormatIsoUtc(Time::NowSeconds());
    answer["events"] = events;
    return HttpResponse::Json(answer);
  });
}

}  // namespace HospitalBridge
