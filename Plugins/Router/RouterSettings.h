#pragma once
// The router's settings: where studies and reports go (destinations), which
// go where (rules), and how hard to try. Secrets (passwords, bearer tokens,
// OAuth2 client secrets) are read here from a file or an environment variable
// named in the configuration; they never appear in the configuration itself,
// in a log line, a URL or /bridge/system.
#include <cstdint>
#include <string>
#include <vector>

#include "Common/Settings.h"

namespace HospitalBridge {

enum class DestinationKind { kDicom, kPeer, kDicomWeb, kFhir, kSatusehat };
const char* DestinationKindName(DestinationKind kind);  // dicom, peer, dicomweb, fhir, satusehat

enum class DestinationAuth { kNone, kBasic, kBearer, kOAuth2 };

struct RouterDestination {
  std::string name;
  DestinationKind kind = DestinationKind::kDicomWeb;
  std::string target;  // dicom: Orthanc's modality; peer: Orthanc's peer
  std::string url;     // dicomweb: the DICOMweb root; fhir: the FHIR base; satusehat: the platform's base
  DestinationAuth auth = DestinationAuth::kNone;
  std::string username;        // basic; the OAuth2 client id
  std::string secret;          // basic password, bearer token or OAuth2 client secret (never shown)
  std::string tokenUrl;        // OAuth2 (FHIR); SATUSEHAT: {url}/oauth2/v1/accesstoken
  std::string organizationId;  // SATUSEHAT
  std::string patientSystem;   // FHIR: the identifier system of PatientID
  std::string caFile;          // "" = the system's CAs
  int timeoutMs = 30000;
  int maxConcurrent = 1;    // deliveries sent at once to this destination
  int batchInstances = 50;  // instances per STOW-RS request or Orthanc job
  // Off-hours schedule: sends only between these minutes of the local day
  // (from > until wraps midnight); -1 = always.
  int sendFromMinute = -1;
  int sendUntilMinute = -1;
};

enum class RuleTrigger { kStudy, kReport };
// Which of the patient's consent decisions a rule needs (Consent module).
enum class RuleConsent { kNone, kShare, kFederation, kResearch };

struct RouterRule {
  std::string name;
  RuleTrigger trigger = RuleTrigger::kStudy;
  std::vector<std::string> destinations;
  std::vector<std::string> modalities;    // any of them; empty = any
  std::vector<std::string> callingAets;   // empty = any
  std::vector<std::string> institutions;  // InstitutionName, case-insensitive; empty = any
  std::string descriptionPattern;         // POSIX extended regex on StudyDescription, case-insensitive
  bool requireOrder = false;              // send only once the order (accession) is known
  RuleConsent consent = RuleConsent::kFederation;
};

struct RouterSettings {
  bool enabled = false;
  std::vector<RouterDestination> destinations;
  std::vector<RouterRule> rules;
  int retryMinSeconds = 10;
  int retryMaxSeconds = 3600;
  int maxAttempts = 50;
  int waitingRecheckSeconds = 600;
  std::string timeZoneOffset = "+00:00";  // of DICOM dates and times, for FHIR dateTime
  // A dicom or peer destination while Orthanc saves its jobs ("SaveJobs",
  // true by default): after a crash Orthanc itself resumes a store job the
  // router started, from its last saved step, sending again what that job
  // had sent since; the router cannot stop it in time.
  bool orthancResumesStoreJobs = false;

  const RouterDestination* Destination(const std::string& name) const;
};

RouterSettings ReadRouterSettings(const SettingsReader& read);

// "HH:MM-HH:MM" → minutes of the day; false when malformed.
bool ParseSchedule(const std::string& text, int& fromMinute, int& untilMinute);
// "HH:MM-HH:MM" of a window ("" when always).
std::string ScheduleText(int fromMinute, int untilMinute);
// Whether `minuteOfDay` falls in the window (always, when from is -1).
bool InSchedule(int fromMinute, int untilMinute, int minuteOfDay);

}  // namespace HospitalBridge
