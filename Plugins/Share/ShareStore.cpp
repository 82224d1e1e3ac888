#include "Share/ShareStore.h"

#include "Common/Text.h"

namespace HospitalBridge {

namespace {
const char* const kColumns =
    "s.id, s.token_hash, s.scope, s.patient_id, s.registry_patient, s.patient_name, s.birth_date, "
    "s.second_factor, s.secret_salt, s.secret_hash, s.can_download, s.max_uses, s.uses, s.failed_attempts, "
    "s.locked_at, s.created_at, s.created_by, s.expires_at, s.revoked_at, s.revoked_by, s.revoke_reason, "
    "s.last_used_at, s.printed_at, s.auto, s.replaces, s.replaced_by, s.note, "
    "EXISTS (SELECT 1 FROM share_pending_slips p WHERE p.share_id = s.id)";

// The same conditions as Share::Status, for filtering in SQL; each takes the
// current time as its one parameter.
std::string StatusCondition(const std::string& status) {
  if (status == "revoked") return "s.revoked_at > 0 AND ? > 0";
  if (status == "expired") return "s.revoked_at = 0 AND s.expires_at <= ?";
  if (status == "locked") return "s.revoked_at = 0 AND s.expires_at > ? AND s.locked_at > 0";
  if (status == "used-up") {
    return "s.revoked_at = 0 AND s.expires_at > ? AND s.locked_at = 0 AND s.max_uses IS NOT NULL AND "
           "s.uses >= s.max_uses";
  }
  if (status == "active") {
    return "s.revoked_at = 0 AND s.expires_at > ? AND s.locked_at = 0 AND (s.max_uses IS NULL OR s.uses < "
           "s.max_uses)";
  }
  return "? > 0";
}
}  // namespace

std::string Share::Status(int64_t now) const {
  if (revokedAt > 0) return "revoked";
  if (expiresAt <= now) return "expired";
  if (lockedAt > 0) return "locked";
  if (maxUses > 0 && uses >= maxUses) return "used-up";
  return "active";
}

void ShareStore::BindAll(Statement& statement, const std::vector<Parameter>& parameters) {
  for (size_t i = 0; i < parameters.size(); i++) {
    const int index = static_cast<int>(i) + 1;
    if (parameters[i].isText) {
      statement.Bind(index, parameters[i].text);
    } else {
      statement.Bind(index, parameters[i].number);
    }
  }
}

std::vector<Share> ShareStore::Select(Transaction& transaction, const std::string& whereClause,
                                      const std::vector<Parameter>& parameters, const std::string& tail) {
  Statement select(transaction,
                   std::string("SELECT ") + kColumns + " FROM shares s WHERE " + whereClause + " " + tail);
  BindAll(select, parameters);
  std::vector<Share> shares;
  while (select.Step()) {
    Share s;
    int c = 0;
    s.id = select.ColumnInt(c++);
    s.tokenHash = select.ColumnBlob(c++);
    s.scope = select.ColumnText(c++);
    s.patientId = select.ColumnText(c++);
    s.registryPatient = select.ColumnText(c++);
    s.patientName = select.ColumnText(c++);
    s.birthDate = select.ColumnText(c++);
    s.secondFactor = select.ColumnText(c++);
    s.secretSalt = select.ColumnBlob(c++);
    s.secretHash = select.ColumnBlob(c++);
    s.canDownload = select.ColumnInt(c++) != 0;
    s.maxUses = select.ColumnIsNull(c) ? 0 : select.ColumnInt(c);
    c++;
    s.uses = select.ColumnInt(c++);
    s.failedAttempts = select.ColumnInt(c++);
    s.lockedAt = select.ColumnInt(c++);
    s.createdAt = select.ColumnInt(c++);
    s.createdBy = select.ColumnText(c++);
    s.expiresAt = select.ColumnInt(c++);
    s.revokedAt = select.ColumnInt(c++);
    s.revokedBy = select.ColumnText(c++);
    s.revokeReason = select.ColumnText(c++);
    s.lastUsedAt = select.ColumnInt(c++);
    s.printedAt = select.ColumnInt(c++);
    s.automatic = select.ColumnInt(c++) != 0;
    s.replaces = select.ColumnIsNull(c) ? 0 : select.ColumnInt(c);
    c++;
    s.replacedBy = select.ColumnIsNull(c) ? 0 : select.ColumnInt(c);
    c++;
    s.note = select.ColumnText(c++);
    s.slipPending = select.ColumnInt(c++) != 0;
    shares.push_back(std::move(s));
  }
  for (Share& share : shares) LoadStudies(transaction, share);
  return shares;
}

void ShareStore::LoadStudies(Transaction& transaction, Share& share) {
  Statement select(transaction,
                   "SELECT orthanc_id, study_uid FROM share_studies WHERE share_id = ? ORDER BY " +
                       transaction.Dialect().InsertionOrder());
  select.Bind(1, share.id);
  while (select.Step()) share.studies.push_back(ShareStudyRef{select.ColumnText(0), select.ColumnText(1)});
}

int64_t ShareStore::Insert(const Share& share, const PendingSlip& slip) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement insert(
      transaction,
      "INSERT INTO shares (token_hash, scope, patient_id, registry_patient, patient_name, birth_date, "
      "second_factor, secret_salt, secret_hash, can_download, max_uses, created_at, created_by, "
      "expires_at, auto, replaces, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "RETURNING id");
  insert.BindBlob(1, share.tokenHash)
      .Bind(2, share.scope)
      .Bind(3, share.patientId)
      .Bind(4, share.registryPatient)
      .Bind(5, share.patientName)
      .Bind(6, share.birthDate)
      .Bind(7, share.secondFactor)
      .BindBlob(8, share.secretSalt)
      .BindBlob(9, share.secretHash)
      .Bind(10, share.canDownload ? 1 : 0);
  if (share.maxUses > 0) {
    insert.Bind(11, share.maxUses);
  } else {
    insert.BindNull(11);
  }
  insert.Bind(12, share.createdAt)
      .Bind(13, share.createdBy)
      .Bind(14, share.expiresAt)
      .Bind(15, share.automatic ? 1 : 0);
  if (share.replaces > 0) {
    insert.Bind(16, share.replaces);
  } else {
    insert.BindNull(16);
  }
  insert.Bind(17, share.note);
  insert.Step();
  const int64_t id = insert.ColumnInt(0);
  insert.Reset();
  for (const ShareStudyRef& study : share.studies) {
    Statement add(transaction,
                  "INSERT INTO share_studies (share_id, orthanc_id, study_uid) VALUES (?, ?, ?) ON CONFLICT "
                  "DO NOTHING");
    add.Bind(1, id).Bind(2, study.orthancId).Bind(3, study.studyUid).Run();
  }
  Statement pending(transaction,
                    "INSERT INTO share_pending_slips (share_id, token, pin, public_url, created_at) "
                    "VALUES (?, ?, ?, ?, ?)");
  pending.Bind(1, id)
      .Bind(2, slip.token)
      .Bind(3, slip.pin)
      .Bind(4, slip.publicUrl)
      .Bind(5, share.createdAt)
      .Run();
  transaction.Commit();
  return id;
}

std::optional<Share> ShareStore::Find(int64_t id) {
  Transaction transaction(database_, TransactionMode::kRead);
  std::vector<Share> found = Select(transaction, "s.id = ?", {NumberParam(id)}, "");
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::optional<Share> ShareStore::FindByTokenHash(const std::string& tokenHash) {
  Transaction transaction(database_, TransactionMode::kRead);
  int64_t id = 0;
  {
    Statement select(transaction, "SELECT id FROM shares WHERE token_hash = ?");
    select.BindBlob(1, tokenHash);
    if (!select.Step()) return std::nullopt;
    id = select.ColumnInt(0);
  }
  std::vector<Share> found = Select(transaction, "s.id = ?", {NumberParam(id)}, "");
  if (found.empty()) return std::nullopt;
  return found.front();
}

SharePage ShareStore::List(const ShareFilter& filter, int64_t now) {
  std::string where = StatusCondition(filter.status);
  std::vector<Parameter> parameters = {NumberParam(now)};
  if (!filter.patientId.empty()) {
    where += " AND s.patient_id = ?";
    parameters.push_back(TextParam(filter.patientId));
  }
  if (!filter.studyOrthancId.empty()) {
    where += " AND s.id IN (SELECT share_id FROM share_studies WHERE orthanc_id = ? OR study_uid = ?)";
    parameters.push_back(TextParam(filter.studyOrthancId));
    parameters.push_back(TextParam(filter.studyOrthancId));
  }
  if (!filter.text.empty()) {
    where += " AND (s.patient_name LIKE ? ESCAPE '\\' OR s.patient_id LIKE ? ESCAPE '\\')";
    parameters.push_back(TextParam(Text::LikeContains(filter.text)));
    parameters.push_back(TextParam(Text::LikeContains(filter.text)));
  }
  SharePage page;
  Transaction transaction(database_, TransactionMode::kRead);
  {
    Statement count(transaction, "SELECT COUNT(*) FROM shares s WHERE " + where);
    BindAll(count, parameters);
    if (count.Step()) page.total = count.ColumnInt(0);
  }
  std::vector<Parameter> paged = parameters;
  paged.push_back(NumberParam(filter.limit));
  paged.push_back(NumberParam(filter.offset));
  page.shares = Select(transaction, where, paged, "ORDER BY s.created_at DESC, s.id DESC LIMIT ? OFFSET ?");
  return page;
}

std::vector<Share> ShareStore::PendingSlips(int64_t now) {
  Transaction transaction(database_, TransactionMode::kRead);
  return Select(
      transaction,
      StatusCondition("active") + " AND EXISTS (SELECT 1 FROM share_pending_slips p WHERE p.share_id = s.id)",
      {NumberParam(now)}, "ORDER BY s.created_at, s.id");
}

bool ShareStore::Revoke(int64_t id, const std::string& by, const std::string& reason, int64_t now) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement update(
      transaction,
      "UPDATE shares SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ? AND revoked_at = 0");
  update.Bind(1, now).Bind(2, by).Bind(3, reason).Bind(4, id).Run();
  const bool changed = transaction.Changes() > 0;
  // A revoked link needs no slip, and its phones are signed out at once.
  Statement slip(transaction, "DELETE FROM share_pending_slips WHERE share_id = ?");
  slip.Bind(1, id).Run();
  Statement sessions(transaction, "DELETE FROM share_sessions WHERE share_id = ?");
  sessions.Bind(1, id).Run();
  transaction.Commit();
  return changed;
}

void ShareStore::SetReplacedBy(int64_t id, int64_t newId) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement update(transaction, "UPDATE shares SET replaced_by = ? WHERE id = ?");
  update.Bind(1, newId).Bind(2, id).Run();
  transaction.Commit();
}

