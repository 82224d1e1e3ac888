#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "Audit/CoreAccessAuditor.h"
#include "Common/AuditSink.h"
#include "Common/Json.h"
#include "Common/ResourceParser.h"
#include "Configuration.h"
#include "Security/PermissionTable.h"
#include "TestSupport.h"
#include "Viewer/ViewerFiles.h"
#include "Viewer/ViewerModule.h"

using namespace HospitalBridge;

namespace {
// The head of OHIF 3.13's dist/index.html, shortened.
const char kOhifIndex[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"UTF-8\">"
    "<script>console.time(\"scriptToView\"),window.PUBLIC_URL=\"/\"</script>"
    "<link rel=\"manifest\" href=\"/manifest.json\"><link rel=\"icon shortcut\" href=\"/assets/favicon.ico\">"
    "<script rel=\"preload\" as=\"script\" src=\"/app-config.js\"></script>"
    "<script rel=\"preload\" as=\"script\" type=\"module\" src=\"/init-service-worker.js\"></script>"
    "<title>OHIF Viewer</title><script>function browserImportFunction(n){return import(n)}"
    "window.PUBLIC_URL=\"/\"</script><script defer src=\"/app.bundle.0f6159c501addfe9.js\"></script>"
    "<link href=\"/app.bundle.css\" rel=\"stylesheet\"></head><body><div id=\"root\"></div></body></html>";

class TempFolder {
 public:
  TempFolder() {
    char name[] = "/tmp/hb-viewer-test-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempFolder() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
  void Write(const std::string& relative, const std::string& content) const {
    (void)std::system(("mkdir -p \"$(dirname '" + path + "/" + relative + "')\"").c_str());
    std::ofstream(path + "/" + relative, std::ios::binary) << content;
  }
  std::string path;
};

class CollectingSink : public IAuditSink {
 public:
  void Record(AuditEvent event) override { events.push_back(std::move(event)); }
  std::vector<AuditEvent> events;
};

Json::Value Orthanc(const std::string& text) { return JsonText::ParseConfiguration(text, "test"); }
}  // namespace

TEST(ViewerFiles, IndexLosesItsInlineScriptsAndMovesUnderTheMount) {
  const std::string html = ViewerFiles::RewriteIndex(kOhifIndex, "/bridge/viewer/");
  EXPECT_EQ(std::string::npos, html.find("<script>")) << html;
  EXPECT_EQ(std::string::npos, html.find("browserImportFunction")) << "the boot script defines it";
  EXPECT_NE(std::string::npos, html.find("src=\"/bridge/viewer/app-config.js\""));
  EXPECT_NE(std::string::npos, html.find("src=\"/bridge/viewer/app.bundle.0f6159c501addfe9.js\""));
  EXPECT_NE(std::string::npos, html.find("href=\"/bridge/viewer/app.bundle.css\""));
  EXPECT_EQ(std::string::npos, html.find("manifest")) << "fetched without the cookie: refused";
  EXPECT_EQ(std::string::npos, html.find("=\"/app")) << "no root path left";
  // The boot script comes before every other script, and only once.
  const size_t boot = html.find("<script src=\"/bridge/viewer/hb-viewer-boot.js\"></script>");
  ASSERT_NE(std::string::npos, boot);
  EXPECT_LT(boot, html.find("app-config.js"));
  EXPECT_EQ(std::string::npos, html.find("hb-viewer-boot.js", html.find("hb-viewer-boot.js") + 1));
  EXPECT_NE(std::string::npos, html.find("<div id=\"root\"></div>"));
}

TEST(ViewerFiles, WebpackRuntimesLoadFromWhereTheyAreServed) {
  bool changed = false;
  const std::string patched =
      ViewerFiles::PatchPublicPath("(() => {\n__webpack_require__.p = \"/\";\n})();", changed);
  EXPECT_TRUE(changed);
  EXPECT_NE(std::string::npos, patched.find("window.PUBLIC_URL"));
  EXPECT_NE(std::string::npos, patched.find("self.location.href"));
  EXPECT_EQ(std::string::npos, patched.find("__webpack_require__.p = \"/\";"));
  const std::string other = "__webpack_require__.p = scriptUrl;";
  EXPECT_EQ(other, ViewerFiles::PatchPublicPath(other, changed));
  EXPECT_FALSE(changed);
}

TEST(ViewerFiles, StylesheetsFindTheirFontsBesideThem) {
  bool changed = false;
  EXPECT_EQ("@font-face{src:url(a34f9d1faa5f3315.woff2)}a{b:url('x.png')}c{d:url(//cdn/x)}",
            ViewerFiles::PatchStylesheet(
                "@font-face{src:url(/a34f9d1faa5f3315.woff2)}a{b:url('/x.png')}c{d:url(//cdn/x)}", changed));
  EXPECT_TRUE(changed);
  ViewerFiles::PatchStylesheet("a{b:url(data:x)}", changed);
  EXPECT_FALSE(changed);
}

TEST(ViewerFiles, OnlyPlainPathsInsideTheFolderAreServed) {
  EXPECT_TRUE(ViewerFiles::SafeRelativePath("app.bundle.0f6159c501addfe9.js"));
  EXPECT_TRUE(ViewerFiles::SafeRelativePath("assets/favicon.ico"));
  for (const char* bad : {"", "../etc/passwd", "assets/../../x", ".hospitalbridge-viewer.json", "a/.hidden",
                          "/etc/passwd", "a//b", "a\\b", "a\nb"}) {
    EXPECT_FALSE(ViewerFiles::SafeRelativePath(bad)) << bad;
  }
  EXPECT_TRUE(ViewerFiles::HasContentHash("app.bundle.0f6159c501addfe9.js"));
  EXPECT_TRUE(ViewerFiles::HasContentHash("0ddf166f7a343eda.wasm"));
  EXPECT_FALSE(ViewerFiles::HasContentHash("app.bundle.css"));
  EXPECT_FALSE(ViewerFiles::HasContentHash("assets/favicon-16x16.png"));
}

TEST(ViewerFiles, ReadsFromDiskAndRefusesWhatLeavesTheFolder) {
  TempFolder folder;
  ViewerFiles files(folder.path + "/ohif", "/bridge/viewer/");
  EXPECT_FALSE(files.Installed());
  EXPECT_THROW(files.Index(), DomainError);
  folder.Write("ohif/index.html", kOhifIndex);
  folder.Write("ohif/app.bundle.0f6159c501addfe9.js", "a;__webpack_require__.p = \"/\";b");
  folder.Write("ohif/sub/x.wasm", "wasm");
  folder.Write("secret.txt", "outside");
  folder.Write("ohif/.hospitalbridge-viewer.json", R"({"name": "@ohif/app", "version": "3.13.2"})");
  ASSERT_EQ(0, symlink((folder.path + "/secret.txt").c_str(), (folder.path + "/ohif/leak.txt").c_str()));
  EXPECT_TRUE(files.Installed());
  EXPECT_EQ("3.13.2", files.Version());
  EXPECT_EQ("@ohif/app", files.PackageName());

  std::optional<ViewerFiles::File> bundle = files.Read("app.bundle.0f6159c501addfe9.js");
  ASSERT_TRUE(bundle);
  EXPECT_TRUE(bundle->immutable);
  EXPECT_EQ("text/javascript; charset=utf-8", bundle->contentType);
  EXPECT_NE(std::string::npos, bundle->body.find("window.PUBLIC_URL"));
  EXPECT_FALSE(bundle->etag.empty());
  std::optional<ViewerFiles::File> wasm = files.Read("sub/x.wasm");
  ASSERT_TRUE(wasm);
  EXPECT_EQ("application/wasm", wasm->contentType);
  EXPECT_EQ("wasm", wasm->body);
  EXPECT_FALSE(files.Read("leak.txt")) << "a symbolic link out of the folder";
  EXPECT_FALSE(files.Read("../secret.txt"));
  EXPECT_FALSE(files.Read("sub")) << "a folder";
  EXPECT_FALSE(files.Read("missing.js"));
  EXPECT_FALSE(files.Read(".hospitalbridge-viewer.json"));
  EXPECT_NE(std::string::npos, files.Index().body.find("/bridge/viewer/hb-viewer-boot.js"));
}

TEST(ViewerFiles, AppConfigFindsDicomWebRelativeToItself) {
  ViewerSettings settings;
  settings.showStudyList = false;
  const std::string script =
      MakeViewerAppConfig(settings, "St. Mary \"Clinic\" </script>", "/bridge/viewer/");
  EXPECT_NE(std::string::npos, script.find("at('../../dicom-web')")) << script;
  EXPECT_NE(std::string::npos, script.find("at('../../wado')"));
  EXPECT_NE(std::string::npos, script.find("document.currentScript.src"));
  EXPECT_NE(std::string::npos, script.find("\"showStudyList\":false"));
  EXPECT_NE(std::string::npos, script.find("St. Mary \\\"Clinic\\\""));
  EXPECT_EQ(std::string::npos, script.find("http")) << "no absolute address";
}

TEST(ViewerSettings, DefaultsRolesAndDicomWebRoot) {
  Configuration config = LoadConfiguration(Orthanc("{}"));
  EXPECT_TRUE(config.viewer.enabled);
  EXPECT_EQ("", config.viewer.directory);
  EXPECT_FALSE(config.viewer.allowReception);
  EXPECT_FALSE(ViewerModule::Roles(config.viewer).Contains(Role::kReception));
  EXPECT_TRUE(ViewerModule::Roles(config.viewer).Contains(Role::kRadiologist));
  EXPECT_FALSE(ViewerModule::Roles(config.viewer).Contains(Role::kPeer));
  config = LoadConfiguration(Orthanc(R"({"HospitalBridge": {"Viewer": {"AllowReception": true,
      "Directory": "/srv/ohif/"}}, "DicomWeb": {"Root": "/dicom-web/"}})"));
  EXPECT_TRUE(ViewerModule::Roles(config.viewer).Contains(Role::kReception));
  EXPECT_FALSE(ViewerModule::Roles(config.viewer).Contains(Role::kPeer));
  EXPECT_EQ("/srv/ohif", config.viewer.directory);
  try {
    LoadConfiguration(Orthanc(R"({"DicomWeb": {"Root": "/dicomweb/"}})"));
    FAIL() << "another DICOMweb root must stop the start";
  } catch (const StartupError& e) {
    EXPECT_NE(std::string::npos, std::string(e.what()).find("DicomWeb.Root")) << e.what();
  }
  EXPECT_THROW(LoadConfiguration(Orthanc(R"({"HospitalBridge": {"Viewer": {"Directory": "ohif"}}})")),
               StartupError);
}

