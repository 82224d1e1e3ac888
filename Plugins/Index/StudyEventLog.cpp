#include "Index/StudyEventLog.h"

namespace HospitalBridge {

void StudyEventLog::Append(Transaction& transaction, const std::string& orthancId,
                           const std::string& studyUid, const std::string& kind, int64_t at) {
  Statement insert(transaction,
                   "INSERT INTO study_events (orthanc_id, study_uid, kind, at) VALUES (?, ?, ?, ?)");
  insert.Bind(1, orthancId).Bind(2, studyUid).Bind(3, kind).Bind(4, at).Run();
}

std::vector<StudyEvent> StudyEventLog::After(int64_t seq, int limit) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(
      transaction,
      "SELECT seq, orthanc_id, study_uid, kind, at FROM study_events WHERE seq > ? ORDER BY seq LIMIT ?");
  select.Bind(1, seq).Bind(2, limit);
  std::vector<StudyEvent> events;
  while (select.Step()) {
    events.push_back(StudyEvent{select.ColumnInt(0), select.ColumnText(1), select.ColumnText(2),
                                select.ColumnText(3), select.ColumnInt(4)});
  }
  return events;
}

int64_t StudyEventLog::LastSeq() {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction, "SELECT coalesce(max(seq), 0) FROM study_events");
  select.Step();
  return select.ColumnInt(0);
}

int64_t StudyEventLog::Cursor(const std::string& consumer) {
  Transaction transaction(database_, TransactionMode::kWrite);
  {
    Statement select(transaction, "SELECT seq FROM study_event_cursors WHERE consumer = ?");
    select.Bind(1, consumer);
    if (select.Step()) return select.ColumnInt(0);
  }
  int64_t last = 0;
  {
    Statement max(transaction, "SELECT coalesce(max(seq), 0) FROM study_events");
    max.Step();
    last = max.ColumnInt(0);
  }
  Statement insert(transaction,
                   "INSERT INTO study_event_cursors (consumer, seq, updated_at) VALUES (?, ?, 0)");
  insert.Bind(1, consumer).Bind(2, last).Run();
  transaction.Commit();
  return last;
}

void StudyEventLog::SetCursor(const std::string& consumer, int64_t seq, int64_t now) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement update(
      transaction,
      "INSERT INTO study_event_cursors (consumer, seq, updated_at) VALUES (?, ?, ?) "
      "ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at");
  update.Bind(1, consumer).Bind(2, seq).Bind(3, now).Run();
  transaction.Commit();
}

int64_t StudyEventLog::Prune(int64_t before) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement remove(transaction,
                   "DELETE FROM study_events WHERE at < ? AND seq <= "
                   "(SELECT coalesce(min(seq), 0) FROM study_event_cursors)");
  remove.Bind(1, before).Run();
  const int64_t removed = transaction.Changes();
  transaction.Commit();
  return removed;
}

}  // namespace HospitalBridge
