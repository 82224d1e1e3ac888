#include "Orders/OrderRoutes.h"

#include <ctime>

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/RequestChecks.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Orders/FhirServiceRequest.h"

namespace HospitalBridge {
namespace {
const RoleSet kReaders = RoleSet::Staff();
const RoleSet kWriters{Role::kAdmin, Role::kTechnician, Role::kReception};
const RoleSet kReconcilers{Role::kAdmin, Role::kTechnician};

AuditActor ActorOf(const RouteContext& ctx) { return AuditActor::Of(ctx.identity, ctx.request.remoteIp); }

int64_t OrderId(const std::string& text) {
  if (!Text::IsDigits(text, 1, 18)) {
    throw DomainError::NotFound("No such order", "order ids are numbers, got \"" + text + "\"");
  }
  return std::stoll(text);
}

std::optional<std::string> Field(const Json::Value& object, const char* name, const std::string& path) {
  const Json::Value& value = object[name];
  if (!object.isMember(name) || value.isNull()) return std::nullopt;
  if (!value.isString()) {
    throw DomainError::Invalid("Invalid field: " + path + name, path + name + " must be a string");
  }
  return value.asString();
}

std::string LocalDay(int64_t seconds) {
  const time_t now = static_cast<time_t>(seconds);
  struct tm local {};
  localtime_r(&now, &local);
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%04d%02d%02d", local.tm_year + 1900, local.tm_mon + 1,
                local.tm_mday);
  return buffer;
}

std::string Today() { return LocalDay(time(nullptr)); }

std::string DateParameter(const HttpRequest& request, const char* name) {
  const std::string text = request.Query(name);
  if (text.empty()) return "";
  if (text == "today") return Today();
  std::string da;
  if (!Time::ParseDateParameter(text, da)) {
    throw DomainError::Invalid(
        std::string("Invalid parameter: ") + name,
        std::string(name) + " must be a date as YYYY-MM-DD or \"today\", got \"" + text + "\"");
  }
  return da;
}

OrderFilter ParseFilter(const HttpRequest& request) {
  RejectUnknownParameters(
      request, {"status", "date", "from", "to", "modality", "station", "patient_id", "q", "limit", "offset"});
  OrderFilter filter;
  const std::string status = request.Query("status");
  if (status == "open") {
    filter.statuses = {OrderStatus::kScheduled, OrderStatus::kArrived, OrderStatus::kInProgress};
  } else if (!status.empty() && status != "all") {
    size_t start = 0;
    while (start <= status.size()) {
      size_t end = status.find(',', start);
      if (end == std::string::npos) end = status.size();
      const std::string one = Text::Trim(status.substr(start, end - start));
      if (!OrderStatus::IsKnown(one)) {
        throw DomainError::Invalid("Invalid parameter: status",
                                   "status must be open, all or a list of scheduled, arrived, in-progress, "
                                   "completed, reported, cancelled, discontinued; got \"" +
                                       one + "\"");
      }
      filter.statuses.push_back(one);
      start = end + 1;
    }
  }
  const std::string date = DateParameter(request, "date");
  filter.fromDate = date.empty() ? DateParameter(request, "from") : date;
  filter.toDate = date.empty() ? DateParameter(request, "to") : date;
  filter.modality = request.Query("modality");
  if (!filter.modality.empty() && !Text::IsIdentifier(filter.modality, "", 1, 16)) {
    throw DomainError::Invalid("Invalid parameter: modality", "modality must be a DICOM modality code");
  }
  filter.stationAet = request.Query("station");
  filter.patientId = request.Query("patient_id");
  filter.text = request.Query("q");
  if (filter.text.size() > 256) throw DomainError::Invalid("Invalid parameter: q", "at most 256 characters");
  filter.limit = IntegerParameter(request, "limit", 100, 1, 1000);
  filter.offset = IntegerParameter(request, "offset", 0, 0, 100000000);
  return filter;
}

Json::Value DetailJson(OrderService& service, const Order& order) {
  Json::Value json = order.ToJson();
  json["history"] = Json::Value(Json::arrayValue);
  for (const OrderHistoryEntry& entry : service.Store().History(order.id))
    json["history"].append(entry.ToJson());
  json["studies"] = Json::Value(Json::arrayValue);
  for (const OrderStudyLink& link : service.Store().LinksOfOrder(order.id))
    json["studies"].append(link.ToJson());
  json["fhir"] = "/bridge/fhir/ServiceRequest/" + std::to_string(order.id);
  return json;
}

HttpResponse CreatedAnswer(const CreatedOrder& created, int status) {
  Json::Value answer = created.order.ToJson();
  answer["warnings"] = Json::Value(Json::arrayValue);
  for (const std::string& warning : created.warnings) answer["warnings"].append(warning);
  HttpResponse response = HttpResponse::Json(answer, status);
  if (status == 201) response.AddHeader("Location", "/bridge/orders/" + std::to_string(created.order.id));
  return response;
}

HttpResponse FhirAnswer(const Json::Value& resource, int status) {
  HttpResponse response = HttpResponse::Json(resource, status);
  response.contentType = "application/fhir+json; charset=utf-8";
  return response;
}
}  // namespace

