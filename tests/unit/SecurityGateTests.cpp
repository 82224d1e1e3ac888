// The security gate and login flow, driven through the whole core (Bridge)
// with an in-memory database and no Orthanc.
#include <gtest/gtest.h>

#include <cstdlib>

#include "Bridge.h"
#include "Common/Crypto.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/ResourceParser.h"
#include "Security/StudyAccessPolicy.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
const char kAdminPassword[] = "Correct-Horse-42";

Configuration TestConfiguration() {
  Json::Value orthanc;
  orthanc["HospitalBridge"]["DatabasePath"] = ":memory:";
  orthanc["HospitalBridge"]["Security"]["PasswordHashIterations"] = 100000;
  orthanc["HospitalBridge"]["Security"]["LoginThrottle"]["MaxFailuresPerUser"] = 3;
  return LoadConfiguration(orthanc);
}

HttpRequest Request(const std::string& method, const std::string& path) {
  HttpRequest request;
  request.method = method;
  request.path = path;
  request.remoteIp = "10.1.2.3";
  request.headers["host"] = "pacs.example:8042";
  return request;
}

HttpRequest WithBasic(HttpRequest request, const std::string& user, const std::string& password) {
  request.headers["authorization"] = "Basic " + Crypto::Base64Encode(user + ":" + password);
  return request;
}

class SecurityGate : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("HOSPITALBRIDGE_ADMIN_PASSWORD", kAdminPassword, 1);
    bridge = std::make_unique<Bridge>(TestConfiguration(), orthanc, peers, "1.10.1");
  }
  void TearDown() override { unsetenv("HOSPITALBRIDGE_ADMIN_PASSWORD"); }

  HttpResponse AsAdmin(HttpRequest request) {
    return bridge->HandleRequest(WithBasic(std::move(request), "admin", kAdminPassword));
  }
  void CreateUser(const std::string& name, const std::string& password, const std::string& role) {
    HttpRequest request = Request("POST", "/bridge/users");
    request.body =
        R"({"username":")" + name + R"(","password":")" + password + R"(","role":")" + role + R"("})";
    ASSERT_EQ(200, AsAdmin(request).status);
  }
  std::string Login(const std::string& user, const std::string& password, int expectedStatus = 200) {
    HttpRequest request = Request("POST", "/bridge/login");
    request.body = R"({"username":")" + user + R"(","password":")" + password + R"("})";
    HttpResponse response = bridge->HandleRequest(request);
    EXPECT_EQ(expectedStatus, response.status) << response.body;
    for (const auto& [name, value] : response.headers) {
      if (name == "Set-Cookie") return value.substr(0, value.find(';'));
    }
    return "";
  }

  CannedOrthanc orthanc;
  NoPeers peers;
  std::unique_ptr<Bridge> bridge;
};
}  // namespace

TEST_F(SecurityGate, AnonymousReachesOnlyPublicRoutes) {
  EXPECT_FALSE(bridge->AllowRequest(Request("GET", "/patients")));
  EXPECT_FALSE(bridge->AllowRequest(Request("GET", "/app/explorer.html")));
  EXPECT_FALSE(bridge->AllowRequest(Request("GET", "/bridge/system")));
  EXPECT_FALSE(bridge->AllowRequest(Request("GET", "/bridge/nonexistent")));
  EXPECT_TRUE(bridge->AllowRequest(Request("GET", "/bridge/app/login.html")));
  EXPECT_TRUE(bridge->AllowRequest(Request("POST", "/bridge/login")));
}

TEST_F(SecurityGate, BasicCredentialsAreCheckedAndRolesApplied) {
  EXPECT_TRUE(bridge->AllowRequest(WithBasic(Request("GET", "/patients"), "admin", kAdminPassword)));
  EXPECT_FALSE(bridge->AllowRequest(WithBasic(Request("GET", "/patients"), "admin", "wrong-password")));
  EXPECT_FALSE(bridge->AllowRequest(WithBasic(Request("GET", "/patients"), "nobody", kAdminPassword)));
  CreateUser("desk", "Front-Counter-2026", "reception");
  HttpRequest read = WithBasic(Request("GET", "/studies/abc"), "desk", "Front-Counter-2026");
  EXPECT_TRUE(bridge->AllowRequest(read));
  read.method = "DELETE";
  EXPECT_FALSE(bridge->AllowRequest(read));
  EXPECT_FALSE(
      bridge->AllowRequest(WithBasic(Request("GET", "/bridge/users"), "desk", "Front-Counter-2026")));
  EXPECT_EQ(
      403,
      bridge->HandleRequest(WithBasic(Request("GET", "/bridge/users"), "desk", "Front-Counter-2026")).status)
      << "the route checks the role again behind the filter";
}

