#include "Security/PermissionTable.h"

#include "Common/Router.h"

namespace HospitalBridge {
namespace {
const RoleSet kStaff = RoleSet::Staff();
const RoleSet kClinical = {Role::kAdmin, Role::kRadiologist, Role::kTechnician};
const RoleSet kCorrect = {Role::kAdmin, Role::kTechnician};
const RoleSet kAdmin = {Role::kAdmin};

bool MethodMatches(const std::string& methods, const std::string& method) {
  if (methods == "*") return true;
  const std::string& effective = method == "HEAD" ? std::string("GET") : method;
  size_t start = 0;
  while (start <= methods.size()) {
    size_t comma = methods.find(',', start);
    if (comma == std::string::npos) comma = methods.size();
    if (methods.compare(start, comma - start, effective) == 0 && comma - start == effective.size())
      return true;
    start = comma + 1;
  }
  return false;
}

std::vector<PermissionRule> BuiltInRules() {
  const std::string kResources[] = {"patients", "studies", "series", "instances"};
  std::vector<PermissionRule> rules = {
      {"GET", "/", kStaff, "Orthanc's home redirects to Orthanc Explorer"},
      {"GET", "/favicon.ico", kStaff, "browser icon"},
      {"GET", "/app/**", kStaff, "Orthanc Explorer's pages; every call they make is checked on its own"},
      {"GET", "/plugins/explorer.js", kStaff, "Orthanc Explorer extensions of the plugins"},
      {"GET", "/system", kStaff, "Orthanc version and name"},
      {"GET", "/statistics", kStaff, "counts of stored resources"},
      {"POST", "/instances", kClinical, "upload of DICOM files"},
      {"POST", "/tools/find", kStaff, "search"},
      {"POST", "/tools/lookup", kStaff, "look up a DICOM identifier"},
      {"POST", "/tools/create-archive,/tools/create-media,/tools/create-media-extended", kStaff,
       "download several"},
      {"GET", "/tools/now,/tools/now-local,/tools/dicom-conformance,/tools/generate-uid", kStaff,
       "small helpers"},
      {"GET", "/modalities,/modalities/*,/peers,/peers/*", kClinical,
       "list DICOM modalities and Orthanc peers"},
      {"POST", "/modalities/*/echo,/modalities/*/store,/modalities/*/query,/modalities/*/move,/peers/*/store",
       kClinical, "send to, query and retrieve from modalities and peers"},
      {"GET,POST,DELETE", "/queries/**", kClinical, "results of C-FIND queries and their retrieval"},
      {"GET", "/jobs,/jobs/**", kStaff, "progress of downloads and transfers"},
      {"POST", "/jobs/*/cancel,/jobs/*/pause,/jobs/*/resume,/jobs/*/resubmit", kCorrect, "manage jobs"},
      {"GET", "/dicom-web/**,/wado", kStaff, "DICOMweb reads (when the DICOMweb plugin is installed)"},
      {"POST", "/dicom-web/studies,/dicom-web/studies/*", kClinical, "DICOMweb STOW-RS upload"},
  };
  for (const std::string& level : kResources) {
    const std::string base = "/" + level;
    rules.push_back({"GET", base + "," + base + "/**", kStaff, "read " + level});
    rules.push_back({"POST", base + "/*/archive," + base + "/*/media", kStaff, "download " + level});
    rules.push_back(
        {"POST", base + "/*/modify," + base + "/*/anonymize", kCorrect, "correct or anonymize " + level});
    rules.push_back(
        {"PUT,DELETE", base + "/*/metadata/*," + base + "/*/labels/*", kCorrect, "annotate " + level});
    rules.push_back({"DELETE", base + "/*", kAdmin, "delete " + level});
  }
  rules.push_back({"POST", "/studies/*/merge,/studies/*/split", kCorrect, "merge or split studies"});
  // Everything else: configuration of modalities and peers, /tools/execute-script,
  // /tools/reset, /tools/shutdown, /plugins, /changes, /exports, ...
  rules.push_back({"*", "/**", kAdmin, "everything not listed above: administrators only"});
  return rules;
}
}  // namespace

bool PathMatchesPattern(const std::string& pattern, const std::string& path) {
  std::vector<std::string> expected = SplitPath(pattern);
  std::vector<std::string> actual = SplitPath(path);
  for (size_t i = 0; i < expected.size(); i++) {
    if (expected[i] == "**") return true;
    if (i >= actual.size()) return false;
    if (expected[i] != "*" && expected[i] != actual[i]) return false;
  }
  return expected.size() == actual.size();
}

PermissionTable::PermissionTable() : rules_(BuiltInRules()) {}

const PermissionRule* PermissionTable::Find(const std::string& method, const std::string& path) const {
  // Paths that try to climb out of a route are never matched.
  for (const std::string& segment : SplitPath(path)) {
    if (segment == "." || segment == "..") return nullptr;
  }
  for (const PermissionRule& rule : rules_) {
    if (!MethodMatches(rule.methods, method)) continue;
    size_t start = 0;
    while (start <= rule.pattern.size()) {
      size_t comma = rule.pattern.find(',', start);
      if (comma == std::string::npos) comma = rule.pattern.size();
      if (PathMatchesPattern(rule.pattern.substr(start, comma - start), path)) return &rule;
      start = comma + 1;
    }
  }
  return nullptr;
}

bool PermissionTable::Allows(Role role, const std::string& method, const std::string& path) const {
  const PermissionRule* rule = Find(method, path);
  return rule != nullptr && rule->roles.Contains(role);
}

}  // namespace HospitalBridge