int64_t ShareStore::ReserveUnlockAttempt(int64_t id, int maxFailures, int64_t now) {
  // One statement, so that simultaneous unlocks take distinct tries: the try
  // counts as failed until the secret proves right, and the last one locks
  // the link at once (cleared again if it was right).
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement update(transaction,
                   "UPDATE shares SET failed_attempts = failed_attempts + 1, "
                   "locked_at = CASE WHEN failed_attempts + 1 >= ? THEN ? ELSE locked_at END "
                   "WHERE id = ? AND locked_at = 0 AND failed_attempts < ?");
  update.Bind(1, maxFailures).Bind(2, now).Bind(3, id).Bind(4, maxFailures).Run();
  if (transaction.Changes() == 0) return 0;
  int64_t attempt = 0;
  {
    Statement select(transaction, "SELECT failed_attempts FROM shares WHERE id = ?");
    select.Bind(1, id);
    attempt = select.Step() ? select.ColumnInt(0) : 0;
  }
  transaction.Commit();
  return attempt;
}

void ShareStore::ClearLock(int64_t id) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement update(transaction, "UPDATE shares SET failed_attempts = 0, locked_at = 0 WHERE id = ?");
  update.Bind(1, id).Run();
  transaction.Commit();
}

bool ShareStore::RecordUse(int64_t id, int64_t now) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement update(transaction,
                   "UPDATE shares SET uses = uses + 1, last_used_at = ?, failed_attempts = 0, locked_at = 0 "
                   "WHERE id = ? AND (max_uses IS NULL OR uses < max_uses)");
  update.Bind(1, now).Bind(2, id).Run();
  const bool used = transaction.Changes() > 0;
  transaction.Commit();
  return used;
}

