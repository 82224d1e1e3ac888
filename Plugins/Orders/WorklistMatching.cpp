#include "Orders/WorklistMatching.h"

#include <algorithm>

#include "Common/Errors.h"
#include "Common/Text.h"

namespace HospitalBridge {
namespace {
const char kStepSequence[] = "0040,0100";
const char kProcedureCodes[] = "0032,1064";
const char kProtocolCodes[] = "0040,0008";

std::vector<uint32_t> Decode(const std::string& utf8) {
  std::vector<uint32_t> out;
  const std::string text = Text::ToValidUtf8(utf8);
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    int length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    uint32_t cp = length == 1 ? c : length == 2 ? (c & 0x1F) : length == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < length && i + k < text.size(); k++) {
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += length;
  }
  return out;
}

void Encode(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

uint32_t FoldCodePoint(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)) return cp + 32;  // Latin-1
  if (cp >= 0x100 && cp <= 0x137 && cp % 2 == 0) return cp + 1;  // Latin Extended-A
  if (cp >= 0x139 && cp <= 0x148 && cp % 2 == 1) return cp + 1;
  if (cp >= 0x14A && cp <= 0x177 && cp % 2 == 0) return cp + 1;
  if (cp == 0x178) return 0xFF;
  if (cp >= 0x179 && cp <= 0x17E && cp % 2 == 1) return cp + 1;
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;  // Greek
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;                 // Cyrillic
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  return cp;
}

bool WildcardMatchCodePoints(const std::vector<uint32_t>& p, const std::vector<uint32_t>& t) {
  size_t pi = 0, ti = 0, star = std::string::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') pi++;
  return pi == p.size();
}

std::string TrimSpaces(const std::string& text) {
  size_t start = 0, end = text.size();
  while (start < end && (text[start] == ' ' || text[start] == '\0')) start++;
  while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\0')) end--;
  return text.substr(start, end - start);
}

bool HasWildcard(const std::string& text) { return text.find_first_of("*?") != std::string::npos; }

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

