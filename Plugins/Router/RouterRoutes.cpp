#include "Router/RouterRoutes.h"

#include <ctime>

#include "Common/AuditVocabulary.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Text.h"

namespace HospitalBridge {
namespace {
const RoleSet kViewers = RoleSet::Staff();
const RoleSet kOperators = {Role::kAdmin, Role::kTechnician};

int64_t IdParameter(const RouteContext& ctx) {
  const std::string& text = ctx.Param("id");
  if (!Text::IsDigits(text, 1, 18)) throw DomainError::Invalid("Invalid delivery id", "digits expected");
  return std::stoll(text);
}

std::string StudyUidParameter(const RouteContext& ctx) {
  const std::string& uid = ctx.Param("uid");
  if (!Text::IsIdentifier(uid, ".", 1, 64))
    throw DomainError::Invalid("Invalid study UID", "digits and dots");
  return uid;
}

int64_t StartOfToday(int64_t now) {
  const time_t t = static_cast<time_t>(now);
  struct tm local {};
  localtime_r(&t, &local);
  local.tm_hour = 0;
  local.tm_min = 0;
  local.tm_sec = 0;
  return static_cast<int64_t>(mktime(&local));
}

void Record(RouterRoutesContext& c, const RouteContext& ctx, const std::string& what,
            const Json::Value& detail, const std::string& studyUid) {
  AuditEvent event = MakeAuditEvent("router.changed", AuditActor::Of(ctx.identity, ctx.request.remoteIp));
  event.studyUid = studyUid;
  event.detail = detail;
  event.detail["change"] = what;
  c.audit.Record(event);
}
}  // namespace

void RegisterRouterRoutes(Router& router, RouterRoutesContext c) {
  router.Add("GET", "/bridge/router/summary", kViewers, [c](const RouteContext&) mutable {
    const int64_t now = c.clock.NowSeconds();
    const Json::Value counts = c.service.Queue().Summary(StartOfToday(now));
    Json::Value answer(Json::objectValue);
    answer["destinations"] = Json::Value(Json::arrayValue);
    for (Json::Value destination : c.service.DestinationsJson()) {
      const Json::Value& mine = counts[destination["name"].asString()];
      for (const char* state :
           {"queued", "sending", "waiting", "retrying", "failed", "delivered", "delivered_today", "not_sent"})
        destination[state] = mine.get(state, 0);
      destination["oldest_pending_seconds"] =
          mine.isMember("oldest_pending_since")
              ? Json::Value(static_cast<Json::Int64>(now - mine["oldest_pending_since"].asInt64()))
              : Json::Value();
      answer["destinations"].append(destination);
    }
    answer["backlog"] = c.service.Queue().Backlog();
    return HttpResponse::Json(answer);
  });

  router.Add("GET", "/bridge/router/deliveries", kViewers, [c](const RouteContext& ctx) mutable {
    DeliveryFilter filter;
    filter.state = ctx.request.Query("state");
    if (!filter.state.empty() && filter.state != "queued" && filter.state != "sending" &&
        filter.state != "waiting" && filter.state != "retrying" && filter.state != "failed" &&
        filter.state != "delivered") {
      throw DomainError::Invalid("Invalid parameter: state",
                                 "one of queued, sending, waiting, retrying, failed, delivered");
    }
    filter.destination = ctx.request.Query("destination");
    filter.studyUid = ctx.request.Query("study_uid");
    filter.text = Text::Trim(ctx.request.Query("q"));
    if (filter.text.size() > 64) throw DomainError::Invalid("Invalid parameter: q", "at most 64 characters");
    const std::string limit = ctx.request.Query("limit");
    if (!limit.empty()) {
      if (!Text::IsDigits(limit, 1, 4) || std::stoi(limit) < 1 || std::stoi(limit) > 1000)
        throw DomainError::Invalid("Invalid parameter: limit", "1 to 1000");
      filter.limit = std::stoi(limit);
    }
    const std::string before = ctx.request.Query("before");
    if (!before.empty()) {
      if (!Text::IsDigits(before, 1, 18))
        throw DomainError::Invalid("Invalid parameter: before", "a delivery id");
      filter.beforeId = std::stoll(before);
    }
    Json::Value answer(Json::objectValue);
    answer["deliveries"] = Json::Value(Json::arrayValue);
    for (const Delivery& d : c.service.Queue().List(filter)) answer["deliveries"].append(d.ToJson());
    return HttpResponse::Json(answer);
  });

  // Studies a rule matched but did not send (the patient's consent), newest
  // first: what staff may have to follow up.
  router.Add("GET", "/bridge/router/not-sent", kViewers, [c](const RouteContext& ctx) mutable {
    const std::string limit = ctx.request.Query("limit");
    int count = 100;
    if (!limit.empty()) {
      if (!Text::IsDigits(limit, 1, 4) || std::stoi(limit) < 1 || std::stoi(limit) > 1000)
        throw DomainError::Invalid("Invalid parameter: limit", "1 to 1000");
      count = std::stoi(limit);
    }
    Json::Value answer(Json::objectValue);
    answer["not_sent"] = c.service.Queue().Decisions("", count);
    return HttpResponse::Json(answer);
  });

  router.Add("GET", "/bridge/router/deliveries/{id}", kViewers, [c](const RouteContext& ctx) mutable {
    std::optional<Delivery> d = c.service.Queue().Find(IdParameter(ctx));
    if (!d) throw DomainError::NotFound("No such delivery");
    return HttpResponse::Json(d->ToJson());
  });

  // The proof for one study: every delivery, and the rules that matched
  // but did not send it (consent).
  router.Add("GET", "/bridge/router/studies/{uid}", kViewers, [c](const RouteContext& ctx) mutable {
    const std::string uid = StudyUidParameter(ctx);
    Json::Value answer(Json::objectValue);
    answer["study_uid"] = uid;
    answer["deliveries"] = Json::Value(Json::arrayValue);
    for (const Delivery& d : c.service.Queue().ForStudy(uid)) answer["deliveries"].append(d.ToJson());
    answer["not_sent"] = c.service.Queue().Decisions(uid, 100);
    return HttpResponse::Json(answer);
  });

  router.Add("POST", "/bridge/router/deliveries/{id}/resend", kOperators,
             [c](const RouteContext& ctx) mutable {
               const int64_t id = IdParameter(ctx);
               std::optional<Delivery> d = c.service.Queue().Find(id);
               if (!d) throw DomainError::NotFound("No such delivery");
               if (!c.service.Queue().Resend(id))
                 throw DomainError::Conflict("The delivery cannot be resent now", "it is " + d->state);
               Json::Value detail(Json::objectValue);
               detail["delivery"] = static_cast<Json::Int64>(id);
               detail["destination"] = d->destination;
               Record(c, ctx, "resend", detail, d->studyUid);
               c.wake();
               return HttpResponse::Json(c.service.Queue().Find(id)->ToJson());
             });

  router.Add("POST", "/bridge/router/deliveries/{id}/cancel", kOperators,
             [c](const RouteContext& ctx) mutable {
               const int64_t id = IdParameter(ctx);
               std::optional<Delivery> d = c.service.Queue().Find(id);
               if (!d) throw DomainError::NotFound("No such delivery");
               if (!c.service.Queue().Cancel(id, ctx.identity.username))
                 throw DomainError::Conflict("The delivery cannot be cancelled now", "it is " + d->state);
               Json::Value detail(Json::objectValue);
               detail["delivery"] = static_cast<Json::Int64>(id);
               detail["destination"] = d->destination;
               Record(c, ctx, "cancel", detail, d->studyUid);
               return HttpResponse::Json(c.service.Queue().Find(id)->ToJson());
             });

  router.Add("POST", "/bridge/router/resend-failed", kOperators, [c](const RouteContext& ctx) mutable {
    const Json::Value body = ctx.request.body.empty() ? Json::Value(Json::objectValue)
                                                      : JsonText::ParseRequestObject(ctx.request.body);
    const std::string destination = body.get("destination", "").asString();
    if (!destination.empty() && c.service.Settings().Destination(destination) == nullptr)
      throw DomainError::NotFound("No such destination", destination);
    const int64_t count = c.service.Queue().ResendFailed(destination);
    Json::Value detail(Json::objectValue);
    detail["destination"] = destination;
    detail["deliveries"] = static_cast<Json::Int64>(count);
    Record(c, ctx, "resend failed", detail, "");
    c.wake();
    Json::Value answer(Json::objectValue);
    answer["resent"] = static_cast<Json::Int64>(count);
    return HttpResponse::Json(answer);
  });

  router.Add("POST", "/bridge/router/studies/{uid}/route", kOperators, [c](const RouteContext& ctx) mutable {
    const std::string uid = StudyUidParameter(ctx);
    const int queued = c.routeStudy(uid);
    Json::Value detail(Json::objectValue);
    detail["deliveries"] = queued;
    Record(c, ctx, "route again", detail, uid);
    Json::Value answer(Json::objectValue);
    answer["queued"] = queued;
    return HttpResponse::Json(answer);
  });
}

}  // namespace HospitalBridge
