#pragma once
// The study events table and the consumers' cursors (migration 006). The
// index appends an event inside its own transaction; the pipeline reads them
// in order and moves each consumer's cursor once it has handled one.
#include <cstdint>
#include <string>
#include <vector>

#include "Common/Storage.h"
#include "Common/StudyEvents.h"

namespace HospitalBridge {

class StudyEventLog {
 public:
  explicit StudyEventLog(IDatabase& database) : database_(database) {}

  // Inside the transaction that changes the index row.
  static void Append(Transaction& transaction, const std::string& orthancId, const std::string& studyUid,
                     const std::string& kind, int64_t at);

  // Events after `seq`, oldest first.
  std::vector<StudyEvent> After(int64_t seq, int limit);
  int64_t LastSeq();

  // A consumer's cursor; a consumer seen for the first time starts at the
  // newest event (it has nothing to catch up on from before it existed).
  int64_t Cursor(const std::string& consumer);
  void SetCursor(const std::string& consumer, int64_t seq, int64_t now);

  // Forgets events every consumer has handled and that are older than
  // `before` (Unix seconds). Returns how many.
  int64_t Prune(int64_t before);

 private:
  IDatabase& database_;
};

}  // namespace HospitalBridge
