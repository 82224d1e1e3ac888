#pragma once
// One entry of the audit trail: who did what to which patient's data, from
// where, when, and how it ended.
#include <json/json.h>

#include <cstdint>
#include <string>

namespace HospitalBridge {

struct AuditEvent {
  int64_t id = 0;
  int64_t timeMs = 0;     // Unix milliseconds, UTC
  std::string actorName;  // user name, peer account, share id, AE title, "HospitalBridge"
  std::string actorRole;  // admin, reception, peer, ..., or "" for DICOM senders
  std::string actorKind;  // user | peer | share | dicom | system
  std::string sourceIp;
  std::string action;               // e.g. "login", "study.viewed", "dicom.stored"
  std::string outcome = "success";  // success | failure | denied
  std::string patientId;            // registry id ("PAT-...") or ""
  std::string studyUid;
  Json::Value detail = Json::Value(Json::objectValue);
  std::string prevHash;
  std::string hash;

  // Filled by callers that only know an Orthanc resource; the recorder turns
  // them into studyUid / patientId off the caller's thread. Not stored.
  std::string orthancResource;  // e.g. "/instances/<id>"
  std::string dicomPatientId;   // PatientID at this site

  // The fields the hash covers, in a fixed order with separators that cannot
  // appear in JSON text unescaped.
  std::string Canonical() const;
  static std::string ChainHash(const std::string& previousHash, const std::string& canonical);
  Json::Value ToJson() const;
};

}  // namespace HospitalBridge
