#include "Router/RouterSettings.h"

#include <regex.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

#include "Common/Text.h"

namespace HospitalBridge {
namespace {
const std::vector<std::string> kDestinationKeys = {"Name",      "Type",           "Target",
                                                   "Url",       "Environment",    "Auth",
                                                   "Username",  "SecretFile",     "SecretEnvironmentVariable",
                                                   "TokenUrl",  "OrganizationId", "PatientIdentifierSystem",
                                                   "CaFile",    "TimeoutMs",      "MaxConcurrent",
                                                   "BatchSize", "Schedule"};
const std::vector<std::string> kRuleKeys = {
    "Name",        "Trigger",      "Destinations",       "Modalities",
    "CallingAets", "Institutions", "DescriptionPattern", "RequireOrder",
    "Consent"};

void CheckKeys(const Json::Value& item, const std::string& at, const std::vector<std::string>& known) {
  if (!item.isObject()) SettingsReader::Invalid(at, "must be an object");
  for (const std::string& key : item.getMemberNames()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      SettingsReader::Invalid(at + "." + key, "unknown option (known: " + list + ")");
    }
  }
}

std::string StringAt(const Json::Value& item, const std::string& at, const char* key,
                     const std::string& fallback) {
  if (!item.isMember(key)) return fallback;
  if (!item[key].isString()) SettingsReader::Invalid(at + "." + key, "must be a string");
  return item[key].asString();
}

int IntAt(const Json::Value& item, const std::string& at, const char* key, int fallback, int min, int max) {
  if (!item.isMember(key)) return fallback;
  const Json::Value& value = item[key];
  if (!value.isInt() || value.asInt() < min || value.asInt() > max) {
    SettingsReader::Invalid(
        at + "." + key, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value.asInt();
}

std::vector<std::string> ListAt(const Json::Value& item, const std::string& at, const char* key) {
  std::vector<std::string> values;
  if (!item.isMember(key)) return values;
  if (!item[key].isArray()) SettingsReader::Invalid(at + "." + key, "must be a list of strings");
  for (const Json::Value& value : item[key]) {
    if (!value.isString() || value.asString().empty())
      SettingsReader::Invalid(at + "." + key, "must be a list of non-empty strings");
    values.push_back(value.asString());
  }
  return values;
}

// The secret named by a file or an environment variable; "" when neither is
// set. The value itself is never part of a message.
std::string ReadSecret(const Json::Value& item, const std::string& at) {
  const std::string file = StringAt(item, at, "SecretFile", "");
  const std::string variable = StringAt(item, at, "SecretEnvironmentVariable", "");
  if (!file.empty() && !variable.empty())
    SettingsReader::Invalid(at, "set SecretFile or SecretEnvironmentVariable, not both");
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) SettingsReader::Invalid(at + ".SecretFile", "cannot read " + file);
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' '))
      line.pop_back();
    if (line.empty()) SettingsReader::Invalid(at + ".SecretFile", "the first line of " + file + " is empty");
    return line;
  }
  if (!variable.empty()) {
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr || *value == '\0')
      SettingsReader::Invalid(at + ".SecretEnvironmentVariable", "the environment has no " + variable);
    return value;
  }
  return "";
}

