#include "Index/StudyRoutes.h"

#include "Common/Errors.h"
#include "Common/RequestChecks.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const RoleSet kReaders = RoleSet::Staff();

std::string DateParameter(const HttpRequest& request, const char* name) {
  if (!request.HasQuery(name) || request.Query(name).empty()) return "";
  std::string da;
  if (!Time::ParseDateParameter(request.Query(name), da)) {
    throw DomainError::Invalid(
        std::string("Invalid parameter: ") + name,
        std::string(name) + " must be a date as YYYY-MM-DD or YYYYMMDD, got \"" + request.Query(name) + "\"");
  }
  return da;
}

}  // namespace

StudyFilter ParseStudyFilter(const HttpRequest& request, const StudyIndexSettings& settings) {
  RejectUnknownParameters(request,
                          {"patient_id", "from", "to", "modality", "q", "limit", "offset", "received_from"});
  StudyFilter filter;
  filter.patientId = request.Query("patient_id");
  filter.fromDate = DateParameter(request, "from");
  filter.toDate = DateParameter(request, "to");
  if (!filter.fromDate.empty() && !filter.toDate.empty() && filter.fromDate > filter.toDate) {
    throw DomainError::Invalid("Invalid parameter: from", "from must not be after to");
  }
  const std::string receivedFrom = DateParameter(request, "received_from");
  if (!receivedFrom.empty()) filter.receivedFrom = Time::LocalMidnight(receivedFrom);
  filter.modality = request.Query("modality");
  if (!filter.modality.empty() && !Text::IsIdentifier(filter.modality, "", 1, 16)) {
    throw DomainError::Invalid("Invalid parameter: modality",
                               "modality must be a DICOM modality code such as CT or MR");
  }
  filter.text = request.Query("q");
  if (filter.text.size() > 256)
    throw DomainError::Invalid("Invalid parameter: q", "q must be at most 256 characters");
  filter.limit = IntegerParameter(request, "limit", settings.defaultPageSize, 1, settings.maxPageSize);
  filter.offset = IntegerParameter(request, "offset", 0, 0, 100000000);
  return filter;
}

void RegisterStudyRoutes(Router& router, StudyIndexStore& store, const StudyIndexSettings& settings,
                         StudyAnnotator annotate) {
  router.Add("GET", "/bridge/studies", kReaders, [&store, settings, annotate](const RouteContext& ctx) {
    StudyFilter filter = ParseStudyFilter(ctx.request, settings);
    StudyPage page = store.Search(filter);
    Json::Value answer(Json::objectValue);
    answer["studies"] = Json::Value(Json::arrayValue);
    for (const StudyRecord& record : page.studies) answer["studies"].append(record.ToJson());
    if (annotate) annotate(answer["studies"]);
    answer["total"] = static_cast<Json::Int64>(page.total);
    answer["limit"] = filter.limit;
    answer["offset"] = filter.offset;
    return HttpResponse::Json(answer);
  });

  router.Add("GET", "/bridge/studies/{uid}", kReaders, [&store, annotate](const RouteContext& ctx) {
    std::optional<StudyRecord> record = store.FindByUid(ctx.Param("uid"));
    if (!record)
      throw DomainError::NotFound("No such study in the index", "StudyInstanceUID " + ctx.Param("uid"));
    if (!annotate) return HttpResponse::Json(record->ToJson());
    Json::Value studies(Json::arrayValue);
    studies.append(record->ToJson());
    annotate(studies);
    return HttpResponse::Json(studies[0]);
  });
}

}  // namespace HospitalBridge
