#include "Viewer/ViewerFiles.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Router.h"
#include "Web/StaticAssets.h"

namespace HospitalBridge {
namespace {
// webpack's runtime as OHIF builds it ("publicPath: '/'"), and what it
// becomes: the page's PUBLIC_URL (set by the boot script), or in a worker the
// folder the worker's own script came from.
const char kWebpackPublicPath[] = "__webpack_require__.p = \"/\";";
const char kServedPublicPath[] =
    "__webpack_require__.p = (typeof window === \"object\" && window.PUBLIC_URL) || "
    "new URL(\".\", self.location.href).pathname;";
// Changes when what the plugin does to the files changes (part of ETags).
const char kRewriteVersion[] = "hb1";
const char kStamp[] = ".hospitalbridge-viewer.json";

bool IsHex(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool ReadWhole(const std::string& path, std::string& content) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  content = buffer.str();
  return !in.bad();
}

std::string RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : std::string();
}

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  size_t at = 0;
  while ((at = text.find(from, at)) != std::string::npos) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
}
}  // namespace

ViewerFiles::ViewerFiles(std::string directory, std::string mount)
    : directory_(std::move(directory)), mount_(std::move(mount)) {}

bool ViewerFiles::Installed() const {
  struct stat info {};
  return stat((directory_ + "/index.html").c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string ViewerFiles::StampField(const char* field) const {
  std::string text;
  if (!ReadWhole(directory_ + "/" + kStamp, text)) return "";
  Json::Value stamp;
  if (!JsonText::Parse(text, stamp) || !stamp.isObject()) return "";
  return stamp.get(field, "").asString();
}

std::string ViewerFiles::Version() const { return StampField("version"); }
std::string ViewerFiles::PackageName() const { return StampField("name"); }

bool ViewerFiles::SafeRelativePath(const std::string& relative) {
  if (relative.empty() || relative.size() > 512) return false;
  for (char c : relative) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == 0x7f) return false;
  }
  if (relative.front() == '/' || relative.find("//") != std::string::npos) return false;
  for (const std::string& segment : SplitPath(relative)) {
    if (segment.empty() || segment.front() == '.') return false;  // "..", ".", hidden files
  }
  return true;
}

bool ViewerFiles::HasContentHash(const std::string& name) {
  const size_t slash = name.rfind('/');
  const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  const size_t extension = base.rfind('.');
  if (extension == std::string::npos) return false;
  const std::string stem = base.substr(0, extension);
  const size_t dot = stem.rfind('.');
  const std::string hash = dot == std::string::npos ? stem : stem.substr(dot + 1);
  return hash.size() >= 16 && IsHex(hash);
}

std::string ViewerFiles::PatchPublicPath(const std::string& script, bool& changed) {
  changed = script.find(kWebpackPublicPath) != std::string::npos;
  if (!changed) return script;
  std::string patched = script;
  ReplaceAll(patched, kWebpackPublicPath, kServedPublicPath);
  return patched;
}

std::string ViewerFiles::PatchStylesheet(const std::string& css, bool& changed) {
  std::string patched = css;
  for (const char* quote : {"", "\"", "'"}) {
    const std::string from = std::string("url(") + quote + "/";
    size_t at = 0;
    while ((at = patched.find(from, at)) != std::string::npos) {
      const size_t slash = at + from.size() - 1;
      if (slash + 1 < patched.size() && patched[slash + 1] == '/') {  // "//host/...": not ours to change
        at = slash + 1;
        continue;
      }
      patched.erase(slash, 1);
      at = slash;
    }
  }
  changed = patched != css;
  return patched;
}

std::string ViewerFiles::RewriteIndex(const std::string& html, const std::string& mount) {
  // Inline scripts out: the CSP allows none, and the boot script does what
  // OHIF's did (PUBLIC_URL, browserImportFunction).
  std::string out;
  out.reserve(html.size() + 512);
  size_t at = 0;
  while (at < html.size()) {
    const size_t open = html.find("<script", at);
    const size_t tagEnd = open == std::string::npos ? open : html.find('>', open);
    const size_t close = open == std::string::npos ? open : html.find("</script>", open);
    if (open == std::string::npos || tagEnd == std::string::npos || close == std::string::npos) {
      out.append(html, at, std::string::npos);
      break;
    }
    const size_t end = close + 9;
    const bool inline_ = html.substr(open, tagEnd - open).find(" src=") == std::string::npos;
    out.append(html, at, (inline_ ? open : end) - at);
    at = end;
  }
  // The web-app manifest: browsers fetch it without the session cookie (so
  // the gate refuses it), and a staff viewer is no installable app.
  const size_t manifest = out.find("<link rel=\"manifest\"");
  if (manifest != std::string::npos) out.erase(manifest, out.find('>', manifest) + 1 - manifest);
  // Root paths of OHIF's build ("/app.bundle.js", "/assets/...") move under
  // the mount.
  ReplaceAll(out, " src=\"/", " src=\"" + mount);
  ReplaceAll(out, " href=\"/", " href=\"" + mount);
  // The boot script first, before OHIF's app-config.js and bundles.
  const std::string boot = "<script src=\"" + mount + "hb-viewer-boot.js\"></script>";
  size_t first = out.find("<script");
  if (first == std::string::npos) first = out.find("</head>");
  out.insert(first == std::string::npos ? 0 : first, boot);
  return out;
}

