#pragma once
// Consent records, only ever added to (a revocation is a new 'deny' record).
#include <json/json.h>

#include <string>
#include <vector>

#include "Common/Storage.h"

namespace HospitalBridge {

struct ConsentRecord {
  int64_t id = 0;
  std::string patientId;
  std::string kind;        // share | federation | research
  std::string decision;    // permit | deny
  std::string method;      // verbal | signed-form | attestation | electronic
  std::string validFrom;   // DICOM DA or ""
  std::string validUntil;  // DICOM DA or ""
  std::string note;
  std::string attachmentType;
  bool hasAttachment = false;
  std::string recordedBy;
  int64_t recordedAt = 0;

  Json::Value ToJson() const;
};

class ConsentStore {
 public:
  explicit ConsentStore(IDatabase& database) : database_(database) {}
  ConsentRecord Add(ConsentRecord record, const std::string& attachment);
  std::vector<ConsentRecord> History(const std::string& patientId);  // newest first
  bool Attachment(const std::string& patientId, int64_t id, std::string& data, std::string& type);
  // What consent keeps a study from: peers (federation) and share links.
  void SetRestrictions(const std::string& studyUid, bool federation, bool share);

 private:
  IDatabase& database_;
};

}  // namespace HospitalBridge
