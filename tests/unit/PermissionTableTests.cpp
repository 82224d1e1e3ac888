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

// Routes Orthanc added after 1.10 (and the bulk routes of 1.9.4, admin only
// until now by default): each has its own line in the table; see README.md,
// "Permissions". Every role, for each method and path.
TEST(PermissionTable, RoutesOfNewerOrthancsHaveExplicitDecisions) {
  enum Who { kStaffRoles, kClinicalRoles, kCorrectRoles, kAdminOnly };
  struct Case {
    const char* method;
    const char* path;
    Who who;
  };
  const Case cases[] = {
      // labels (1.12.0): read by staff, set and removed by those who correct studies
      {"GET", "/tools/labels", kStaffRoles},
      {"GET", "/studies/abc/labels", kStaffRoles},
      {"GET", "/patients/abc/labels/teaching", kStaffRoles},
      {"GET", "/instances/abc/labels/teaching", kStaffRoles},
      {"PUT", "/studies/abc/labels/teaching", kCorrectRoles},
      {"DELETE", "/series/abc/labels/teaching", kCorrectRoles},
      {"POST", "/studies/abc/labels/teaching", kAdminOnly},
      // /tools/find's newer options (Labels, ResponseContent, ...) only read
      {"POST", "/tools/find", kStaffRoles},
      {"POST", "/tools/count-resources", kAdminOnly},
      // GET on the archive and media tools (1.12.2), like their POST
      {"GET", "/tools/create-archive", kStaffRoles},
      {"GET", "/tools/create-media", kStaffRoles},
      {"GET", "/tools/create-media-extended", kStaffRoles},
      {"HEAD", "/tools/create-archive", kStaffRoles},
      {"PUT", "/tools/create-archive", kAdminOnly},
      // jobs: read by staff, managed (and now deleted) by those who correct
      {"GET", "/jobs/j1", kStaffRoles},
      {"GET", "/jobs/j1/archive", kStaffRoles},
      {"DELETE", "/jobs/j1", kCorrectRoles},
      {"DELETE", "/jobs/j1/archive", kCorrectRoles},
      {"DELETE", "/jobs", kAdminOnly},
      {"DELETE", "/jobs/j1/archive/x", kAdminOnly},
      // C-GET SCU (1.12.6): its JSON body is not checked by the body guard yet
      {"POST", "/modalities/CT1/get", kAdminOnly},
      {"POST", "/modalities/CT1/move", kClinicalRoles},
      // bulk routes
      {"POST", "/tools/bulk-content", kAdminOnly},
      {"POST", "/tools/bulk-delete", kAdminOnly},
      {"POST", "/tools/bulk-modify", kAdminOnly},
      {"POST", "/tools/bulk-anonymize", kAdminOnly},
      {"GET", "/tools/bulk-content", kAdminOnly},
  };
  for (const Case& c : cases) {
    for (Role role : kAll) {
      bool expected = false;
      switch (c.who) {
        case kStaffRoles:
          expected = role != Role::kPeer;
          break;
        case kClinicalRoles:
          expected = role == Role::kAdmin || role == Role::kRadiologist || role == Role::kTechnician;
          break;
        case kCorrectRoles:
          expected = role == Role::kAdmin || role == Role::kTechnician;
          break;
        case kAdminOnly:
          expected = role == Role::kAdmin;
          break;
      }
      EXPECT_EQ(expected, Allowed(role, c.method, c.path))
          << c.method << " " << c.path << " as " << RoleName(role);
    }
  }
}

TEST(PermissionTable, EachNewerRouteHasItsOwnRuleNotTheCatchAll) {
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/tools/labels"},
                                                        {"POST", "/tools/count-resources"},
                                                        {"GET", "/tools/create-archive"},
                                                        {"DELETE", "/jobs/j1"},
                                                        {"DELETE", "/jobs/j1/archive"},
                                                        {"POST", "/modalities/CT1/get"},
                                                        {"POST", "/tools/bulk-content"},
                                                        {"POST", "/tools/bulk-delete"},
                                                        {"POST", "/tools/bulk-modify"},
                                                        {"POST", "/tools/bulk-anonymize"}}) {
    const PermissionRule* rule = Table().Find(method, path);
    ASSERT_NE(nullptr, rule) << method << " " << path;
    EXPECT_NE("/**", rule->pattern) << method << " " << path << " is decided by the catch-all";
    EXPECT_GE(rule->why.size(), 20u) << method << " " << path << ": the decision says why";
  }
}
