#pragma once
// Which role may call which of Orthanc's own routes (HospitalBridge's routes
// carry their roles in the router). Rules are read top to bottom, the first
// that matches the method and path decides; a request that no rule matches is
// refused. The table is documented in README.md ("Permissions").
#include <string>
#include <vector>

#include "Common/Identity.h"

namespace HospitalBridge {

struct PermissionRule {
  std::string methods;  // "GET", "GET,POST", or "*"
  std::string pattern;  // segments; "*" = one segment, trailing "**" = the rest
  RoleSet roles;
  std::string why;  // shown in the documentation
};

// What the configuration changes in the built-in table.
struct PermissionOptions {
  // Who may read DICOMweb (QIDO-RS, WADO-RS, WADO-URI): the viewer's roles,
  // admin, radiologist and technician; reception too with
  // Viewer.AllowReception.
  RoleSet dicomWebReaders{Role::kAdmin, Role::kRadiologist, Role::kTechnician};
};

class PermissionTable {
 public:
  PermissionTable() : PermissionTable(PermissionOptions{}) {}  // the built-in table
  explicit PermissionTable(const PermissionOptions& options);
  explicit PermissionTable(std::vector<PermissionRule> rules) : rules_(std::move(rules)) {}

  bool Allows(Role role, const std::string& method, const std::string& path) const;
  // The first matching rule, or nullptr.
  const PermissionRule* Find(const std::string& method, const std::string& path) const;
  const std::vector<PermissionRule>& Rules() const { return rules_; }

 private:
  std::vector<PermissionRule> rules_;
};

bool PathMatchesPattern(const std::string& pattern, const std::string& path);

}  // namespace HospitalBridge
