#include "Share/PortalRoutes.h"

#include "Share/ShareAudit.h"

#include <algorithm>

#include "Common/Errors.h"
#include "Common/HtmlTemplate.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Web/StaticAssets.h"

namespace HospitalBridge {

const char kShareCookie[] = "hb_share";

std::map<std::string, std::string> ParseFormBody(const std::string& body) {
  std::map<std::string, std::string> fields;
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    const std::string pair = body.substr(start, end - start);
    const size_t equals = pair.find('=');
    if (!pair.empty()) {
      fields[UrlDecode(pair.substr(0, equals), true)] =
          equals == std::string::npos ? "" : UrlDecode(pair.substr(equals + 1), true);
    }
    start = end + 1;
  }
  return fields;
}

TemplateValues HospitalTemplateValues(const SiteSettings& config, SiteStore& sites) {
  TemplateValues values;
  values["hospital_name"] = config.siteName;
  if (std::optional<Site> site = sites.Find(config.siteId)) {
    if (!site->name.empty()) values["hospital_name"] = site->name;
    values["hospital_phone"] = site->phone;
    values["hospital_email"] = site->email;
    values["hospital_address"] = site->address;
  }
  return values;
}

namespace {

struct Pages {
  PortalRoutesContext context;

  TemplateValues Hospital() const { return HospitalTemplateValues(context.site, context.sites); }

  HttpResponse Html(int status, const std::string& templateName, const TemplateValues& values) const {
    HttpResponse response;
    response.status = status;
    response.contentType = "text/html; charset=utf-8";
    response.body = RenderEmbeddedTemplate(templateName, values);
    return response;
  }

  HttpResponse Notice(int status, const std::string& kind, const std::string& title,
                      const std::string& message) const {
    TemplateValues values = Hospital();
    values["kind"] = kind;
    values["title"] = title;
    values["message"] = message;
    return Html(status, "notice.html", values);
  }

  HttpResponse Invalid() const {
    return Notice(
        404, "invalid", "This link is not valid",
        "The address may be incomplete. Scan the QR code on your slip again, or ask the hospital for "
        "a new slip.");
  }

  HttpResponse ForState(LinkState state) const {
    switch (state) {
      case LinkState::kRevoked:
        return Notice(
            410, "revoked", "This link was withdrawn",
            "The hospital has cancelled this link. If you still need your images, ask the hospital for "
            "a new slip.");
      case LinkState::kExpired:
        return Notice(
            410, "expired", "This link has expired",
            "Links to images work for a limited time only. Ask the hospital for a new slip if you still "
            "need your images.");
      case LinkState::kLocked:
        return Notice(423, "locked", "This link is locked",
                      "The PIN was entered wrongly too many times, so the link was locked to protect your "
                      "images. Ask the reception to unlock it; bring your slip.");
      case LinkState::kUsedUp:
        return Notice(410, "used-up", "This link has been used up",
                      "This link could be opened a limited number of times only. Ask the hospital for a new "
                      "slip if you still need your images.");
      default:
        return Invalid();
    }
  }

  HttpResponse Throttled(int64_t retryAfter) const {
    // Orthanc 1.10 cannot send 429 from a plugin, hence 403 + Retry-After.
    HttpResponse response =
        Notice(403, "throttled", "Too many attempts",
               "Too many attempts came from your network. Wait " + std::to_string((retryAfter + 59) / 60) +
                   " minutes, then scan the QR code again.");
    response.AddHeader("Retry-After", std::to_string(retryAfter));
    return response;
  }

  HttpResponse SessionEnded() const {
    return Notice(
        403, "session", "Your viewing time has ended",
        "For your privacy, the images close after a while. Scan the QR code on your slip again and enter "
        "the PIN.");
  }

  HttpResponse Landing(const Share& share, int status, const std::string& error, int attemptsLeft) const {
    TemplateValues values = Hospital();
    values["expires"] = Time::FormatLongDate(share.expiresAt);
    values["pin"] = share.secondFactor == "pin" ? "1" : "";
    values["birth_date"] = share.secondFactor == "birth-date" ? "1" : "";
    values["none"] = share.secondFactor == "none" ? "1" : "";
    values["error"] = error;
    values["attempts_left"] = attemptsLeft > 0 ? std::to_string(attemptsLeft) : "";
    return Html(status, "landing.html", values);
  }