std::vector<int64_t> ShareStore::ActiveForRegistryPatient(const std::string& registryPatient, int64_t now) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction,
                   "SELECT id FROM shares WHERE registry_patient = ? AND revoked_at = 0 AND expires_at > ?");
  select.Bind(1, registryPatient).Bind(2, now);
  std::vector<int64_t> ids;
  while (select.Step()) ids.push_back(select.ColumnInt(0));
  return ids;
}

bool ShareStore::HasAutomaticShare(const std::string& orthancStudyId) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction,
                   "SELECT 1 FROM share_studies st JOIN shares s ON s.id = st.share_id "
                   "WHERE st.orthanc_id = ? AND s.auto = 1 LIMIT 1");
  select.Bind(1, orthancStudyId);
  return select.Step();
}

int64_t ShareStore::CountActive(int64_t now) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement count(transaction, "SELECT COUNT(*) FROM shares s WHERE " + StatusCondition("active"));
  count.Bind(1, now);
  return count.Step() ? count.ColumnInt(0) : 0;
}

int64_t ShareStore::CountPendingSlips() {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement count(transaction, "SELECT COUNT(*) FROM share_pending_slips");
  return count.Step() ? count.ColumnInt(0) : 0;
}

std::optional<PendingSlip> ShareStore::FindPendingSlip(int64_t shareId) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(
      transaction,
      "SELECT share_id, token, pin, public_url, created_at FROM share_pending_slips WHERE share_id = ?");
  select.Bind(1, shareId);
  if (!select.Step()) return std::nullopt;
  return PendingSlip{select.ColumnInt(0), select.ColumnText(1), select.ColumnText(2), select.ColumnText(3),
                     select.ColumnInt(4)};
}

