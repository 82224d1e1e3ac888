#include "Share/ShareRoutes.h"

#include "Common/Errors.h"
#include "Common/HtmlTemplate.h"
#include "Common/Json.h"
#include "Common/RequestChecks.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Share/PortalRoutes.h"
#include "Share/QrCode.h"
#include "Share/SharePresentation.h"

namespace HospitalBridge {

std::string PublicBaseUrl(const SharesSettings& settings, bool ssl, const HttpRequest& request) {
  if (!settings.publicBaseUrl.empty()) return settings.publicBaseUrl;
  std::string host = request.Header("host");
  if (host.empty() || !Text::IsIdentifier(host, ".-:[]", 1, 255)) host = "localhost";
  return std::string(ssl ? "https://" : "http://") + host;
}

namespace {

AuditActor ActorOf(const RouteContext& ctx) { return AuditActor::Of(ctx.identity, ctx.request.remoteIp); }

int64_t ShareId(const RouteContext& ctx) {
  const std::string& text = ctx.Param("id");
  if (!Text::IsDigits(text, 1, 18))
    throw DomainError::NotFound("No such share", "share ids are numbers, got \"" + text + "\"");
  return std::stoll(text);
}

ShareRequest ParseShareRequest(const Json::Value& body) {
  RejectUnknownFields(body, {"study", "patient_id", "valid_days", "second_factor", "permissions", "max_uses",
                             "note", "consent_attested"});
  auto text = [&body](const char* name, size_t max) {
    const Json::Value& value = body[name];
    if (value.isNull()) return std::string();
    if (!value.isString() || value.asString().size() > max) {
      throw DomainError::Invalid(
          std::string("Invalid field: ") + name,
          std::string(name) + " must be a string of at most " + std::to_string(max) + " characters");
    }
    return value.asString();
  };
  ShareRequest request;
  request.study = text("study", 128);
  request.patientId = text("patient_id", 64);
  request.note = text("note", 500);
  if (body.isMember("second_factor")) request.secondFactor = text("second_factor", 16);
  if (body.isMember("valid_days")) {
    if (!body["valid_days"].isInt())
      throw DomainError::Invalid("Invalid field: valid_days", "valid_days must be a number of days");
    request.validDays = body["valid_days"].asInt();
    if (request.validDays < 1)
      throw DomainError::Invalid("Invalid field: valid_days", "valid_days must be at least 1");
  }
  if (!body["max_uses"].isNull()) {
    if (!body["max_uses"].isInt() || body["max_uses"].asInt() < 1) {
      throw DomainError::Invalid("Invalid field: max_uses", "max_uses must be empty or between 1 and 1000");
    }
    request.maxUses = body["max_uses"].asInt();
  }
  if (body.isMember("consent_attested")) {
    if (!body["consent_attested"].isBool()) {
      throw DomainError::Invalid("Invalid field: consent_attested", "consent_attested must be true or false");
    }
    request.consentAttested = body["consent_attested"].asBool();
  }
  if (body.isMember("permissions")) {
    const Json::Value& permissions = body["permissions"];
    if (!permissions.isArray())
      throw DomainError::Invalid("Invalid field: permissions", "permissions must be a list");
    bool view = false;
    request.canDownload = false;
    for (const Json::Value& permission : permissions) {
      const std::string name = permission.isString() ? permission.asString() : "";
      if (name == "view") {
        view = true;
      } else if (name == "download") {
        request.canDownload = true;
      } else {
        throw DomainError::Invalid("Invalid field: permissions", "permissions are \"view\" and \"download\"");
      }
    }
    if (!view) throw DomainError::Invalid("Invalid field: permissions", "a link always allows \"view\"");
  }
  return request;
}

struct StaffShares {
  ShareRoutesContext context;

  Json::Value View(const Share& share) const {
    return ShareToJson(share, context.studies, Time::NowSeconds());
  }