bool IsHttpUrl(const std::string& url) {
  const size_t scheme = url.rfind("https://", 0) == 0 ? 8 : (url.rfind("http://", 0) == 0 ? 7 : 0);
  return scheme > 0 && url.size() > scheme && url.find_first_of(" \t\r\n\"<>") == std::string::npos;
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

RouterDestination ReadDestination(const SettingsReader& read, const Json::Value& item,
                                  const std::string& at) {
  CheckKeys(item, at, kDestinationKeys);
  RouterDestination d;
  d.name = StringAt(item, at, "Name", "");
  if (!Text::IsIdentifier(d.name, "-_.", 1, 64))
    SettingsReader::Invalid(at + ".Name", "use 1 to 64 letters, digits, '-', '_' or '.'");
  const std::string type = StringAt(item, at, "Type", "");
  if (type == "dicom") {
    d.kind = DestinationKind::kDicom;
  } else if (type == "peer") {
    d.kind = DestinationKind::kPeer;
  } else if (type == "dicomweb") {
    d.kind = DestinationKind::kDicomWeb;
  } else if (type == "fhir") {
    d.kind = DestinationKind::kFhir;
  } else if (type == "satusehat") {
    d.kind = DestinationKind::kSatusehat;
  } else {
    SettingsReader::Invalid(at + ".Type", "must be one of dicom, peer, dicomweb, fhir, satusehat");
  }
  d.target = StringAt(item, at, "Target", "");
  d.url = TrimSlash(StringAt(item, at, "Url", ""));
  d.username = StringAt(item, at, "Username", "");
  d.secret = ReadSecret(item, at);
  d.tokenUrl = StringAt(item, at, "TokenUrl", "");
  d.organizationId = StringAt(item, at, "OrganizationId", "");
  d.patientSystem = StringAt(item, at, "PatientIdentifierSystem", "urn:hospitalbridge:patient-id");
  d.caFile = StringAt(item, at, "CaFile", "");
  if (!d.caFile.empty() && !std::ifstream(d.caFile))
    SettingsReader::Invalid(at + ".CaFile", "cannot read " + d.caFile);
  d.timeoutMs = IntAt(item, at, "TimeoutMs", 30000, 1000, 600000);
  d.maxConcurrent = IntAt(item, at, "MaxConcurrent", 1, 1, 16);
  d.batchInstances = IntAt(item, at, "BatchSize", 50, 1, 1000);
  const std::string schedule = StringAt(item, at, "Schedule", "");
  if (!schedule.empty() && !ParseSchedule(schedule, d.sendFromMinute, d.sendUntilMinute))
    SettingsReader::Invalid(at + ".Schedule", "must be \"HH:MM-HH:MM\" (local time), e.g. \"20:00-06:00\"");
  const std::string auth = StringAt(item, at, "Auth", "none");
  if (auth == "none") {
    d.auth = DestinationAuth::kNone;
  } else if (auth == "basic") {
    d.auth = DestinationAuth::kBasic;
  } else if (auth == "bearer") {
    d.auth = DestinationAuth::kBearer;
  } else if (auth == "oauth2") {
    d.auth = DestinationAuth::kOAuth2;
  } else {
    SettingsReader::Invalid(at + ".Auth", "must be one of none, basic, bearer, oauth2");
  }

  switch (d.kind) {
    case DestinationKind::kDicom:
    case DestinationKind::kPeer: {
      const char* section = d.kind == DestinationKind::kDicom ? "DicomModalities" : "OrthancPeers";
      if (d.target.empty())
        SettingsReader::Invalid(at + ".Target", std::string("names an entry of Orthanc's ") + section);
      const Json::Value& known = read.Orthanc()[section];
      if (known.isObject() && !known.isMember(d.target))
        SettingsReader::Invalid(at + ".Target",
                                "Orthanc's " + std::string(section) + " has no \"" + d.target + "\"");
      break;
    }
    case DestinationKind::kSatusehat: {
      const std::string environment = StringAt(item, at, "Environment", "");
      if (d.url.empty()) {
        if (environment != "development" && environment != "staging" && environment != "production")
          SettingsReader::Invalid(at + ".Environment",
                                  "must be development, staging or production (or set Url)");
        d.url = TrimSlash(read.String("Router.Satusehat." +
                                      std::string(1, static_cast<char>(std::toupper(environment[0]))) +
                                      environment.substr(1)));
      }
      if (d.url.rfind("https://", 0) != 0)
        SettingsReader::Invalid(at + ".Url", "must be an https:// address");
      if (!Text::IsIdentifier(d.organizationId, "-", 1, 64))
        SettingsReader::Invalid(at + ".OrganizationId", "the SATUSEHAT organization id is required");
      if (d.username.empty())
        SettingsReader::Invalid(at + ".Username", "the SATUSEHAT client key is required");
      if (d.secret.empty())
        SettingsReader::Invalid(
            at, "the SATUSEHAT secret key comes from SecretFile or SecretEnvironmentVariable");
      d.auth = DestinationAuth::kOAuth2;
      d.tokenUrl = d.url + "/oauth2/v1/accesstoken?grant_type=client_credentials";
      break;
    }
    case DestinationKind::kDicomWeb:
    case DestinationKind::kFhir:
      if (!IsHttpUrl(d.url)) SettingsReader::Invalid(at + ".Url", "must be an http:// or https:// address");
      if (d.auth == DestinationAuth::kBasic && d.username.empty())
        SettingsReader::Invalid(at + ".Username", "basic authentication needs a user name");
      if (d.auth != DestinationAuth::kNone && d.secret.empty())
        SettingsReader::Invalid(at, "the secret comes from SecretFile or SecretEnvironmentVariable");
      if (d.auth == DestinationAuth::kOAuth2 && (!IsHttpUrl(d.tokenUrl) || d.username.empty()))
        SettingsReader::Invalid(at, "oauth2 needs TokenUrl and Username (the client id)");
      break;
  }
  return d;
}

RouterRule ReadRule(const Json::Value& item, const std::string& at, const std::set<std::string>& destinations,
                    const std::vector<RouterDestination>& all) {
  CheckKeys(item, at, kRuleKeys);
  RouterRule rule;
  rule.name = StringAt(item, at, "Name", "");
  if (rule.name.empty() || rule.name.size() > 64) SettingsReader::Invalid(at + ".Name", "1 to 64 characters");
  const std::string trigger = StringAt(item, at, "Trigger", "study");
  if (trigger == "study") {
    rule.trigger = RuleTrigger::kStudy;
  } else if (trigger == "report") {
    rule.trigger = RuleTrigger::kReport;
  } else {
    SettingsReader::Invalid(at + ".Trigger",
                            "must be study (a study is complete) or report (a report is signed)");
  }
  rule.destinations = ListAt(item, at, "Destinations");
  if (rule.destinations.empty())
    SettingsReader::Invalid(at + ".Destinations", "names at least one destination");
  for (const std::string& name : rule.destinations) {
    if (destinations.count(name) == 0)
      SettingsReader::Invalid(at + ".Destinations", "unknown destination \"" + name + "\"");
    if (rule.trigger == RuleTrigger::kReport) {
      for (const RouterDestination& d : all) {
        if (d.name == name && d.kind != DestinationKind::kFhir && d.kind != DestinationKind::kSatusehat)
          SettingsReader::Invalid(at + ".Destinations",
                                  "a report goes to a fhir or satusehat destination, not \"" + name + "\"");
      }
    }
  }
  rule.modalities = ListAt(item, at, "Modalities");
  rule.callingAets = ListAt(item, at, "CallingAets");
  rule.institutions = ListAt(item, at, "Institutions");
  rule.descriptionPattern = StringAt(item, at, "DescriptionPattern", "");
  if (!rule.descriptionPattern.empty()) {
    regex_t compiled;
    if (regcomp(&compiled, rule.descriptionPattern.c_str(), REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
      SettingsReader::Invalid(at + ".DescriptionPattern", "is not a valid extended regular expression");
    regfree(&compiled);
  }
  if (item.isMember("RequireOrder")) {
    if (!item["RequireOrder"].isBool())
      SettingsReader::Invalid(at + ".RequireOrder", "must be true or false");
    rule.requireOrder = item["RequireOrder"].asBool();
  }
  const std::string consent = StringAt(item, at, "Consent", "Federation");
  if (consent == "None") {
    rule.consent = RuleConsent::kNone;
  } else if (consent == "Share") {
    rule.consent = RuleConsent::kShare;
  } else if (consent == "Federation") {
    rule.consent = RuleConsent::kFederation;
  } else if (consent == "Research") {
    rule.consent = RuleConsent::kResearch;
  } else {
    SettingsReader::Invalid(at + ".Consent", "must be None, Share, Federation or Research");
  }
  return rule;
}
}  // namespace

const char* DestinationKindName(DestinationKind kind) {
  switch (kind) {
    case DestinationKind::kDicom:
      return "dicom";
    case DestinationKind::kPeer:
      return "peer";
    case DestinationKind::kDicomWeb:
      return "dicomweb";
    case DestinationKind::kFhir:
      return "fhir";
    case DestinationKind::kSatusehat:
      return "satusehat";
  }
  return "?";
}

const RouterDestination* RouterSettings::Destination(const std::string& name) const {
  for (const RouterDestination& d : destinations) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

bool ParseSchedule(const std::string& text, int& fromMinute, int& untilMinute) {
  int h1 = 0;
  int m1 = 0;
  int h2 = 0;
  int m2 = 0;
  char tail = 0;
  if (text.size() != 11 || std::sscanf(text.c_str(), "%2d:%2d-%2d:%2d%c", &h1, &m1, &h2, &m2, &tail) != 4)
    return false;
  if (h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0) return false;
  fromMinute = h1 * 60 + m1;
  untilMinute = h2 * 60 + m2;
  return fromMinute != untilMinute;
}

std::string ScheduleText(int fromMinute, int untilMinute) {
  if (fromMinute < 0) return "";
  char text[48];  // room for any int, to keep -Wformat-truncation quiet
  std::snprintf(text, sizeof(text), "%02d:%02d-%02d:%02d", fromMinute / 60, fromMinute % 60, untilMinute / 60,
                untilMinute % 60);
  return text;
}

bool InSchedule(int fromMinute, int untilMinute, int minuteOfDay) {
  if (fromMinute < 0) return true;
  if (fromMinute < untilMinute) return minuteOfDay >= fromMinute && minuteOfDay < untilMinute;
  return minuteOfDay >= fromMinute || minuteOfDay < untilMinute;
}

RouterSettings ReadRouterSettings(const SettingsReader& read) {
  RouterSettings settings;
  settings.enabled = read.ModuleEnabled("Router");
  if (settings.enabled && !read.ModuleEnabled("StudyIndex")) {
    SettingsReader::Invalid("Modules.Router",
                            "needs Modules.StudyIndex (studies are routed once the index says "
                            "they are complete)");
  }
  settings.retryMinSeconds = read.Int("Router.Retry.MinDelaySeconds", 1, 86400);
  settings.retryMaxSeconds = read.Int("Router.Retry.MaxDelaySeconds", settings.retryMinSeconds, 7 * 86400);
  settings.maxAttempts = read.Int("Router.Retry.MaxAttempts", 1, 100000);
  settings.waitingRecheckSeconds = read.Int("Router.WaitingRecheckSeconds", 1, 86400);
  settings.timeZoneOffset = read.String("Router.TimeZoneOffset");
  if (settings.timeZoneOffset.size() != 6 ||
      (settings.timeZoneOffset[0] != '+' && settings.timeZoneOffset[0] != '-') ||
      settings.timeZoneOffset[3] != ':' || !Text::IsDigits(settings.timeZoneOffset.substr(1, 2), 2, 2) ||
      !Text::IsDigits(settings.timeZoneOffset.substr(4, 2), 2, 2)) {
    SettingsReader::Invalid("Router.TimeZoneOffset", "must be like \"+07:00\"");
  }
  for (const char* environment : {"Development", "Staging", "Production"}) {
    if (read.String(std::string("Router.Satusehat.") + environment).rfind("https://", 0) != 0)
      SettingsReader::Invalid(std::string("Router.Satusehat.") + environment, "must be an https:// address");
  }
  std::set<std::string> names;
  const Json::Value& destinations = read.At("Router.Destinations");
  for (Json::ArrayIndex i = 0; i < destinations.size(); i++) {
    const std::string at = "Router.Destinations[" + std::to_string(i) + "]";
    RouterDestination d = ReadDestination(read, destinations[i], at);
    if (!names.insert(d.name).second)
      SettingsReader::Invalid(at + ".Name", "\"" + d.name + "\" is used twice");
    settings.destinations.push_back(d);
  }
  const Json::Value& rules = read.At("Router.Rules");
  for (Json::ArrayIndex i = 0; i < rules.size(); i++) {
    settings.rules.push_back(
        ReadRule(rules[i], "Router.Rules[" + std::to_string(i) + "]", names, settings.destinations));
  }
  const Json::Value& saveJobs = read.Orthanc()["SaveJobs"];
  for (const RouterDestination& d : settings.destinations) {
    if ((d.kind == DestinationKind::kDicom || d.kind == DestinationKind::kPeer) &&
        !(saveJobs.isBool() && !saveJobs.asBool()))
      settings.orthancResumesStoreJobs = true;
  }
  return settings;
}

}  // namespace HospitalBridge