TEST_F(SecurityGate, PeersReachOnlyTheirRoutes) {
  CreateUser("site-b", "Peer-Secret-B-2026", "peer");
  EXPECT_FALSE(bridge->AllowRequest(WithBasic(Request("GET", "/studies"), "site-b", "Peer-Secret-B-2026")));
  EXPECT_FALSE(
      bridge->AllowRequest(WithBasic(Request("GET", "/bridge/system"), "site-b", "Peer-Secret-B-2026")));
  EXPECT_FALSE(
      bridge->AllowRequest(WithBasic(Request("GET", "/bridge/unknown"), "site-b", "Peer-Secret-B-2026")));
}

TEST_F(SecurityGate, SessionCookieWorksUntilLogout) {
  std::string cookie = Login("admin", kAdminPassword);
  ASSERT_EQ(0u, cookie.rfind("hb_session=", 0));
  HttpRequest request = Request("GET", "/bridge/system");
  request.headers["cookie"] = "other=1; " + cookie;
  EXPECT_TRUE(bridge->AllowRequest(request));
  EXPECT_EQ(200, bridge->HandleRequest(request).status);

  HttpRequest logout = Request("POST", "/bridge/logout");
  logout.headers["cookie"] = cookie;
  EXPECT_EQ(200, bridge->HandleRequest(logout).status);
  EXPECT_FALSE(bridge->AllowRequest(request));
  request.headers["cookie"] = "hb_session=forged-token-value";
  EXPECT_FALSE(bridge->AllowRequest(request));
}

TEST_F(SecurityGate, CrossSiteBrowserWritesAreRefused) {
  std::string cookie = Login("admin", kAdminPassword);
  HttpRequest write = Request("DELETE", "/studies/abc");
  write.headers["cookie"] = cookie;
  write.headers["origin"] = "http://pacs.example:8042";
  EXPECT_TRUE(bridge->AllowRequest(write));
  write.headers["origin"] = "https://evil.example";
  EXPECT_FALSE(bridge->AllowRequest(write));
}

TEST_F(SecurityGate, FailedLoginsAreThrottledEvenWithTheRightPassword) {
  Login("admin", "wrong-1", 403);
  Login("admin", "wrong-2", 403);
  Login("admin", "wrong-3", 403);
  HttpRequest locked = Request("POST", "/bridge/login");
  locked.body = std::string(R"({"username":"admin","password":")") + kAdminPassword + "\"}";
  HttpResponse response = bridge->HandleRequest(locked);
  EXPECT_EQ(403, response.status);
  EXPECT_NE(std::string::npos, response.body.find("Too many failed attempts")) << response.body;
  EXPECT_FALSE(bridge->AllowRequest(WithBasic(Request("GET", "/patients"), "admin", kAdminPassword)));
}

TEST_F(SecurityGate, DisablingAUserEndsItsAccessAtOnce) {
  CreateUser("tech", "Scanner-Room-2026", "technician");
  HttpRequest read = WithBasic(Request("GET", "/studies"), "tech", "Scanner-Room-2026");
  std::string cookie = Login("tech", "Scanner-Room-2026");
  EXPECT_TRUE(bridge->AllowRequest(read)) << "now cached";
  HttpRequest disable = Request("PUT", "/bridge/users/tech");
  disable.body = R"({"disabled": true})";
  ASSERT_EQ(200, AsAdmin(disable).status);
  EXPECT_FALSE(bridge->AllowRequest(read));
  HttpRequest withCookie = Request("GET", "/bridge/system");
  withCookie.headers["cookie"] = cookie;
  EXPECT_FALSE(bridge->AllowRequest(withCookie));
}

TEST_F(SecurityGate, TheLastAdministratorCannotBeDisabled) {
  HttpRequest disable = Request("PUT", "/bridge/users/admin");
  disable.body = R"({"disabled": true})";
  EXPECT_EQ(409, AsAdmin(disable).status);
  HttpRequest demote = Request("PUT", "/bridge/users/admin");
  demote.body = R"({"role": "reception"})";
  EXPECT_EQ(409, AsAdmin(demote).status);
}