  Json::Value CreatedJson(const CreatedShare& created, const HttpRequest& request) {
    Json::Value answer(Json::objectValue);
    const std::string id = std::to_string(created.share.id);
    answer["share"] = View(created.share);
    answer["token"] = created.token;
    if (!created.pin.empty()) answer["pin"] = created.pin;
    answer["url"] = PublicBaseUrl(context.settings, request.secure, request) + "/s/" + created.token;
    answer["qr_png"] = "/bridge/shares/" + id + "/qr.png";
    answer["qr_svg"] = "/bridge/shares/" + id + "/qr.svg";
    answer["slip"] = "/bridge/shares/" + id + "/slip";
    return answer;
  }

  // The link of a slip not printed yet; 410 once printed.
  std::string PendingUrl(int64_t id, const HttpRequest& request, PendingSlip* slip = nullptr) {
    context.issuer.Get(id);
    context.issuer.ForgetOldSlips();  // a slip older than PendingSlipHours is gone
    std::optional<PendingSlip> pending = context.issuer.OpenPendingSlip(id);
    if (!pending) {
      throw DomainError::Gone(
          "Already printed",
          "The slip of share #" + std::to_string(id) +
              " was printed (or is too old), and its link is no longer kept. Use Reprint to make a new "
              "link and slip.");
    }
    if (slip != nullptr) *slip = *pending;
    return PublicBaseUrl(context.settings, request.secure, request) + "/s/" + pending->token;
  }