void ShareStore::MarkPrinted(int64_t shareId, int64_t now) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement remove(transaction, "DELETE FROM share_pending_slips WHERE share_id = ?");
  remove.Bind(1, shareId).Run();
  Statement update(transaction, "UPDATE shares SET printed_at = ? WHERE id = ? AND printed_at = 0");
  update.Bind(1, now).Bind(2, shareId).Run();
  transaction.Commit();
}

int ShareStore::PurgePendingSlips(int64_t before) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement remove(transaction, "DELETE FROM share_pending_slips WHERE created_at < ?");
  remove.Bind(1, before).Run();
  const int removed = static_cast<int>(transaction.Changes());
  transaction.Commit();
  return removed;
}

void ShareStore::CreateSession(const std::string& sessionHash, int64_t shareId, int64_t expiresAt,
                               const std::string& ip, int64_t now) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement insert(transaction,
                   "INSERT INTO share_sessions (session_hash, share_id, created_at, expires_at, ip) VALUES "
                   "(?, ?, ?, ?, ?)");
  insert.BindBlob(1, sessionHash).Bind(2, shareId).Bind(3, now).Bind(4, expiresAt).Bind(5, ip).Run();
  transaction.Commit();
}

std::optional<ShareStore::Session> ShareStore::FindSession(const std::string& sessionHash, int64_t now) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(
      transaction,
      "SELECT share_id, expires_at FROM share_sessions WHERE session_hash = ? AND expires_at > ?");
  select.BindBlob(1, sessionHash).Bind(2, now);
  if (!select.Step()) return std::nullopt;
  return Session{select.ColumnInt(0), select.ColumnInt(1)};
}

void ShareStore::DeleteSession(const std::string& sessionHash) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement remove(transaction, "DELETE FROM share_sessions WHERE session_hash = ?");
  remove.BindBlob(1, sessionHash).Run();
  transaction.Commit();
}

void ShareStore::DeleteSessionsOfShare(int64_t shareId) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement remove(transaction, "DELETE FROM share_sessions WHERE share_id = ?");
  remove.Bind(1, shareId).Run();
  transaction.Commit();
}

int ShareStore::PurgeSessions(int64_t now) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement remove(transaction, "DELETE FROM share_sessions WHERE expires_at <= ?");
  remove.Bind(1, now).Run();
  const int removed = static_cast<int>(transaction.Changes());
  transaction.Commit();
  return removed;
}

}  // namespace HospitalBridge
