#include "Viewer/ViewerModule.h"

#include <cctype>

#include "Common/EmbeddedResources.h"
#include "Common/Errors.h"
#include "Common/HtmlTemplate.h"
#include "Common/Json.h"
#include "Common/Log.h"

namespace HospitalBridge {
namespace {
// OHIF needs its workers (some from blob: URLs), WebAssembly (codecs) and
// inline styles (its UI library sets them); nothing from another origin.
const char kViewerPolicy[] =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; frame-ancestors 'self'; "
    "form-action 'self'; base-uri 'self'";

bool IsUid(const std::string& text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return true;
}

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

std::string UrlEncode(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_' || c == '~' || c == ',') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string DicomDate(const std::string& da) {
  return da.size() == 8 ? da.substr(0, 4) + "-" + da.substr(4, 2) + "-" + da.substr(6, 2) : da;
}
}  // namespace

RoleSet ViewerModule::Roles(const ViewerSettings& settings) {
  if (settings.allowReception) return RoleSet::Staff();
  return RoleSet{Role::kAdmin, Role::kRadiologist, Role::kTechnician};
}

void ViewerModule::AddViewerHeaders(HttpResponse& response) {
  response.AddHeader("Content-Security-Policy", kViewerPolicy);
  response.AddHeader("X-Frame-Options", "SAMEORIGIN");
  // Cross-origin isolation: SharedArrayBuffer for OHIF's volume viewports (MPR).
  response.AddHeader("Cross-Origin-Opener-Policy", "same-origin");
  response.AddHeader("Cross-Origin-Embedder-Policy", "require-corp");
  response.AddHeader("Cross-Origin-Resource-Policy", "same-origin");
}

ViewerModule::ViewerModule(const ModuleContext& context, const ViewerSettings& settings,
                           StudyIndexStore* studies)
    : context_(context), settings_(settings), studies_(studies), files_(settings.directory, kMount) {
  if (!settings_.enabled) return;
  const RoleSet roles = Roles(settings_);
  Router& router = context_.router;
  router.Add("GET", "/bridge/viewer/status", RoleSet::Staff(), [this](const RouteContext& ctx) {
    Json::Value answer;
    answer["installed"] = files_.Installed();
    answer["may_open"] = Roles(settings_).Contains(ctx.identity.role) && files_.Installed();
    answer["version"] = files_.Version();
    answer["url"] = kMount;
    return HttpResponse::Json(answer);
  });
  router.Add("GET", "/bridge/viewer/open", roles, [this](const RouteContext& ctx) { return Open(ctx); });
  router.Add("GET", "/bridge/viewer", roles, [this](const RouteContext& ctx) { return Serve(ctx); });
  router.Add("GET", "/bridge/viewer/{file*}", roles, [this](const RouteContext& ctx) { return Serve(ctx); });
  if (!files_.Installed()) {
    Log::Warning("the viewer's files are not in " + settings_.directory +
                 ": /bridge/viewer/ says how to install them (HospitalBridge.Viewer.Directory)");
  }
}

void ViewerModule::Describe(Json::Value& section) {
  section["enabled"] = settings_.enabled;
  if (!settings_.enabled) return;
  section["installed"] = files_.Installed();
  section["directory"] = files_.Directory();
  section["package"] = files_.PackageName();
  section["version"] = files_.Version();
  section["url"] = kMount;
  section["allow_reception"] = settings_.allowReception;
}

HttpResponse ViewerModule::Page(int status, const std::string& kind, const std::string& title,
                                const std::string& message, const std::string& choices) const {
  HttpResponse page;
  page.status = status;
  page.contentType = "text/html; charset=utf-8";
  page.body =
      RenderEmbeddedTemplate("viewer-message.html", {{"kind", kind},
                                                     {"title", title},
                                                     {"message", message},
                                                     {"choices", choices},
                                                     {"not_installed", kind == "not-installed" ? "1" : ""},
                                                     {"directory", files_.Directory()},
                                                     {"site_name", context_.site.siteName}});
  return page;
}

bool ViewerModule::Holds(const std::string& studyUid) {
  if (studies_ != nullptr && studies_->FindByUid(studyUid)) return true;
  // Not indexed (yet, or the index is off): Orthanc knows.
  std::string answer;
  if (!context_.orthanc.Post("/tools/lookup", studyUid, answer)) return false;
  Json::Value found;
  if (!JsonText::Parse(answer, found) || !found.isArray()) return false;
  for (const Json::Value& item : found) {
    if (item.get("Type", "").asString() == "Study") return true;
  }
  return false;
}

std::vector<StudyRecord> ViewerModule::ByAccession(const std::string& accession) {
  if (studies_ != nullptr) return studies_->FindByAccession(accession);
  Json::Value query;
  query["Level"] = "Study";
  query["Expand"] = true;
  query["Query"]["AccessionNumber"] = accession;
  std::string answer;
  std::vector<StudyRecord> found;
  Json::Value studies;
  if (!context_.orthanc.Post("/tools/find", JsonText::Write(query), answer) ||
      !JsonText::Parse(answer, studies) || !studies.isArray()) {
    return found;
  }
  for (const Json::Value& study : studies) {
    StudyRecord record;
    record.orthancId = study.get("ID", "").asString();
    const Json::Value& tags = study["MainDicomTags"];
    const Json::Value& patient = study["PatientMainDicomTags"];
    record.studyUid = tags.get("StudyInstanceUID", "").asString();
    record.accessionNumber = tags.get("AccessionNumber", "").asString();
    record.studyDate = tags.get("StudyDate", "").asString();
    record.description = tags.get("StudyDescription", "").asString();
    record.patientId = patient.get("PatientID", "").asString();
    record.patientName = patient.get("PatientName", "").asString();
    // Orthanc matches case-insensitively and with wildcards; an accession number is exact.
    if (record.accessionNumber == accession) found.push_back(record);
  }
  return found;
}

HttpResponse ViewerModule::Open(const RouteContext& context) {
  const std::string accession = context.request.Query("accession");
  if (!files_.Installed()) {
    return Page(503, "not-installed", "The viewer is not installed",
                "The diagnostic viewer's files are missing on this server.");
  }
  if (accession.empty() || accession.size() > 64) {
    return Page(
        400, "bad-request", "Which study?",
        "Open the viewer from a study, or give its accession number: /bridge/viewer/open?accession=…");
  }
  const std::vector<StudyRecord> studies = ByAccession(accession);
  if (studies.empty()) {
    return Page(404, "unknown", "No such study here",
                "No study with the accession number “" + accession + "” is stored in this archive.");
  }
  if (studies.size() == 1) {
    return HttpResponse::SeeOther(std::string(kMount) +
                                  "viewer?StudyInstanceUIDs=" + UrlEncode(studies.front().studyUid));
  }
  std::string choices;
  for (const StudyRecord& study : studies) {
    choices += "<li><a href=\"" +
               HtmlEscape(std::string(kMount) + "viewer?StudyInstanceUIDs=" + UrlEncode(study.studyUid)) +
               "\">" + HtmlEscape(study.patientName) + " (" + HtmlEscape(study.patientId) + "), " +
               HtmlEscape(DicomDate(study.studyDate)) + " " + HtmlEscape(study.description) + "</a></li>";
  }
  return Page(200, "choose", "Several studies have this accession number",
              "Accession number “" + accession + "” names " + std::to_string(studies.size()) +
                  " studies here. Which one?",
              choices);
}

HttpResponse ViewerModule::Serve(const RouteContext& context) {
  const std::string file = context.params.count("file") > 0 ? context.Param("file") : "";
  const bool page = file.find('.') == std::string::npos;  // an OHIF route, not a file
  if (file == "hb-viewer-boot.js" || file == "app-config.js") {
    HttpResponse script;
    script.contentType = "text/javascript; charset=utf-8";
    if (file == "app-config.js") {
      script.body = MakeViewerAppConfig(settings_, context_.site.siteName, kMount);
    } else if (!FindEmbeddedFile("WebAssets/js/viewer-boot.js", script.body)) {
      throw DomainError::NotFound("No such file", file);
    }
    script.AddHeader("Cache-Control", "no-cache");
    AddViewerHeaders(script);
    return script;
  }
  if (!files_.Installed()) {
    if (!page) throw DomainError::NotFound("The viewer is not installed", file);
    return Page(503, "not-installed", "The viewer is not installed",
                "The diagnostic viewer's files are missing on this server.");
  }
  if (!page) {
    std::optional<ViewerFiles::File> found = files_.Read(file);
    if (!found) throw DomainError::NotFound("No such file", file);
    HttpResponse response;
    response.contentType = found->contentType;
    response.AddHeader("ETag", found->etag);
    if (found->immutable) {
      response.AddHeader("Cache-Control", "private, max-age=31536000, immutable");
    } else {
      response.AddHeader("Cache-Control", "no-cache");
    }
    AddViewerHeaders(response);
    if (context.request.Header("if-none-match") == found->etag) {
      response.status = 304;
      return response;
    }
    response.body = std::move(found->body);
    return response;
  }
  // A page of OHIF's: the study it names must be here.
  const std::string uids = context.request.Query("StudyInstanceUIDs");
  if (context.request.HasQuery("StudyInstanceUIDs")) {
    const std::vector<std::string> list = SplitComma(uids);
    if (list.empty()) {
      return Page(404, "unknown", "No such study here", "The address names no StudyInstanceUID.");
    }
    for (const std::string& uid : list) {
      if (!IsUid(uid) || !Holds(uid)) {
        return Page(404, "unknown", "No such study here",
                    "No study with the StudyInstanceUID “" + uid + "” is stored in this archive.");
      }
    }
    // The viewer's own route: OHIF's root is its study list.
    if (file.empty()) {
      return HttpResponse::SeeOther(std::string(kMount) + "viewer?StudyInstanceUIDs=" + UrlEncode(uids));
    }
  }
  ViewerFiles::File index = files_.Index();
  HttpResponse response;
  response.contentType = index.contentType;
  response.body = std::move(index.body);
  response.AddHeader("Cache-Control", "no-cache");
  AddViewerHeaders(response);
  return response;
}

}  // namespace HospitalBridge
