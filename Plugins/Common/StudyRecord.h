#pragma once
// One study of the index, as stored and as shown by /bridge/studies.
#include <json/json.h>

#include <cstdint>
#include <string>
#include <vector>

namespace HospitalBridge {

// Where one series of the study came from, read from the metadata Orthanc
// records for every instance (Origin, RemoteAET, RemoteIP, HttpUsername).
struct StudySource {
  std::string seriesId;  // Orthanc ID of the series it was read from
  std::string origin;    // DicomProtocol, RestApi, Plugins, Lua, WebDav
  std::string aet;       // calling AE title for C-STORE
  std::string ip;
  std::string user;       // HTTP user for uploads through REST
  int64_t received = 0;   // Unix seconds
  int64_t instances = 0;  // instances of that series when last read
};

struct StudyRecord {
  std::string orthancId;
  std::string studyUid;
  std::string patientId;
  std::string patientName;
  std::string patientBirthDate;  // DICOM DA
  std::string patientSex;
  std::string studyDate;  // DICOM DA
  std::string studyTime;  // DICOM TM
  std::string description;
  std::string accessionNumber;
  std::vector<std::string> modalities;
  int64_t seriesCount = 0;
  int64_t instanceCount = 0;
  int64_t firstReceived = 0;
  int64_t lastReceived = 0;
  std::string orthancLastUpdate;
  std::vector<StudySource> sources;
  std::string originSite;             // the site it was retrieved from; "" when received here
  bool restrictedFederation = false;  // the patient's consent keeps it from peers
  bool restrictedShare = false;       // ... and from share links
  bool stable = false;                // its last indexing saw it complete (Orthanc's StableStudy)

  Json::Value ToJson() const;  // the API's shape
  std::string SourcesToStorage() const;
  static std::vector<StudySource> SourcesFromStorage(const std::string& text);
};

}  // namespace HospitalBridge