OrderDraft ParseOrderBody(const Json::Value& body) {
  RejectUnknownFields(body,
                      {"accession_number", "patient", "procedure", "modality", "station_aet", "station_name",
                       "location", "scheduled_start", "priority", "referring_physician", "reason", "notes"});
  OrderDraft draft;
  draft.accession = Field(body, "accession_number", "");
  const Json::Value& patient = body["patient"];
  if (body.isMember("patient")) {
    if (!patient.isObject())
      throw DomainError::Invalid("Invalid field: patient", "patient must be an object");
    RejectUnknownFields(patient, {"patient_id", "issuer", "name", "birth_date", "sex", "national_id"});
    draft.patientId = Field(patient, "patient_id", "patient.");
    draft.issuer = Field(patient, "issuer", "patient.");
    draft.patientName = Field(patient, "name", "patient.");
    draft.birthDate = Field(patient, "birth_date", "patient.");
    draft.sex = Field(patient, "sex", "patient.");
    draft.nationalId = Field(patient, "national_id", "patient.");
  }
  const Json::Value& procedure = body["procedure"];
  if (body.isMember("procedure")) {
    if (!procedure.isObject()) {
      throw DomainError::Invalid("Invalid field: procedure", "procedure must be an object");
    }
    RejectUnknownFields(procedure, {"code", "scheme", "description"});
    draft.procedureCode = Field(procedure, "code", "procedure.");
    draft.procedureScheme = Field(procedure, "scheme", "procedure.");
    draft.procedureDescription = Field(procedure, "description", "procedure.");
  }
  draft.modality = Field(body, "modality", "");
  draft.stationAet = Field(body, "station_aet", "");
  draft.stationName = Field(body, "station_name", "");
  draft.location = Field(body, "location", "");
  draft.scheduledStart = Field(body, "scheduled_start", "");
  draft.priority = Field(body, "priority", "");
  draft.referringPhysician = Field(body, "referring_physician", "");
  draft.reason = Field(body, "reason", "");
  draft.notes = Field(body, "notes", "");
  return draft;
}

