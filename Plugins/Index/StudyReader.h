#pragma once
// Reads one study's state from Orthanc's REST API and turns it into the
// index's record. Only reads; the worker decides when.
#include <optional>
#include <string>
#include <vector>

#include "Common/OrthancRest.h"
#include "Common/StudyRecord.h"

namespace HospitalBridge {

struct ListedStudy {
  std::string orthancId;
  std::string lastUpdate;
  bool stable = false;  // Orthanc expects no more instances for it
};

class StudyReader {
 public:
  explicit StudyReader(IOrthancRest& orthanc) : orthanc_(orthanc) {}

  // nullopt when Orthanc no longer has the study. `previous` (the indexed
  // record, if any) spares re-reading where known series came from.
  std::optional<StudyRecord> Read(const std::string& orthancId, const StudyRecord* previous);

  // Every study Orthanc holds, read in pages of `pageSize`.
  std::vector<ListedStudy> ListAll(int pageSize = 1000);

 private:
  StudySource ReadSource(const std::string& seriesId, const std::string& instanceId);
  IOrthancRest& orthanc_;
};

}  // namespace HospitalBridge