  std::optional<Share> Session(const RouteContext& ctx) const {
    return context.phone.SessionShare(ctx.request.Cookie(kShareCookie));
  }

  Share RequireSession(const RouteContext& ctx, int64_t* sessionExpiresAt = nullptr) const {
    std::optional<Share> share =
        context.phone.SessionShare(ctx.request.Cookie(kShareCookie), sessionExpiresAt);
    if (!share) {
      throw DomainError::Forbidden("Your viewing time has ended", "scan the QR code on your slip again");
    }
    return *share;
  }

  void Audit(const Share& share, const RouteContext& ctx, const std::string& action,
             const std::string& studyUid, const std::string& outcome, Json::Value detail) const {
    AuditShare(context.audit, action, share, AuditActor::PatientLink(share.id, ctx.request.remoteIp), outcome,
               std::move(detail), studyUid);
  }

  // The share's study with this Orthanc ID, or a 403 (audited): a session
  // reaches nothing else (StudyAccessPolicy::LinkMaySee).
  const ShareStudyRef& RequireStudy(const Share& share, const RouteContext& ctx,
                                    const std::string& studyId) const {
    std::vector<std::string> linkStudies;
    for (const ShareStudyRef& study : share.studies) linkStudies.push_back(study.orthancId);
    if (StudyAccessPolicy::LinkMaySee(linkStudies, studyId)) {
      for (const ShareStudyRef& study : share.studies) {
        if (study.orthancId == studyId) return study;
      }
    }
    Json::Value detail(Json::objectValue);
    detail["path"] = ctx.request.path;
    Audit(share, ctx, "share.denied", "", "denied", detail);
    throw DomainError::Forbidden("Not part of this share", "this link opens other images only");
  }

  // The page to answer instead when the address must wait or the link in
  // the URL is not usable; otherwise nothing, and `share` is the link. The
  // address's ticket is taken before the look-up and settled by the caller
  // (or here, when the link is refused).
  std::optional<HttpResponse> RefuseLink(const RouteContext& ctx, std::optional<Share>& share,
                                         IAttemptLimiter::Ticket& attempt) const {
    attempt = context.phone.ReserveAddressAttempt(ctx.request.remoteIp);
    if (!attempt.Granted()) return Throttled(attempt.RetryAfterSeconds());
    LinkState state = context.phone.LookUp(ctx.Param("token"), share);
    if (state == LinkState::kInvalid) {
      attempt.Failed();
      return Invalid();
    }
    attempt.Succeeded();  // a real link, even if no longer usable: not a guess
    if (state != LinkState::kActive) return ForState(state);
    return std::nullopt;
  }

  HttpResponse Unlock(const RouteContext& ctx) const {
    const std::string& ip = ctx.request.remoteIp;
    std::optional<Share> share;
    IAttemptLimiter::Ticket lookUp;
    if (std::optional<HttpResponse> refused = RefuseLink(ctx, share, lookUp)) return *refused;
    const std::map<std::string, std::string> form = ParseFormBody(ctx.request.body);
    auto field = [&form](const char* name) {
      auto found = form.find(name);
      return found == form.end() ? std::string() : found->second;
    };
    UnlockOutcome outcome = context.phone.Unlock(*share, field("pin"), field("birth_date"), ip);
    switch (outcome.kind) {
      case UnlockOutcome::Kind::kOpened: {
        HttpResponse response = HttpResponse::SeeOther("/s/app");
        const int64_t seconds = std::max<int64_t>(1, outcome.sessionExpiresAt - Time::NowSeconds());
        response.AddHeader("Set-Cookie", std::string(kShareCookie) + "=" + outcome.sessionToken +
                                             "; Path=/s; Max-Age=" + std::to_string(seconds) +
                                             "; HttpOnly; SameSite=Strict" +
                                             (ctx.request.secure ? "; Secure" : ""));
        return response;
      }
      case UnlockOutcome::Kind::kLocked:
        return ForState(LinkState::kLocked);
      case UnlockOutcome::Kind::kThrottled:
        return Throttled(outcome.retryAfterSeconds);
      case UnlockOutcome::Kind::kUsedUp:
        return ForState(LinkState::kUsedUp);
      default:
        return Landing(*share, 403, outcome.message, outcome.attemptsLeft);
    }
  }
};

std::string DownloadName(const Json::Value& summary, const std::string& kind) {
  std::string date = summary.get("date", "").asString();
  std::string modality =
      summary["modalities"].empty() ? std::string("images") : summary["modalities"][0].asString();
  return SafeFileName(date + " " + modality + " " + kind, 60) + ".zip";
}

}  // namespace