TEST_F(SecurityGate, BadInputGetsClearErrors) {
  HttpRequest login = Request("POST", "/bridge/login");
  login.body = "{not json";
  EXPECT_EQ(400, bridge->HandleRequest(login).status);
  login.body = R"({"username": 3, "password": "x"})";
  EXPECT_EQ(400, bridge->HandleRequest(login).status);
  HttpRequest create = Request("POST", "/bridge/users");
  create.body = R"({"username":"new","password":"short","role":"reception"})";
  HttpResponse weak = AsAdmin(create);
  EXPECT_EQ(400, weak.status);
  EXPECT_NE(std::string::npos, weak.body.find("12 characters"));
  create.body = R"({"username":"new","password":"Long-Enough-2026","role":"janitor"})";
  EXPECT_EQ(400, AsAdmin(create).status);
  create.body = R"({"username":"<script>","password":"Long-Enough-2026","role":"reception"})";
  EXPECT_EQ(400, AsAdmin(create).status);
  HttpRequest big = Request("POST", "/bridge/users");
  big.body = std::string(2 * 1024 * 1024, 'x');
  EXPECT_EQ(413, AsAdmin(big).status);
  EXPECT_EQ(404, AsAdmin(Request("GET", "/bridge/no-such-thing")).status);
  EXPECT_EQ(405, AsAdmin(Request("DELETE", "/bridge/system")).status);
}

TEST_F(SecurityGate, AnswersCarrySecurityHeaders) {
  HttpResponse page = bridge->HandleRequest(Request("GET", "/bridge/app/login.html"));
  ASSERT_EQ(200, page.status);
  bool csp = false;
  bool nosniff = false;
  for (const auto& [name, value] : page.headers) {
    csp = csp || (name == "Content-Security-Policy" && value.find("default-src 'self'") != std::string::npos);
    nosniff = nosniff || (name == "X-Content-Type-Options" && value == "nosniff");
  }
  EXPECT_TRUE(csp);
  EXPECT_TRUE(nosniff);
  EXPECT_EQ(301, bridge->HandleRequest(Request("GET", "/bridge")).status);
  EXPECT_EQ(200, bridge->HandleRequest(Request("GET", "/bridge/app")).status);
  EXPECT_EQ(200, bridge->HandleRequest(Request("GET", "/bridge/app/")).status);
  EXPECT_EQ(
      404,
      bridge->HandleRequest(Request("GET", "/bridge/app/../Resources/DefaultConfiguration.json")).status);
}

TEST(BootstrapAdmin, RemoteAccessRequiresAStrongPassword) {
  Json::Value orthanc;
  orthanc["RemoteAccessAllowed"] = true;
  orthanc["AuthenticationEnabled"] = false;
  orthanc["HospitalBridge"]["DatabasePath"] = ":memory:";
  orthanc["HospitalBridge"]["Security"]["PasswordHashIterations"] = 100000;
  CannedOrthanc canned;
  NoPeers noPeers;
  unsetenv("HOSPITALBRIDGE_ADMIN_PASSWORD");
  EXPECT_THROW(Bridge(LoadConfiguration(orthanc), canned, noPeers, "1.10.1"), StartupError);
  setenv("HOSPITALBRIDGE_ADMIN_PASSWORD", "orthanc", 1);
  EXPECT_THROW(Bridge(LoadConfiguration(orthanc), canned, noPeers, "1.10.1"), StartupError);
  setenv("HOSPITALBRIDGE_ADMIN_PASSWORD", "Correct-Horse-42", 1);
  EXPECT_NO_THROW(Bridge(LoadConfiguration(orthanc), canned, noPeers, "1.10.1"));
  unsetenv("HOSPITALBRIDGE_ADMIN_PASSWORD");
}

