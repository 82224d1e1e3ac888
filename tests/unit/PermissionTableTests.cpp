#include <gtest/gtest.h>

#include "Security/PermissionTable.h"

using namespace HospitalBridge;

namespace {
const PermissionTable& Table() {
  static const PermissionTable table;
  return table;
}
bool Allowed(Role role, const std::string& method, const std::string& path) {
  return Table().Allows(role, method, path);
}
const Role kAll[] = {Role::kAdmin, Role::kRadiologist, Role::kTechnician, Role::kReception, Role::kPeer};
}  // namespace

TEST(PermissionTable, ReceptionReadsButNeverDeletesOrModifies) {
  EXPECT_TRUE(Allowed(Role::kReception, "GET", "/studies"));
  EXPECT_TRUE(Allowed(Role::kReception, "GET", "/studies/abc"));
  EXPECT_TRUE(Allowed(Role::kReception, "GET", "/studies/abc/archive"));
  EXPECT_TRUE(Allowed(Role::kReception, "GET", "/instances/abc/preview"));
  EXPECT_FALSE(Allowed(Role::kReception, "DELETE", "/studies/abc"));
  EXPECT_FALSE(Allowed(Role::kReception, "POST", "/studies/abc/modify"));
  EXPECT_FALSE(Allowed(Role::kReception, "POST", "/instances"));
  EXPECT_FALSE(Allowed(Role::kReception, "PUT", "/studies/abc/metadata/1024"));
}

TEST(PermissionTable, TechnicianUploadsAndCorrects) {
  EXPECT_TRUE(Allowed(Role::kTechnician, "POST", "/instances"));
  EXPECT_TRUE(Allowed(Role::kTechnician, "POST", "/studies/abc/modify"));
  EXPECT_TRUE(Allowed(Role::kTechnician, "POST", "/modalities/CT1/store"));
  EXPECT_FALSE(Allowed(Role::kTechnician, "DELETE", "/patients/abc"));
  EXPECT_FALSE(Allowed(Role::kTechnician, "PUT", "/modalities/CT1"));
}

TEST(PermissionTable, OnlyAdminReachesDangerousRoutes) {
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/tools/execute-script"},
                                                        {"POST", "/tools/shutdown"},
                                                        {"POST", "/tools/reset"},
                                                        {"GET", "/plugins"},
                                                        {"GET", "/plugins/hospital-bridge"},
                                                        {"PUT", "/modalities/CT1"},
                                                        {"DELETE", "/modalities/CT1"},
                                                        {"PUT", "/peers/site-b"},
                                                        {"GET", "/changes"},
                                                        {"DELETE", "/studies/abc"},
                                                        {"PUT", "/tools/log-level"}}) {
    for (Role role : kAll) {
      EXPECT_EQ(role == Role::kAdmin, Allowed(role, method, path))
          << method << " " << path << " as " << RoleName(role);
    }
  }
}

TEST(PermissionTable, PeersReachNoneOfOrthancsRoutes) {
  for (const char* path :
       {"/", "/app/explorer.html", "/studies", "/patients/x", "/system", "/instances/x/file"}) {
    EXPECT_FALSE(Allowed(Role::kPeer, "GET", path)) << path;
  }
}

TEST(PermissionTable, ExplorerNeedsItsPluginScriptsButNotThePluginList) {
  EXPECT_TRUE(Allowed(Role::kReception, "GET", "/app/explorer.html"));
  EXPECT_TRUE(Allowed(Role::kReception, "GET", "/plugins/explorer.js"));
  EXPECT_FALSE(Allowed(Role::kReception, "GET", "/plugins"));
}

TEST(PermissionTable, UnlistedRoutesAreDeniedToAllButAdmin) {
  EXPECT_FALSE(Allowed(Role::kRadiologist, "GET", "/some/future/route"));
  EXPECT_TRUE(Allowed(Role::kAdmin, "GET", "/some/future/route"));
  EXPECT_FALSE(Allowed(Role::kReception, "PATCH", "/studies/abc"));
}

TEST(PermissionTable, PathTricksDoNotMatch) {
  EXPECT_FALSE(Allowed(Role::kReception, "GET", "/studies/../tools/execute-script"));
  EXPECT_FALSE(Allowed(Role::kAdmin, "GET", "/studies/./x"))
      << "no rule matches dot segments, not even admin's";
  EXPECT_TRUE(Allowed(Role::kReception, "GET", "//studies//abc"))
      << "empty segments are ignored, as Orthanc does";
  EXPECT_FALSE(Allowed(Role::kReception, "DELETE", "//studies//abc"));
}

TEST(PermissionTable, PatternMatching) {
  EXPECT_TRUE(PathMatchesPattern("/studies/*/modify", "/studies/x/modify"));
  EXPECT_FALSE(PathMatchesPattern("/studies/*/modify", "/studies/x/y/modify"));
  EXPECT_TRUE(PathMatchesPattern("/app/**", "/app"));
  EXPECT_TRUE(PathMatchesPattern("/app/**", "/app/a/b/c"));
  EXPECT_FALSE(PathMatchesPattern("/studies", "/studies/x"));
}