std::optional<ViewerFiles::File> ViewerFiles::Read(const std::string& relative) const {
  if (!SafeRelativePath(relative)) return std::nullopt;
  const std::string root = RealPath(directory_);
  const std::string real = RealPath(directory_ + "/" + relative);
  // A symbolic link may not lead out of the folder.
  if (root.empty() || real.size() <= root.size() || real.compare(0, root.size() + 1, root + "/") != 0) {
    return std::nullopt;
  }
  struct stat info {};
  if (stat(real.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  File file;
  if (!ReadWhole(real, file.body)) return std::nullopt;
  file.contentType = ContentTypeFor(relative);
  file.immutable = HasContentHash(relative);
  bool changed = false;
  if (EndsWith(relative, ".js")) file.body = PatchPublicPath(file.body, changed);
  if (EndsWith(relative, ".css")) file.body = PatchStylesheet(file.body, changed);
  std::ostringstream etag;
  etag << '"' << std::hex << info.st_size << '-' << info.st_mtime
       << (changed ? std::string("-") + kRewriteVersion : "") << '"';
  file.etag = etag.str();
  return file;
}

ViewerFiles::File ViewerFiles::Index() const {
  File file;
  std::string html;
  if (!ReadWhole(directory_ + "/index.html", html))
    throw DomainError::NotFound("The viewer is not installed");
  file.body = RewriteIndex(html, mount_);
  file.contentType = "text/html; charset=utf-8";
  return file;
}

std::string MakeViewerAppConfig(const ViewerSettings& settings, const std::string& siteName,
                                const std::string& mount) {
  Json::Value source;
  source["namespace"] = "@ohif/extension-default.dataSourcesModule.dicomweb";
  source["sourceName"] = "orthanc";
  Json::Value& dicomWeb = source["configuration"];
  dicomWeb["friendlyName"] = siteName;
  dicomWeb["name"] = "orthanc";
  // Orthanc's DICOMweb plugin: no includefield, no fuzzy matching, no
  // rejection; frames and thumbnails through WADO-RS.
  dicomWeb["qidoSupportsIncludeField"] = false;
  dicomWeb["supportsReject"] = false;
  dicomWeb["imageRendering"] = "wadors";
  dicomWeb["thumbnailRendering"] = "wadors";
  dicomWeb["enableStudyLazyLoad"] = true;
  dicomWeb["supportsFuzzyMatching"] = false;
  dicomWeb["supportsWildcard"] = true;
  dicomWeb["dicomUploadEnabled"] = false;
  dicomWeb["omitQuotationForMultipartRequest"] = true;
  dicomWeb["bulkDataURI"]["enabled"] = true;

  Json::Value config;
  config["name"] = "HospitalBridge";
  config["extensions"] = Json::Value(Json::arrayValue);
  config["modes"] = Json::Value(Json::arrayValue);
  config["customizationService"] = Json::Value(Json::objectValue);
  config["showStudyList"] = settings.showStudyList;
  config["maxNumberOfWebWorkers"] = 3;
  config["showWarningMessageForCrossOrigin"] = true;
  config["showCPUFallbackMessage"] = true;
  config["showLoadingIndicator"] = true;
  config["strictZSpacingForVolumeViewport"] = true;
  config["groupEnabledModesFirst"] = true;
  config["investigationalUseDialog"]["option"] = "never";
  config["maxNumRequests"]["interaction"] = 100;
  config["maxNumRequests"]["thumbnail"] = 5;
  config["maxNumRequests"]["prefetch"] = 25;
  config["showErrorDetails"] = "always";
  config["defaultDataSourceName"] = "orthanc";
  config["dataSources"].append(source);

  // From "/bridge/viewer/" back to the root of this Orthanc: "../../".
  std::string up;
  for (size_t i = 0; i < SplitPath(mount).size(); i++) up += "../";
  const std::string qido = up + std::string(kDicomWebRoot).substr(1);
  const std::string wado = up + std::string(kWadoUriRoot).substr(1);

  std::string text =
      "/* Generated by HospitalBridge: OHIF's configuration (HospitalBridge.Viewer). DICOMweb is found\n"
      "   relative to this script's own address, so the viewer works behind a reverse proxy and HTTPS. */\n"
      "(function () {\n"
      "  'use strict';\n"
      "  var here = new URL('.', document.currentScript.src);\n"
      "  function at(relative) { return new URL(relative, here).href.replace(/\\/$/, ''); }\n"
      "  var config = " +
      JsonText::Write(config) +
      ";\n"
      "  var dicomWeb = config.dataSources[0].configuration;\n"
      "  dicomWeb.qidoRoot = dicomWeb.wadoRoot = at('" +
      qido +
      "');\n"
      "  dicomWeb.wadoUriRoot = at('" +
      wado +
      "');\n"
      "  config.routerBasename = here.pathname.replace(/\\/$/, '');\n"
      "  window.config = config;\n"
      "})();\n";
  return text;
}

}  // namespace HospitalBridge