TEST_F(SecurityGate, ConsentScansMayExceedTheGeneralBodyLimit) {
  HttpRequest create = Request("POST", "/bridge/patients");
  create.body = R"({"first_name":"JANE","last_name":"DOE","national_id":"199012345678"})";
  HttpResponse created = AsAdmin(create);
  ASSERT_EQ(200, created.status) << created.body;
  Json::Value patient;
  ASSERT_TRUE(JsonText::Parse(created.body, patient));

  HttpRequest consent = Request("POST", "/bridge/patients/" + patient["id"].asString() + "/consents");
  const std::string scan = Crypto::Base64Encode(std::string(3 * 1024 * 1024, '%'));
  consent.body =
      R"({"kind":"share","decision":"permit","method":"signed-form","attachment_type":"application/pdf",)"
      R"("attachment":")" +
      scan + "\"}";
  ASSERT_GT(consent.body.size(), 1024u * 1024u);
  HttpResponse accepted = AsAdmin(consent);
  EXPECT_EQ(200, accepted.status) << accepted.body.substr(0, 300);

  HttpRequest elsewhere = Request("PUT", "/bridge/patients/" + patient["id"].asString());
  elsewhere.body = consent.body;
  EXPECT_EQ(413, AsAdmin(elsewhere).status) << "other routes keep the configured limit";
}

TEST(ResourceParser, TheGateAndTheAuditReadARequestTheSameWay) {
  ParsedRequest tags = ParseOrthancRequest("GET", "/instances/i1/tags");
  EXPECT_EQ("/instances/i1", tags.Resource());
  EXPECT_EQ(ResourceAccess::kView, tags.access);
  EXPECT_EQ(ResourceAccess::kDownload, ParseOrthancRequest("GET", "/studies/s1/media").access);
  EXPECT_EQ(ResourceAccess::kDownload, ParseOrthancRequest("POST", "/studies/s1/archive").access);
  EXPECT_EQ(ResourceAccess::kDownload,
            ParseOrthancRequest("GET", "/instances/i1/attachments/dicom/compressed-data").access);
  EXPECT_EQ(ResourceAccess::kNone, ParseOrthancRequest("GET", "/instances/i1/attachments/dicom/md5").access);
  EXPECT_EQ(ResourceAccess::kView, ParseOrthancRequest("GET", "/series/x/some-future-route").access)
      << "unknown reads are views";
  EXPECT_EQ(ResourceAccess::kModify, ParseOrthancRequest("POST", "/studies/s1/anonymize").access);
  EXPECT_EQ(ResourceAccess::kDelete, ParseOrthancRequest("DELETE", "/patients/p1").access);
  EXPECT_EQ(ResourceAccess::kSearch, ParseOrthancRequest("POST", "/tools/find").access);
  EXPECT_EQ(ResourceAccess::kExport, ParseOrthancRequest("POST", "/modalities/PACS/store").access);
  EXPECT_EQ(ResourceAccess::kNone, ParseOrthancRequest("GET", "/studies").access);
  EXPECT_FALSE(ParseOrthancRequest("GET", "/system").HasResource());
}

TEST(StudyAccessPolicy, TheStudyOfAnImageIsAskedOnceThenRemembered) {
  CannedOrthanc orthanc;
  orthanc.answers["/instances/i1/study"] = R"({"ID": "s1"})";
  orthanc.answers["/series/x1/study"] = R"({"ID": "s1"})";
  StudyAccessPolicy policy(orthanc, 2);
  EXPECT_EQ("s1", policy.StudyOf("instances", "i1"));
  EXPECT_EQ("s1", policy.StudyOf("instances", "i1"));
  EXPECT_EQ(1, orthanc.calls["/instances/i1/study"]);
  EXPECT_EQ("", policy.StudyOf("instances", "unknown"));
  EXPECT_EQ("", policy.StudyOf("instances", "../../tools/reset")) << "not an ID: not asked";
  EXPECT_EQ("s1", policy.StudyOf("series", "x1"));
  EXPECT_LE(policy.CachedEntries(), 2u) << "bounded";
  EXPECT_TRUE(StudyAccessPolicy::LinkMaySee({"s1", "s2"}, "s2"));
  EXPECT_FALSE(StudyAccessPolicy::LinkMaySee({"s1"}, "s2"));
  EXPECT_FALSE(StudyAccessPolicy::LinkMaySee({"s1"}, ""));
  EXPECT_TRUE(StudyAccessPolicy::StaffMaySee(Identity{true, 1, "desk", Role::kReception, true}));
  EXPECT_FALSE(StudyAccessPolicy::StaffMaySee(Identity{true, 2, "hos-2", Role::kPeer, false}));
}
