#pragma once
// Modality worklist C-FIND (DICOM PS3.4 Annex K) as plain data: the query a
// modality sends, the item an order offers, and the matching rules of PS3.4
// C.2.2.2: universal (empty or "*"), single value, wildcards ('*', '?') on
// strings and names, ranges on dates and times, lists of UIDs, and sequence
// matching inside the Scheduled Procedure Step item. Person names match
// without regard to case unless Orthanc's CaseSensitivePN says otherwise.
#include <json/json.h>

#include <map>
#include <string>
#include <vector>

#include "Orders/Order.h"

namespace HospitalBridge {

using DicomItem = std::map<std::string, std::string>;  // "0010,0010" → value (UTF-8)

// One attribute the worklist knows: its tag, value representation, and
// whether it is inside the Scheduled Procedure Step item.
struct WorklistAttribute {
  const char* tag;
  const char* vr;
  bool inStep;
  bool matching;  // a key the SCP matches on (others are only returned)
};
const std::vector<WorklistAttribute>& WorklistAttributes();

struct WorklistQuery {
  DicomItem keys;  // top-level attributes with a string value
  bool stepPresent = false;
  DicomItem stepKeys;  // inside the one ScheduledProcedureStepSequence item
  // Other sequences: their one query item (empty = return them whole).
  std::map<std::string, DicomItem> sequences;
  std::map<std::string, DicomItem> stepSequences;
};

// Orthanc's "Full" JSON of the query (tag → {Name, Type, Value}). Throws
// DomainError (invalid) for what the standard does not allow: a sequence
// item count other than 0 or 1 in the Scheduled Procedure Step, malformed
// dates, times or ranges.
WorklistQuery ParseWorklistQuery(const Json::Value& full);

struct WorklistItem {
  DicomItem top;
  DicomItem step;
  std::map<std::string, std::vector<DicomItem>> sequences;
  std::map<std::string, std::vector<DicomItem>> stepSequences;
};
WorklistItem WorklistItemOf(const Order& order);

// The rules, one value at a time (`vr` as in WorklistAttribute).
bool MatchesValue(const std::string& vr, const std::string& query, const std::string& value,
                  bool caseSensitivePn);
bool Matches(const WorklistQuery& query, const WorklistItem& item, bool caseSensitivePn);
// Throws DomainError (invalid) when a key's value is malformed for its VR.
void CheckKey(const std::string& tag, const std::string& vr, const std::string& value);

// The answer as JSON for Orthanc's DICOM writer ("0010,0010": "...",
// sequences as lists of objects), every known attribute present (empty when
// unknown: Orthanc returns only the requested keys, and drops requested keys
// the answer lacks). Characters the answer's encoding (Orthanc's
// DefaultEncoding: "Ascii", "Latin1", "Utf8", ...) cannot hold become '?'.
Json::Value WorklistAnswerJson(const WorklistItem& item, const std::string& encoding);

// Case folding of the letters of Latin, Greek and Cyrillic scripts (for PN).
std::string FoldCase(const std::string& utf8);
// Wildcard matching over characters (not bytes): '*' any run, '?' one.
bool WildcardMatch(const std::string& pattern, const std::string& text);

}  // namespace HospitalBridge
