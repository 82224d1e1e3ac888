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

std::vector<PermissionRule> BuiltInRules(const PermissionOptions& options) {
  const std::string kResources[] = {"patients", "studies", "series", "instances"};
  std::vector<PermissionRule> rules = {
      {"GET", "/", kStaff, "Orthanc's home redirects to Orthanc Explorer"},
      {"GET", "/favicon.ico", kStaff, "browser icon"},
      {"GET", "/app/**", kStaff, "Orthanc Explorer's pages; every call they make is checked on its own"},
      {"GET", "/plugins/explorer.js", kStaff, "Orthanc Explorer extensions of the plugins"},
      {"GET", "/system", kStaff, "Orthanc version and name"},
      {"GET", "/statistics", kStaff, "counts of stored resources"},
      {"POST", "/instances", kClinical, "upload of DICOM files"},
      {"POST", "/tools/find", kStaff,
       "search; its newer options (Labels 1.12+, ResponseContent, OrderBy, MetadataQuery 1.12.5+) only read, "
       "so staff may use them; audited as searches"},
      {"POST", "/tools/lookup", kStaff, "look up a DICOM identifier"},
      {"POST", "/tools/create-archive,/tools/create-media,/tools/create-media-extended", kStaff,
       "download several"},
      {"GET", "/tools/create-archive,/tools/create-media,/tools/create-media-extended", kStaff,
       "download several, named in ?resources= (1.12.2+): the same download as the POST"},
      {"GET", "/tools/labels", kStaff,
       "the label names in use (Orthanc 1.12+), for Orthanc Explorer's filters; names no patient or study"},
      {"GET", "/tools/now,/tools/now-local,/tools/dicom-conformance,/tools/generate-uid", kStaff,
       "small helpers"},
      {"GET", "/modalities,/modalities/*,/peers,/peers/*", kClinical,
       "list DICOM modalities and Orthanc peers"},
      {"POST", "/modalities/*/echo,/modalities/*/store,/modalities/*/query,/modalities/*/move,/peers/*/store",
       kClinical, "send to, query and retrieve from modalities and peers"},
      {"GET,POST,DELETE", "/queries/**", kClinical, "results of C-FIND queries and their retrieval"},
      {"GET", "/jobs,/jobs/**", kStaff, "progress of downloads and transfers"},
      {"POST", "/jobs/*/cancel,/jobs/*/pause,/jobs/*/resume,/jobs/*/resubmit", kCorrect, "manage jobs"},
      {"DELETE", "/jobs/*,/jobs/*/*", kCorrect,
       "remove a finished job from the history (1.12.2+) or an asynchronous job's output (1.12.1+): managing "
       "jobs, like cancel"},
      // Admin only, said explicitly (the last line would too): these read a
      // JSON body that Security/BodyGuard.cpp does not check yet, so no other
      // role may send Orthanc one.
      {"POST", "/modalities/*/get", kAdmin,
       "C-GET retrieve (1.12.6+): clinical once its JSON body is checked like /move's, admin until then"},
      {"POST", "/tools/count-resources", kAdmin,
       "counts matching a /tools/find query (1.12.5+); unchecked JSON body, and staff have /statistics"},
      {"POST", "/tools/bulk-content", kAdmin,
       "the tags of many resources at once: a read of patient data, with an unchecked JSON body"},
      {"POST", "/tools/bulk-delete,/tools/bulk-modify,/tools/bulk-anonymize", kAdmin,
       "delete, modify or anonymize many resources at once; staff change one resource at a time"},
      {"*", "/dicom-web/servers,/dicom-web/servers/**", kAdmin,
       "the DICOMweb plugin's client: remote DICOMweb servers, querying them and sending to them"},
      {"GET", "/dicom-web/**,/wado", options.dicomWebReaders,
       "DICOMweb reads (QIDO-RS, WADO-RS, WADO-URI; the DICOMweb plugin): the viewer's roles, clinical, and "
       "reception with Viewer.AllowReception; audited once per study and user"},
      {"POST", "/dicom-web/studies,/dicom-web/studies/*", kClinical, "DICOMweb STOW-RS upload"},
  };
  for (const std::string& level : kResources) {
    const std::string base = "/" + level;
    rules.push_back(
        {"GET", base + "," + base + "/**", kStaff,
         "read " + level + ": tags, files, previews, metadata, labels (1.12+); audited as views"});
    rules.push_back({"POST", base + "/*/archive," + base + "/*/media", kStaff, "download " + level});
    rules.push_back(
        {"POST", base + "/*/modify," + base + "/*/anonymize", kCorrect, "correct or anonymize " + level});
    rules.push_back(
        {"PUT,DELETE", base + "/*/metadata/*," + base + "/*/labels/*", kCorrect,
         "annotate " + level + " with metadata and labels (1.12+; reading them is the read above)"});
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

PermissionTable::PermissionTable(const PermissionOptions& options) : rules_(BuiltInRules(options)) {}

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