TEST(ViewerGate, DicomWebReadsAreForTheViewersRoles) {
  const PermissionTable table;
  for (Role role : {Role::kAdmin, Role::kRadiologist, Role::kTechnician}) {
    EXPECT_TRUE(table.Allows(role, "GET", "/dicom-web/studies")) << RoleName(role);
    EXPECT_TRUE(table.Allows(role, "GET", "/dicom-web/studies/1.2.3/series/4.5/instances/6.7/frames/1"));
    EXPECT_TRUE(table.Allows(role, "GET", "/wado"));
    EXPECT_TRUE(table.Allows(role, "POST", "/dicom-web/studies")) << "STOW-RS, like an upload";
  }
  for (Role role : {Role::kReception, Role::kPeer}) {
    EXPECT_FALSE(table.Allows(role, "GET", "/dicom-web/studies")) << RoleName(role);
    EXPECT_FALSE(table.Allows(role, "GET", "/dicom-web/studies/1.2.3/metadata")) << RoleName(role);
    EXPECT_FALSE(table.Allows(role, "GET", "/wado")) << RoleName(role);
    EXPECT_FALSE(table.Allows(role, "POST", "/dicom-web/studies")) << RoleName(role);
  }
  EXPECT_FALSE(table.Allows(Role::kRadiologist, "GET", "/dicom-web/servers")) << "the DICOMweb client";
  EXPECT_FALSE(table.Allows(Role::kRadiologist, "POST", "/dicom-web/servers/remote/stow"));
  EXPECT_TRUE(table.Allows(Role::kAdmin, "GET", "/dicom-web/servers"));

  ViewerSettings withReception;
  withReception.allowReception = true;
  const PermissionTable open(PermissionOptions{ViewerModule::Roles(withReception)});
  EXPECT_TRUE(open.Allows(Role::kReception, "GET", "/dicom-web/studies/1.2.3/metadata"));
  EXPECT_FALSE(open.Allows(Role::kReception, "POST", "/dicom-web/studies")) << "uploads stay clinical";
  EXPECT_FALSE(open.Allows(Role::kPeer, "GET", "/dicom-web/studies"));
}