  HttpResponse Slip(const RouteContext& ctx) {
    const int64_t id = ShareId(ctx);
    Share share = context.issuer.Get(id);
    TemplateValues values = HospitalTemplateValues(context.site, context.sites);
    PendingSlip slip;
    std::string url;
    try {
      url = PendingUrl(id, ctx.request, &slip);
    } catch (const DomainError& e) {
      if (e.GetKind() != DomainError::Kind::kGone) throw;
      values["kind"] = "printed";
      values["title"] = "This slip was already printed";
      values["message"] = e.Detail();
      HttpResponse response;
      response.status = 410;
      response.contentType = "text/html; charset=utf-8";
      response.body = RenderEmbeddedTemplate("notice.html", values);
      return response;
    }
    Json::Value json = View(share);
    values["patient_name"] = Text::PersonNameForDisplay(share.patientName);
    values["patient_id"] = share.patientId;
    if (!json["studies"].empty()) {
      values["study_date"] = Time::DateToLong(json["studies"][0]["date"].asString());
      values["study_description"] = json["studies"][0]["description"].asString();
    }
    if (json["studies"].size() > 1) {
      values["more_studies"] = "and " + std::to_string(json["studies"].size() - 1) + " more " +
                               (json["studies"].size() == 2 ? "study" : "studies");
    }
    values["expires"] = Time::FormatLongDate(share.expiresAt);
    values["pin"] = slip.pin;
    values["birth_date"] = share.secondFactor == "birth-date" ? "1" : "";
    values["none"] = share.secondFactor == "none" ? "1" : "";
    values["qr_svg"] = QrCode(url).Svg();
    values["url"] = url;
    values["share_id"] = std::to_string(id);
    values["format"] = ctx.request.Query("format") == "receipt" ? "receipt" : "a6";
    HttpResponse response;
    response.contentType = "text/html; charset=utf-8";
    response.body = RenderEmbeddedTemplate("slip.html", values);
    return response;
  }
};

}  // namespace

void RegisterShareRoutes(Router& router, ShareRoutesContext context) {
  auto staff = std::make_shared<StaffShares>(StaffShares{context});
  const RoleSet roles = RoleSet::Staff();

  router.Add("POST", "/bridge/shares", roles, [staff](const RouteContext& ctx) {
    ShareRequest request = ParseShareRequest(JsonText::ParseRequestObject(ctx.request.body));
    return HttpResponse::Json(
        staff->CreatedJson(staff->context.issuer.Create(request, ActorOf(ctx)), ctx.request));
  });

  router.Add("GET", "/bridge/shares", roles, [staff](const RouteContext& ctx) {
    RejectUnknownParameters(ctx.request, {"status", "patient_id", "study", "q", "limit", "offset"});
    ShareFilter filter;
    filter.status = ctx.request.Query("status");
    if (!filter.status.empty() && filter.status != "all" &&
        LinkStateOf(filter.status) == LinkState::kInvalid) {
      throw DomainError::Invalid("Invalid parameter: status",
                                 "status is active, revoked, expired, locked, used-up or all");
    }
    filter.patientId = ctx.request.Query("patient_id");
    filter.studyOrthancId = ctx.request.Query("study");
    filter.text = ctx.request.Query("q");
    filter.limit = IntegerParameter(ctx.request, "limit", 50, 1, 500);
    filter.offset = IntegerParameter(ctx.request, "offset", 0, 0, 100000000);
    SharePage page = staff->context.issuer.Store().List(filter, Time::NowSeconds());
    Json::Value answer(Json::objectValue);
    answer["shares"] = Json::Value(Json::arrayValue);
    for (const Share& share : page.shares) answer["shares"].append(staff->View(share));
    answer["total"] = static_cast<Json::Int64>(page.total);
    return HttpResponse::Json(answer);
  });

  router.Add("GET", "/bridge/shares/pending", roles, [staff](const RouteContext&) {
    staff->context.issuer.ForgetOldSlips();
    Json::Value answer(Json::objectValue);
    answer["shares"] = Json::Value(Json::arrayValue);
    for (const Share& share : staff->context.issuer.Store().PendingSlips(Time::NowSeconds())) {
      answer["shares"].append(staff->View(share));
    }
    return HttpResponse::Json(answer);
  });

  router.Add("GET", "/bridge/shares/{id}", roles, [staff](const RouteContext& ctx) {
    return HttpResponse::Json(staff->View(staff->context.issuer.Get(ShareId(ctx))));
  });

  auto revoke = [staff](const RouteContext& ctx) {
    std::string reason;
    if (!ctx.request.body.empty()) {
      Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
      if (!body["reason"].isNull() &&
          (!body["reason"].isString() || body["reason"].asString().size() > 500)) {
        throw DomainError::Invalid("Invalid field: reason",
                                   "reason must be a string of at most 500 characters");
      }
      reason = body.get("reason", "").asString();
    }
    Share share = staff->context.issuer.Revoke(ShareId(ctx), reason, ActorOf(ctx));
    return HttpResponse::Json(staff->View(share));
  };
  router.Add("POST", "/bridge/shares/{id}/revoke", roles, revoke);
  router.Add("DELETE", "/bridge/shares/{id}", roles, revoke);

  router.Add("POST", "/bridge/shares/{id}/unlock", roles, [staff](const RouteContext& ctx) {
    return HttpResponse::Json(staff->View(staff->context.issuer.ClearLock(ShareId(ctx), ActorOf(ctx))));
  });

  router.Add("POST", "/bridge/shares/{id}/reprint", roles, [staff](const RouteContext& ctx) {
    return HttpResponse::Json(
        staff->CreatedJson(staff->context.issuer.Reprint(ShareId(ctx), ActorOf(ctx)), ctx.request));
  });

  router.Add("POST", "/bridge/shares/{id}/printed", roles, [staff](const RouteContext& ctx) {
    return HttpResponse::Json(staff->View(staff->context.issuer.MarkPrinted(ShareId(ctx), ActorOf(ctx))));
  });

  router.Add("GET", "/bridge/shares/{id}/qr.png", roles, [staff](const RouteContext& ctx) {
    const std::string url = staff->PendingUrl(ShareId(ctx), ctx.request);
    const int scale = IntegerParameter(ctx.request, "scale", 8, 1, 32);  // pixels per module
    HttpResponse response;
    response.contentType = "image/png";
    response.body = QrCode(url).Png(scale);
    return response;
  });

  router.Add("GET", "/bridge/shares/{id}/qr.svg", roles, [staff](const RouteContext& ctx) {
    HttpResponse response;
    response.contentType = "image/svg+xml";
    response.body = QrCode(staff->PendingUrl(ShareId(ctx), ctx.request)).Svg();
    return response;
  });

  router.Add("GET", "/bridge/shares/{id}/slip", roles,
             [staff](const RouteContext& ctx) { return staff->Slip(ctx); });
}

}  // namespace HospitalBridge