void RegisterOrderRoutes(Router& router, OrderRoutesContext c) {
  OrderService& service = c.service;
  Reconciler& reconciler = c.reconciler;

  router.Add("GET", "/bridge/orders", kReaders, [&service](const RouteContext& ctx) {
    OrderFilter filter = ParseFilter(ctx.request);
    OrderPage page = service.Store().List(filter);
    Json::Value answer(Json::objectValue);
    answer["orders"] = Json::Value(Json::arrayValue);
    for (const Order& order : page.orders) answer["orders"].append(order.ToJson());
    answer["total"] = static_cast<Json::Int64>(page.total);
    answer["limit"] = filter.limit;
    answer["offset"] = filter.offset;
    return HttpResponse::Json(answer);
  });

  router.Add("POST", "/bridge/orders", kWriters, [&service](const RouteContext& ctx) {
    const OrderDraft draft = ParseOrderBody(JsonText::ParseRequestObject(ctx.request.body));
    return CreatedAnswer(service.Create(draft, ActorOf(ctx)), 201);
  });

  // Literal routes before /bridge/orders/{id}.
  router.Add("GET", "/bridge/orders/reconciliation", kReaders, [&service](const RouteContext& ctx) {
    RejectUnknownParameters(ctx.request, {"status", "limit", "offset"});
    const std::string status = ctx.request.Query("status");
    if (!status.empty() && status != "open" && status != "all") {
      throw DomainError::Invalid("Invalid parameter: status", "status must be open or all");
    }
    const int limit = IntegerParameter(ctx.request, "limit", 100, 1, 1000);
    const int offset = IntegerParameter(ctx.request, "offset", 0, 0, 100000000);
    int64_t total = 0;
    Json::Value answer(Json::objectValue);
    answer["studies"] = Json::Value(Json::arrayValue);
    for (const OrderMismatch& m : service.Store().Mismatches(status != "all", limit, offset, total)) {
      Json::Value entry = m.ToJson();
      entry["candidates"] = Json::Value(Json::arrayValue);
      if (m.resolvedAt == 0) {
        // The study's own date, and the days around its arrival.
        std::vector<std::string> dates = {LocalDay(m.detectedAt), LocalDay(m.detectedAt - 86400),
                                          LocalDay(m.detectedAt + 86400)};
        if (!m.studyDate.empty()) dates.push_back(m.studyDate);
        const std::string modality = m.modalities.substr(0, m.modalities.find('\\'));
        for (const Order& order : service.Store().Candidates(m.patientId, dates, modality, 20)) {
          entry["candidates"].append(order.ToJson());
        }
      }
      entry["attachments"] = Json::Value(Json::arrayValue);
      for (const OrderAttachment& a : service.Store().AttachmentsOfStudy(m.orthancId)) {
        entry["attachments"].append(a.ToJson());
      }
      answer["studies"].append(entry);
    }
    answer["total"] = static_cast<Json::Int64>(total);
    return HttpResponse::Json(answer);
  });

  router.Add("POST", "/bridge/orders/reconciliation/{study}/attach", kReconcilers,
             [&reconciler](const RouteContext& ctx) {
               const Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
               RejectUnknownFields(body, {"order_id"});
               if (!body["order_id"].isIntegral()) {
                 throw DomainError::Invalid("Invalid field: order_id",
                                            "order_id must be the number of an order");
               }
               OrderAttachment attachment =
                   reconciler.Attach(ctx.Param("study"), body["order_id"].asInt64(), ActorOf(ctx));
               return HttpResponse::Json(attachment.ToJson(), 202);
             });

  router.Add("POST", "/bridge/orders/reconciliation/{study}/dismiss", kReconcilers,
             [&reconciler](const RouteContext& ctx) {
               const Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
               RejectUnknownFields(body, {"reason"});
               reconciler.Dismiss(ctx.Param("study"),
                                  body.get("reason", "").isString() ? body["reason"].asString() : "",
                                  ActorOf(ctx));
               return HttpResponse::Json(Json::Value(Json::objectValue));
             });

  router.Add("GET", "/bridge/orders/{id}", kReaders, [&service](const RouteContext& ctx) {
    return HttpResponse::Json(DetailJson(service, service.Get(OrderId(ctx.Param("id")))));
  });

  router.Add("PUT", "/bridge/orders/{id}", kWriters, [&service](const RouteContext& ctx) {
    const OrderDraft changes = ParseOrderBody(JsonText::ParseRequestObject(ctx.request.body));
    return CreatedAnswer(service.Update(OrderId(ctx.Param("id")), changes, ActorOf(ctx)), 200);
  });

  router.Add("POST", "/bridge/orders/{id}/arrive", kWriters, [&service](const RouteContext& ctx) {
    return HttpResponse::Json(service.Arrive(OrderId(ctx.Param("id")), ActorOf(ctx)).ToJson());
  });

  router.Add("POST", "/bridge/orders/{id}/cancel", kWriters, [&service](const RouteContext& ctx) {
    const Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    RejectUnknownFields(body, {"reason"});
    const std::string reason = body.get("reason", "").isString() ? body["reason"].asString() : "";
    return HttpResponse::Json(service.Cancel(OrderId(ctx.Param("id")), reason, ActorOf(ctx)).ToJson());
  });

  router.Add("POST", "/bridge/fhir/ServiceRequest", kWriters, [&service](const RouteContext& ctx) {
    const Json::Value resource = JsonText::ParseRequestObject(ctx.request.body);
    const OrderDraft draft = DraftFromServiceRequest(resource, service.Settings().fhir);
    const CreatedOrder created = service.Create(draft, ActorOf(ctx));
    HttpResponse response = FhirAnswer(ServiceRequestOf(created.order, service.Settings().fhir), 201);
    response.AddHeader("Location", "/bridge/fhir/ServiceRequest/" + std::to_string(created.order.id));
    for (const std::string& warning : created.warnings)
      response.AddHeader("Warning", "199 - \"" + warning + "\"");
    return response;
  });

  router.Add("GET", "/bridge/fhir/ServiceRequest/{id}", kReaders, [&service](const RouteContext& ctx) {
    const Order order = service.Get(OrderId(ctx.Param("id")));
    return FhirAnswer(ServiceRequestOf(order, service.Settings().fhir), 200);
  });
}

}  // namespace HospitalBridge