TEST(ViewerAudit, DicomWebRequestsAreParsedByStudy) {
  ParsedRequest read = ParseOrthancRequest("GET", "/dicom-web/studies/1.2.3/series/4/instances/5/frames/1");
  EXPECT_TRUE(read.dicomWeb);
  EXPECT_EQ(ResourceAccess::kView, read.access);
  EXPECT_EQ("1.2.3", read.studyUid);
  EXPECT_FALSE(read.HasResource());
  EXPECT_EQ(ResourceAccess::kSearch, ParseOrthancRequest("GET", "/dicom-web/studies").access);
  EXPECT_EQ(ResourceAccess::kSearch, ParseOrthancRequest("GET", "/dicom-web/instances").access);
  EXPECT_EQ(ResourceAccess::kView, ParseOrthancRequest("GET", "/wado").access);
  EXPECT_EQ(ResourceAccess::kNone, ParseOrthancRequest("POST", "/dicom-web/studies").access);
  EXPECT_EQ(ResourceAccess::kNone, ParseOrthancRequest("GET", "/dicom-web/servers").access);
}

TEST(ViewerAudit, OneEventPerStudyAndUserWhileTheViewerReadsAndRestrictionsSaid) {
  auto database = MigratedMemoryDatabase();
  StudyIndexStore studies(*database);
  StudyRecord study;
  study.orthancId = "o-1";
  study.studyUid = "1.2.3";
  study.patientId = "P1";
  studies.Upsert(study);
  // The patient refused federation (and share links are opt-in): what ConsentMarks records.
  ExecuteSql(
      *database,
      "INSERT INTO study_restrictions (study_uid, federation, share, updated_at) VALUES ('1.2.3', 1, 1, 0)");
  CollectingSink sink;
  CoreAccessAuditor auditor(sink, studies);
  const Identity doctor{true, 3, "doctor", Role::kRadiologist, true};
  const Identity other{true, 4, "other", Role::kTechnician, true};
  HttpRequest request;
  request.method = "GET";
  request.headers["referer"] = "http://pacs/bridge/viewer/viewer?StudyInstanceUIDs=1.2.3";
  for (int frame = 1; frame <= 50; frame++) {
    request.path = "/dicom-web/studies/1.2.3/series/4/instances/" + std::to_string(frame) + "/frames/1";
    auditor.Observe(request, doctor, true);
  }
  ASSERT_EQ(1u, sink.events.size()) << "fifty frames of one study are one opening";
  const AuditEvent& event = sink.events[0];
  EXPECT_EQ("study.viewed", event.action);
  EXPECT_EQ("1.2.3", event.studyUid);
  EXPECT_EQ("P1", event.dicomPatientId);
  EXPECT_EQ("/studies/o-1", event.orthancResource);
  EXPECT_EQ("DICOMweb", event.detail["via"].asString());
  EXPECT_TRUE(event.detail["viewer"].asBool());
  ASSERT_TRUE(event.detail["consent_restricted"].isArray());
  ASSERT_EQ(1u, event.detail["consent_restricted"].size());
  EXPECT_EQ("federation", event.detail["consent_restricted"][0].asString());
  auditor.Observe(request, other, true);
  EXPECT_EQ(2u, sink.events.size()) << "another user is another event";
  request.path = "/dicom-web/studies/9.9/metadata";
  auditor.Observe(request, doctor, true);
  EXPECT_EQ(3u, sink.events.size()) << "another study is another event";
  request.path = "/dicom-web/studies";
  request.query["PatientID"] = "P1";
  auditor.Observe(request, doctor, true);
  ASSERT_EQ(4u, sink.events.size());
  EXPECT_EQ("study.searched", sink.events[3].action);
  EXPECT_EQ("GET /dicom-web/studies?PatientID=P1", sink.events[3].detail["query"].asString());
  auditor.Observe(request, doctor, false);
  ASSERT_EQ(5u, sink.events.size());
  EXPECT_EQ("denied", sink.events[4].outcome);
}
