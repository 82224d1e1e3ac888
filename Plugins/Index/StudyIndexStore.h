#pragma once
// The study index table: upsert from Orthanc's state, search for the API.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "Common/Storage.h"
#include "Common/StudyRecord.h"

namespace HospitalBridge {

struct StudyFilter {
  std::string patientId;
  std::string fromDate;  // DICOM DA, inclusive
  std::string toDate;    // DICOM DA, inclusive
  std::string modality;
  std::string text;          // words to find in patient name, description or accession number
  int64_t receivedFrom = 0;  // Unix seconds: studies that received an instance since
  int limit = 50;
  int offset = 0;
};

struct StudyPage {
  std::vector<StudyRecord> studies;
  int64_t total = 0;
};

struct IndexCounts {
  int64_t studies = 0;
  int64_t patients = 0;
  int64_t instances = 0;
};

class StudyIndexStore {
 public:
  explicit StudyIndexStore(IDatabase& database) : database_(database) {}

  // What the index worker does after reading Orthanc: the row and its study
  // event, in one transaction, so that no consumer can miss the change.
  void Record(const StudyRecord& record);
  void Forget(const std::string& orthancId);
  // Studies whose last indexing did not see them complete.
  std::vector<std::string> NotStable();

  // Each on its own, or inside the caller's transaction.
  void Upsert(const StudyRecord& record);
  void Upsert(Transaction& transaction, const StudyRecord& record);
  void Remove(const std::string& orthancId);
  void Remove(Transaction& transaction, const std::string& orthancId);
  std::optional<StudyRecord> FindByOrthancId(const std::string& orthancId);
  std::optional<StudyRecord> FindByOrthancId(Transaction& transaction, const std::string& orthancId);
  // The most recently received study with that StudyInstanceUID.
  std::optional<StudyRecord> FindByUid(const std::string& studyUid);
  // The studies with exactly this accession number (usually one), newest first.
  std::vector<StudyRecord> FindByAccession(const std::string& accessionNumber);
  // Newest first: study date and time, then reception, then Orthanc ID, so
  // that paging is stable.
  StudyPage Search(const StudyFilter& filter);
  // Orthanc ID → Orthanc's LastUpdate as recorded, for reconciling.
  std::map<std::string, std::string> LastUpdates();
  IndexCounts Counts();

  std::string GetState(const std::string& key);
  void SetState(const std::string& key, const std::string& value);

 private:
  static std::vector<StudyRecord> Select(Transaction& transaction, const std::string& whereClause,
                                         const std::vector<std::string>& parameters, const std::string& tail);
  IDatabase& database_;
};

}  // namespace HospitalBridge