bool IsDate(const std::string& da) {
  if (da.size() != 8 || !Text::IsDigits(da, 8, 8)) return false;
  const int month = std::stoi(da.substr(4, 2));
  const int day = std::stoi(da.substr(6, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// "HHMMSS.FFFFFF" with the missing parts filled low (lower bounds) or high.
bool NormalizeTime(std::string tm, bool upper, std::string& out) {
  tm.erase(std::remove(tm.begin(), tm.end(), ':'), tm.end());
  std::string whole = tm, fraction;
  const size_t dot = tm.find('.');
  if (dot != std::string::npos) {
    whole = tm.substr(0, dot);
    fraction = tm.substr(dot + 1);
    if (whole.size() != 6 || fraction.empty() || fraction.size() > 6 || !Text::IsDigits(fraction, 1, 6)) {
      return false;
    }
  }
  if (!(whole.size() == 2 || whole.size() == 4 || whole.size() == 6) || !Text::IsDigits(whole, 2, 6)) {
    return false;
  }
  if (std::stoi(whole.substr(0, 2)) > 23) return false;
  if (whole.size() >= 4 && std::stoi(whole.substr(2, 2)) > 59) return false;
  if (whole.size() == 6 && std::stoi(whole.substr(4, 2)) > 60) return false;
  const std::string fill = upper ? "5959" : "0000";
  whole += fill.substr(0, 6 - whole.size());
  fraction += std::string(6 - fraction.size(), upper && dot == std::string::npos ? '9' : '0');
  out = whole + "." + fraction;
  return true;
}

struct Range {
  std::string low, high;  // "" = open
};

// "A", "A-B", "-B", "A-" for DA and TM; false when malformed.
bool ParseRange(const std::string& vr, const std::string& query, Range& range) {
  const size_t dash = query.find('-');
  std::string low = dash == std::string::npos ? query : query.substr(0, dash);
  std::string high = dash == std::string::npos ? query : query.substr(dash + 1);
  if (dash != std::string::npos && query.find('-', dash + 1) != std::string::npos) return false;
  if (low.empty() && high.empty()) return false;
  if (vr == "DA") {
    if ((!low.empty() && !IsDate(low)) || (!high.empty() && !IsDate(high))) return false;
    range = Range{low, high};
  } else {
    range = Range{};
    if (!low.empty() && !NormalizeTime(low, false, range.low)) return false;
    if (!high.empty() && !NormalizeTime(high, true, range.high)) return false;
  }
  return range.low.empty() || range.high.empty() || range.low <= range.high;
}

std::string PnForMatching(const std::string& pn, bool caseSensitive) {
  // Trailing component and group separators say nothing ("DOE^JOHN^^^").
  std::string text = TrimSpaces(pn);
  std::vector<std::string> groups = Split(text, '=');
  for (std::string& group : groups) {
    std::vector<std::string> components = Split(group, '^');
    for (std::string& component : components) component = TrimSpaces(component);
    while (!components.empty() && components.back().empty()) components.pop_back();
    group.clear();
    for (size_t i = 0; i < components.size(); i++) group += (i > 0 ? "^" : "") + components[i];
  }
  while (!groups.empty() && groups.back().empty()) groups.pop_back();
  text.clear();
  for (size_t i = 0; i < groups.size(); i++) text += (i > 0 ? "=" : "") + groups[i];
  return caseSensitive ? text : FoldCase(text);
}

bool MatchPn(const std::string& query, const std::string& value, bool caseSensitive) {
  const std::string q = PnForMatching(query, caseSensitive);
  const std::string v = PnForMatching(value, caseSensitive);
  if (q.empty() || q == "*") return true;
  const std::vector<std::string> valueGroups = Split(v, '=');
  if (q.find('=') == std::string::npos) {
    // One group asked: the alphabetic, ideographic or phonetic one may match.
    for (const std::string& group : valueGroups) {
      if (!group.empty() && WildcardMatch(q, group)) return true;
    }
    return false;
  }
  const std::vector<std::string> queryGroups = Split(q, '=');
  for (size_t i = 0; i < queryGroups.size(); i++) {
    if (queryGroups[i].empty() || queryGroups[i] == "*") continue;
    const std::string group = i < valueGroups.size() ? valueGroups[i] : "";
    if (!WildcardMatch(queryGroups[i], group)) return false;
  }
  return true;
}

const WorklistAttribute* FindAttribute(const std::string& tag, bool inStep) {
  for (const WorklistAttribute& attribute : WorklistAttributes()) {
    if (tag == attribute.tag && attribute.inStep == inStep) return &attribute;
  }
  return nullptr;
}

std::string Upper(std::string tag) {
  std::transform(tag.begin(), tag.end(), tag.begin(), [](unsigned char c) { return std::toupper(c); });
  return tag;
}

// The string keys and sequences of one dataset level of Orthanc's Full JSON.
void ReadLevel(const Json::Value& level, DicomItem& keys, std::map<std::string, Json::Value>& sequences) {
  if (!level.isObject()) throw DomainError::Invalid("Malformed worklist query", "a dataset is not an object");
  for (const std::string& name : level.getMemberNames()) {
    const Json::Value& element = level[name];
    const std::string tag = Upper(name);
    const std::string type = element.get("Type", "").asString();
    if (type == "Sequence") {
      sequences[tag] = element["Value"];
    } else if (type == "String") {
      keys[tag] = TrimSpaces(element["Value"].asString());
    } else {
      keys[tag] = "";  // Null (empty) or binary: a return key without a value
    }
  }
}

DicomItem OneItem(const std::string& tag, const Json::Value& items,
                  std::map<std::string, Json::Value>* nested) {
  if (!items.isArray()) throw DomainError::Invalid("Malformed worklist query", "sequence " + tag);
  if (items.size() > 1) {
    throw DomainError::Invalid(
        "Malformed worklist query",
        "sequence " + tag + " must hold at most one item in a query, got " + std::to_string(items.size()));
  }
  DicomItem keys;
  std::map<std::string, Json::Value> sequences;
  if (items.size() == 1) ReadLevel(items[0], keys, sequences);
  if (nested != nullptr) *nested = sequences;
  return keys;
}

void AddCodes(const Order& order, std::vector<DicomItem>& codes) {
  if (order.procedureCode.empty()) return;
  codes.push_back({{"0008,0100", order.procedureCode},
                   {"0008,0102", order.procedureScheme.empty() ? "L" : order.procedureScheme},
                   {"0008,0104", order.procedureDescription}});
}

bool MatchSequence(const DicomItem& query, const std::vector<DicomItem>& items) {
  bool any = false;
  for (const auto& [tag, value] : query) any = any || !value.empty();
  if (!any) return true;  // universal
  for (const DicomItem& item : items) {
    bool all = true;
    for (const auto& [tag, value] : query) {
      if (value.empty()) continue;
      auto found = item.find(tag);
      if (!MatchesValue("LO", value, found == item.end() ? "" : found->second, true)) all = false;
    }
    if (all) return true;
  }
  return false;
}

bool MatchLevel(const DicomItem& query, const DicomItem& values, bool inStep, bool caseSensitivePn) {
  for (const auto& [tag, value] : query) {
    if (value.empty()) continue;
    const WorklistAttribute* attribute = FindAttribute(tag, inStep);
    if (attribute == nullptr || !attribute->matching) continue;  // a return key only
    auto found = values.find(tag);
    if (!MatchesValue(attribute->vr, value, found == values.end() ? "" : found->second, caseSensitivePn)) {
      return false;
    }
  }
  return true;
}

std::string Representable(const std::string& text, const std::string& encoding) {
  uint32_t limit = 0x10FFFF;
  if (encoding == "Ascii") limit = 0x7F;
  if (encoding == "Latin1") limit = 0xFF;
  std::string out;
  for (uint32_t cp : Decode(text)) Encode(cp <= limit ? cp : '?', out);
  return out;
}

Json::Value LevelJson(const DicomItem& values, const std::map<std::string, std::vector<DicomItem>>& sequences,
                      const std::string& encoding) {
  Json::Value json(Json::objectValue);
  for (const auto& [tag, value] : values) json[tag] = Representable(value, encoding);
  for (const auto& [tag, items] : sequences) {
    Json::Value list(Json::arrayValue);
    for (const DicomItem& item : items) {
      Json::Value entry(Json::objectValue);
      for (const auto& [key, value] : item) entry[key] = Representable(value, encoding);
      list.append(entry);
    }
    json[tag] = list;
  }
  return json;
}
}  // namespace

const std::vector<WorklistAttribute>& WorklistAttributes() {
  static const std::vector<WorklistAttribute> attributes = {
      {"0008,0050", "SH", false, true},   // AccessionNumber
      {"0008,0090", "PN", false, true},   // ReferringPhysicianName
      {"0010,0010", "PN", false, true},   // PatientName
      {"0010,0020", "LO", false, true},   // PatientID
      {"0010,0021", "LO", false, true},   // IssuerOfPatientID
      {"0010,0030", "DA", false, true},   // PatientBirthDate
      {"0010,0040", "CS", false, true},   // PatientSex
      {"0010,1020", "DS", false, false},  // PatientSize
      {"0010,1030", "DS", false, false},  // PatientWeight
      {"0010,2000", "LO", false, false},  // MedicalAlerts
      {"0010,2110", "LO", false, false},  // Allergies
      {"0020,000D", "UI", false, true},   // StudyInstanceUID
      {"0032,1032", "PN", false, true},   // RequestingPhysician
      {"0032,1060", "LO", false, true},   // RequestedProcedureDescription
      {"0038,0010", "LO", false, false},  // AdmissionID
      {"0038,0300", "LO", false, false},  // CurrentPatientLocation
      {"0040,1001", "SH", false, true},   // RequestedProcedureID
      {"0040,1002", "LO", false, true},   // ReasonForTheRequestedProcedure
      {"0040,1003", "SH", false, true},   // RequestedProcedurePriority
      {"0040,1004", "LO", false, false},  // PatientTransportArrangements
      {"0040,1400", "LT", false, false},  // RequestedProcedureComments
      {"0008,0060", "CS", true, true},    // Modality
      {"0032,1070", "LO", true, false},   // RequestedContrastAgent
      {"0040,0001", "AE", true, true},    // ScheduledStationAETitle
      {"0040,0002", "DA", true, true},    // ScheduledProcedureStepStartDate
      {"0040,0003", "TM", true, true},    // ScheduledProcedureStepStartTime
      {"0040,0006", "PN", true, true},    // ScheduledPerformingPhysicianName
      {"0040,0007", "LO", true, true},    // ScheduledProcedureStepDescription
      {"0040,0009", "SH", true, true},    // ScheduledProcedureStepID
      {"0040,0010", "SH", true, true},    // ScheduledStationName
      {"0040,0011", "SH", true, true},    // ScheduledProcedureStepLocation
      {"0040,0012", "LO", true, false},   // PreMedication
      {"0040,0020", "CS", true, true},    // ScheduledProcedureStepStatus
  };
  return attributes;
}

std::string FoldCase(const std::string& utf8) {
  std::string out;
  for (uint32_t cp : Decode(utf8)) Encode(FoldCodePoint(cp), out);
  return out;
}

bool WildcardMatch(const std::string& pattern, const std::string& text) {
  return WildcardMatchCodePoints(Decode(pattern), Decode(text));
}

void CheckKey(const std::string& tag, const std::string& vr, const std::string& value) {
  if (value.empty() || value == "*") return;
  if (vr == "DA" || vr == "TM") {
    Range range;
    if (!ParseRange(vr, value, range)) {
      throw DomainError::Invalid("Malformed worklist query",
                                 tag + " must be a " + (vr == "DA" ? "date (YYYYMMDD)" : "time (HHMMSS)") +
                                     " or a range of them, got \"" + value + "\"");
    }
  }
}

bool MatchesValue(const std::string& vr, const std::string& query, const std::string& value,
                  bool caseSensitivePn) {
  const std::string q = TrimSpaces(query);
  if (q.empty() || q == "*") return true;
  const std::string v = TrimSpaces(value);
  if (vr == "PN") return MatchPn(q, v, caseSensitivePn);
  if (vr == "DA" || vr == "TM") {
    Range range;
    if (!ParseRange(vr, q, range)) return false;
    std::string point = v;
    if (vr == "TM" && !NormalizeTime(v, false, point)) return false;
    if (vr == "DA" && !IsDate(v)) return false;
    return (range.low.empty() || point >= range.low) && (range.high.empty() || point <= range.high);
  }
  if (vr == "UI") {
    for (const std::string& uid : Split(q, '\\')) {
      if (TrimSpaces(uid) == v) return true;
    }
    return false;
  }
  // Strings: a list of values ("CT\MR") is any of them.
  for (const std::string& one : Split(q, '\\')) {
    const std::string item = TrimSpaces(one);
    if (HasWildcard(item) ? WildcardMatch(item, v) : item == v) return true;
  }
  return false;
}

WorklistQuery ParseWorklistQuery(const Json::Value& full) {
  WorklistQuery query;
  std::map<std::string, Json::Value> sequences;
  ReadLevel(full, query.keys, sequences);
  for (const auto& [tag, items] : sequences) {
    if (tag == kStepSequence) {
      query.stepPresent = true;
      std::map<std::string, Json::Value> nested;
      query.stepKeys = OneItem(tag, items, &nested);
      for (const auto& [nestedTag, nestedItems] : nested) {
        query.stepSequences[nestedTag] = OneItem(nestedTag, nestedItems, nullptr);
      }
    } else {
      query.sequences[tag] = OneItem(tag, items, nullptr);
    }
  }
  for (const auto& [tag, value] : query.keys) {
    if (const WorklistAttribute* attribute = FindAttribute(tag, false)) CheckKey(tag, attribute->vr, value);
  }
  for (const auto& [tag, value] : query.stepKeys) {
    if (const WorklistAttribute* attribute = FindAttribute(tag, true)) CheckKey(tag, attribute->vr, value);
  }
  return query;
}

WorklistItem WorklistItemOf(const Order& order) {
  WorklistItem item;
  for (const WorklistAttribute& attribute : WorklistAttributes()) {
    (attribute.inStep ? item.step : item.top)[attribute.tag] = "";
  }
  item.top["0008,0050"] = order.accession;
  item.top["0008,0090"] = order.referringPhysician;
  item.top["0010,0010"] = order.patientName;
  item.top["0010,0020"] = order.patientId;
  item.top["0010,0021"] = order.issuer;
  item.top["0010,0030"] = order.birthDate;
  item.top["0010,0040"] = order.sex;
  item.top["0020,000D"] = order.studyUid;
  item.top["0032,1032"] = order.referringPhysician;
  item.top["0032,1060"] = order.procedureDescription;
  item.top["0040,1001"] = order.ProcedureId();
  item.top["0040,1002"] = order.reason;
  item.top["0040,1003"] = order.DicomPriority();
  item.top["0040,1400"] = order.notes;
  item.step["0008,0060"] = order.modality;
  item.step["0040,0001"] = order.stationAet;
  item.step["0040,0002"] = order.scheduledDate;
  item.step["0040,0003"] = order.scheduledTime;
  item.step["0040,0007"] = order.procedureDescription;
  item.step["0040,0009"] = order.StepId();
  item.step["0040,0010"] = order.stationName;
  item.step["0040,0011"] = order.location;
  item.step["0040,0020"] = OrderStatus::ToDicom(order.status);
  AddCodes(order, item.sequences[kProcedureCodes]);
  AddCodes(order, item.stepSequences[kProtocolCodes]);
  item.sequences["0008,1110"];  // ReferencedStudySequence: none
  item.sequences["0008,1120"];  // ReferencedPatientSequence: none
  return item;
}

bool Matches(const WorklistQuery& query, const WorklistItem& item, bool caseSensitivePn) {
  if (!MatchLevel(query.keys, item.top, false, caseSensitivePn)) return false;
  if (query.stepPresent && !MatchLevel(query.stepKeys, item.step, true, caseSensitivePn)) return false;
  for (const auto& [tag, keys] : query.sequences) {
    auto found = item.sequences.find(tag);
    if (found != item.sequences.end() && !MatchSequence(keys, found->second)) return false;
  }
  for (const auto& [tag, keys] : query.stepSequences) {
    auto found = item.stepSequences.find(tag);
    if (found != item.stepSequences.end() && !MatchSequence(keys, found->second)) return false;
  }
  return true;
}

Json::Value WorklistAnswerJson(const WorklistItem& item, const std::string& encoding) {
  Json::Value answer = LevelJson(item.top, item.sequences, encoding);
  Json::Value step = LevelJson(item.step, item.stepSequences, encoding);
  answer[kStepSequence] = Json::Value(Json::arrayValue);
  answer[kStepSequence].append(step);
  answer["0008,0005"] = "ISO_IR 192";  // what is given to Orthanc; it answers in its DefaultEncoding
  return answer;
}

}  // namespace HospitalBridge
