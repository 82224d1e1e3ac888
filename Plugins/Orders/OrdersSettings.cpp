#include "Orders/OrdersSettings.h"

#include "Common/Text.h"
#include "Orders/Order.h"

namespace HospitalBridge {
namespace {
// Numbers separated by dots, without leading zeros ("1.2.840.10008").
bool IsUidRoot(const std::string& root) {
  size_t start = 0;
  int components = 0;
  while (start <= root.size()) {
    size_t end = root.find('.', start);
    if (end == std::string::npos) end = root.size();
    const std::string part = root.substr(start, end - start);
    if (!Text::IsDigits(part, 1, 30) || (part.size() > 1 && part[0] == '0')) return false;
    components++;
    start = end + 1;
  }
  return components >= 2;
}
}  // namespace

std::string ExpandAccessionPattern(const std::string& pattern, const std::string& date,
                                   const std::string& site, int64_t sequence, std::string* prefix) {
  std::string out;
  size_t i = 0;
  bool sequenceSeen = false;
  while (i < pattern.size()) {
    if (pattern[i] != '{') {
      out += pattern[i++];
      continue;
    }
    const size_t end = pattern.find('}', i);
    if (end == std::string::npos) throw std::invalid_argument("a '{' without '}'");
    const std::string token = pattern.substr(i + 1, end - i - 1);
    if (token == "YYYY") {
      out += date.substr(0, 4);
    } else if (token == "YY") {
      out += date.substr(2, 2);
    } else if (token == "MM") {
      out += date.substr(4, 2);
    } else if (token == "DD") {
      out += date.substr(6, 2);
    } else if (token == "SITE") {
      out += site;
    } else if (token.rfind("SEQ:", 0) == 0 && Text::IsDigits(token.substr(4), 1, 1)) {
      if (sequenceSeen) throw std::invalid_argument("{SEQ:n} may appear once");
      sequenceSeen = true;
      if (prefix != nullptr) *prefix = out;
      std::string number = std::to_string(sequence);
      const size_t width = static_cast<size_t>(std::stoi(token.substr(4)));
      if (number.size() < width) number.insert(0, width - number.size(), '0');
      out += number;
    } else {
      throw std::invalid_argument("unknown placeholder {" + token + "}");
    }
    i = end + 1;
  }
  if (!sequenceSeen) throw std::invalid_argument("the pattern needs {SEQ:n} (n from 1 to 9)");
  return out;
}

OrdersSettings ReadOrdersSettings(const SettingsReader& read) {
  OrdersSettings orders;
  orders.enabled = read.ModuleEnabled("Orders");
  orders.accessionPattern = read.String("Orders.AccessionPattern");
  try {
    // As long as it gets while the counter fits its width, with this site.
    const std::string longest =
        ExpandAccessionPattern(orders.accessionPattern, "20261231", read.String("Site.Id"), 1);
    if (longest.size() > 16) {
      SettingsReader::Invalid(
          "Orders.AccessionPattern",
          "gives \"" + longest + "\", longer than the 16 characters of an accession number");
    }
    if (!Text::IsIdentifier(longest, "-._/", 1, 64)) {
      SettingsReader::Invalid(
          "Orders.AccessionPattern",
          "may hold only letters, digits, '-', '.', '_' and '/' besides its placeholders");
    }
  } catch (const std::invalid_argument& e) {
    SettingsReader::Invalid("Orders.AccessionPattern", e.what());
  }
  orders.studyUidRoot = read.String("Orders.StudyUidRoot");
  if (!orders.studyUidRoot.empty() && (!IsUidRoot(orders.studyUidRoot) || orders.studyUidRoot.size() > 30)) {
    SettingsReader::Invalid(
        "Orders.StudyUidRoot",
        "must be a UID root such as 1.2.826.0.1.3680043.10.1234 (at most 30 characters), got \"" +
            orders.studyUidRoot + "\"");
  }
  orders.pastGraceMinutes = read.Int("Orders.PastGraceMinutes", 0, 10080);
  orders.listUnmatchedStudies = read.Bool("Orders.Reconciliation.ListUnmatchedStudies");

  WorklistSettings& worklist = orders.worklist;
  worklist.enabled = read.Bool("Orders.Worklist.Enabled");
  worklist.statuses = read.StringList("Orders.Worklist.Statuses");
  for (const std::string& status : worklist.statuses) {
    if (status != OrderStatus::kScheduled && status != OrderStatus::kArrived &&
        status != OrderStatus::kInProgress) {
      SettingsReader::Invalid("Orders.Worklist.Statuses",
                              "may list scheduled, arrived and in-progress, got \"" + status + "\"");
    }
  }
  if (worklist.statuses.empty()) SettingsReader::Invalid("Orders.Worklist.Statuses", "must not be empty");
  worklist.maxAnswers = read.Int("Orders.Worklist.MaxAnswers", 1, 10000);
  worklist.allowUnlistedCallingAets = read.Bool("Orders.Worklist.AllowUnlistedCallingAets");
  worklist.modalitiesRefreshSeconds = read.Int("Orders.Worklist.ModalitiesRefreshSeconds", 1, 3600);
  const Json::Value& orthanc = read.Orthanc();
  worklist.casesensitivePn =
      orthanc.get("CaseSensitivePN", false).isBool() && orthanc["CaseSensitivePN"].asBool();
  worklist.answerEncoding = orthanc.get("DefaultEncoding", "Latin1").isString()
                                ? orthanc.get("DefaultEncoding", "Latin1").asString()
                                : "Latin1";
  worklist.configuredModalities = orthanc.get("DicomModalities", Json::Value(Json::objectValue));

  FhirSettings& fhir = orders.fhir;
  fhir.accessionSystems = read.StringList("Orders.Fhir.AccessionSystems");
  fhir.patientIdSystems = read.StringList("Orders.Fhir.PatientIdSystems");
  fhir.nationalIdSystems = read.StringList("Orders.Fhir.NationalIdSystems");
  fhir.modalitySystems = read.StringList("Orders.Fhir.ModalitySystems");
  fhir.stationAetSystems = read.StringList("Orders.Fhir.StationAetSystems");
  fhir.placerSystems = read.StringList("Orders.Fhir.PlacerSystems");
  return orders;
}

}  // namespace HospitalBridge
