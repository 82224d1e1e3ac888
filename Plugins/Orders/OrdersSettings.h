#pragma once
// The orders' settings (HospitalBridge.Orders and Modules.Orders): accession
// numbers and UIDs, the modality worklist, arrival matching and how FHIR
// ServiceRequests name their identifiers and codings.
#include <string>
#include <vector>

#include "Common/Settings.h"

namespace HospitalBridge {

struct WorklistSettings {
  bool enabled = true;
  std::vector<std::string> statuses = {"scheduled", "arrived"};  // offered on the worklist
  int maxAnswers = 500;
  bool allowUnlistedCallingAets = false;
  int modalitiesRefreshSeconds = 30;
  // Read from Orthanc's own configuration.
  bool casesensitivePn = false;      // CaseSensitivePN
  std::string answerEncoding;        // DefaultEncoding: Orthanc answers worklists in it
  Json::Value configuredModalities;  // DicomModalities as in orthanc.json
};

struct FhirSettings {
  // Patterns ('*' = any text) of identifier systems.
  std::vector<std::string> accessionSystems;
  std::vector<std::string> patientIdSystems;
  std::vector<std::string> nationalIdSystems;
  std::vector<std::string> modalitySystems;
  std::vector<std::string> stationAetSystems;
  std::vector<std::string> placerSystems;
};

struct OrdersSettings {
  bool enabled = true;
  std::string accessionPattern = "{YYYY}{MM}{DD}{SEQ:4}";
  std::string studyUidRoot;   // "" = 2.25.<UUID>
  int pastGraceMinutes = 60;  // earlier than this before now: "in the past"
  bool listUnmatchedStudies = true;
  WorklistSettings worklist;
  FhirSettings fhir;
};

OrdersSettings ReadOrdersSettings(const SettingsReader& read);

// Expands an accession pattern: {YYYY} {YY} {MM} {DD} {SITE} and {SEQ:n}
// (the counter, zero-padded to n digits). `prefix` is what comes before
// {SEQ:n} (the counter's key).
std::string ExpandAccessionPattern(const std::string& pattern, const std::string& date,
                                   const std::string& site, int64_t sequence, std::string* prefix = nullptr);

}  // namespace HospitalBridge