void RegisterPortalRoutes(Router& router, PortalRoutesContext context) {
  auto pages = std::make_shared<Pages>(Pages{context});

  router.AddPublic("GET", "/s", [pages](const RouteContext&) { return pages->Invalid(); });

  router.AddPublic("GET", "/s/app", [pages](const RouteContext& ctx) {
    if (!pages->Session(ctx)) return pages->SessionEnded();
    return ServeWebAsset("share/app.html");
  });

  // WebAssets/share/, and the modules the portal shares with the staff pages
  // (WebAssets/lib/) under /s/assets/lib/: a phone never needs a /bridge/ path.
  router.AddPublic("GET", "/s/assets/{file*}", [](const RouteContext& ctx) {
    const std::string file = ctx.Param("file");
    return ServeWebAsset(file.rfind("lib/", 0) == 0 ? file : "share/" + file);
  });

  router.AddPublic("GET", "/s/api/share", [pages](const RouteContext& ctx) {
    int64_t sessionExpires = 0;
    Share share = pages->RequireSession(ctx, &sessionExpires);
    Json::Value answer(Json::objectValue);
    TemplateValues hospital = pages->Hospital();
    answer["hospital"]["name"] = hospital["hospital_name"];
    answer["hospital"]["phone"] = hospital["hospital_phone"];
    answer["hospital"]["email"] = hospital["hospital_email"];
    answer["hospital"]["address"] = hospital["hospital_address"];
    answer["patient"]["name"] = Text::PersonNameForDisplay(share.patientName);
    answer["expires_at"] = Time::FormatIsoUtc(share.expiresAt);
    answer["permissions"]["view"] = true;
    answer["permissions"]["download"] = share.canDownload;
    answer["studies"] = Json::Value(Json::arrayValue);
    for (const ShareStudyRef& ref : share.studies) {
      Json::Value summary =
          pages->context.media.StudySummary(ref.orthancId, hospital["hospital_name"], share.canDownload);
      if (summary.isNull()) continue;
      if (IPortalReports* reports = pages->context.reports.Get()) {
        Json::Value report = reports->ReportOf(ref.orthancId);
        if (!report.isNull()) {
          report["pdf"] = "/s/api/studies/" + ref.orthancId + "/report.pdf";
          summary["report"] = report;
        }
      }
      answer["studies"].append(summary);
    }
    answer["session_expires_at"] = Time::FormatIsoUtc(sessionExpires);
    pages->Audit(share, ctx, "share.viewed", share.studies.size() == 1 ? share.studies[0].studyUid : "",
                 "success", Json::Value(Json::objectValue));
    return HttpResponse::Json(answer);
  });

  router.AddPublic("GET", "/s/api/series/{id}/instances", [pages](const RouteContext& ctx) {
    Share share = pages->RequireSession(ctx);
    pages->RequireStudy(share, ctx, pages->context.access.StudyOf("series", ctx.Param("id")));
    return HttpResponse::Json(pages->context.media.SeriesInstances(ctx.Param("id")));
  });

  router.AddPublic("GET", "/s/api/instances/{id}/image", [pages](const RouteContext& ctx) {
    Share share = pages->RequireSession(ctx);
    pages->RequireStudy(share, ctx, pages->context.access.StudyOf("instances", ctx.Param("id")));
    const std::string size = ctx.request.Query("size") == "thumb" ? "thumb" : "full";
    const std::string preset = ctx.request.Query("preset");
    HttpResponse response;
    if (!pages->context.media.RenderJpeg(ctx.Param("id"), size, preset.empty() ? "default" : preset,
                                         response.body)) {
      throw DomainError::NotFound("No such image");
    }
    response.contentType = "image/jpeg";
    return response;
  });

  // The DICOM files "like a CD" (with a DICOMDIR): Orthanc's own /media,
  // which it streams, opened for this phone by a single-use ticket.
  router.AddPublic("GET", "/s/api/studies/{id}/dicom.zip", [pages](const RouteContext& ctx) {
    Share share = pages->RequireSession(ctx);
    const ShareStudyRef& study = pages->RequireStudy(share, ctx, ctx.Param("id"));
    if (!share.canDownload) throw DomainError::Forbidden("Downloads are not allowed for this link");
    const std::string ticket = pages->context.phone.IssueDownloadTicket(share, study, ctx.request.remoteIp);
    return HttpResponse::SeeOther("/studies/" + study.orthancId + "/media?ticket=" + ticket);
  });

  // Plain JPEGs, rendered and sent one by one as the archive is written.
  router.AddPublic("GET", "/s/api/studies/{id}/images.zip", [pages](const RouteContext& ctx) {
    Share share = pages->RequireSession(ctx);
    const ShareStudyRef& study = pages->RequireStudy(share, ctx, ctx.Param("id"));
    if (!share.canDownload) throw DomainError::Forbidden("Downloads are not allowed for this link");
    Json::Value summary = pages->context.media.StudySummary(study.orthancId, "", false);
    if (summary.isNull()) throw DomainError::NotFound("No such study");
    Json::Value detail(Json::objectValue);
    detail["format"] = "jpeg";
    detail["streamed"] = true;
    pages->Audit(share, ctx, "share.downloaded", study.studyUid, "success", detail);
    HttpResponse response;
    response.contentType = "application/zip";
    response.AddHeader("Content-Disposition",
                       "attachment; filename=\"" + DownloadName(summary, "images") + "\"");
    const std::string studyId = study.orthancId;
    response.stream = [pages, studyId](const HttpResponse::PieceWriter& write) {
      pages->context.media.JpegZip(studyId, write);
    };
    return response;
  });

  // The study's final report as a PDF, once released to the patient.
  router.AddPublic("GET", "/s/api/studies/{id}/report.pdf", [pages](const RouteContext& ctx) {
    Share share = pages->RequireSession(ctx);
    const ShareStudyRef& study = pages->RequireStudy(share, ctx, ctx.Param("id"));
    IPortalReports* reports = pages->context.reports.Get();
    HttpResponse response;
    if (reports == nullptr || !reports->PdfOf(study.orthancId, response.body)) {
      throw DomainError::NotFound("No report to show yet");
    }
    Json::Value detail(Json::objectValue);
    detail["format"] = "pdf";
    pages->Audit(share, ctx, "report.viewed", study.studyUid, "success", detail);
    response.contentType = "application/pdf";
    response.AddHeader("Content-Disposition", "inline; filename=\"report.pdf\"");
    return response;
  });

  router.AddPublic("POST", "/s/api/logout", [pages](const RouteContext& ctx) {
    pages->context.phone.EndSession(ctx.request.Cookie(kShareCookie));
    Json::Value answer(Json::objectValue);
    answer["ok"] = true;
    HttpResponse response = HttpResponse::Json(answer);
    response.AddHeader("Set-Cookie", std::string(kShareCookie) +
                                         "=; Path=/s; Max-Age=0; HttpOnly; SameSite=Strict" +
                                         (ctx.request.secure ? "; Secure" : ""));
    return response;
  });

  router.AddPublic("GET", "/s/{token}", [pages](const RouteContext& ctx) {
    std::optional<Share> share;
    IAttemptLimiter::Ticket attempt;
    if (std::optional<HttpResponse> refused = pages->RefuseLink(ctx, share, attempt)) return *refused;
    return pages->Landing(*share, 200, "", 0);
  });

  router.AddPublic("POST", "/s/{token}", [pages](const RouteContext& ctx) { return pages->Unlock(ctx); });

  // Anything else under /s/ (a link cut or split by hand, a guess) gets the
  // same page as an unknown token, and counts against the address.
  auto invalid = [pages](const RouteContext& ctx) {
    IAttemptLimiter::Ticket attempt = pages->context.phone.ReserveAddressAttempt(ctx.request.remoteIp);
    if (!attempt.Granted()) return pages->Throttled(attempt.RetryAfterSeconds());
    attempt.Failed();
    return pages->Invalid();
  };
  router.AddPublic("GET", "/s/{rest*}", invalid);
  router.AddPublic("POST", "/s/{rest*}", invalid);
}

}  // namespace HospitalBridge
