#include "Security/SessionStore.h"

#include <algorithm>

#include "Common/Crypto.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
// Writing last_seen on every request would turn each page load into a write;
// a minute of slack on an idle timeout of at least a minute is harmless.
const int64_t kTouchEverySeconds = 60;

std::string HashToken(const std::string& token) { return Crypto::Sha256Hex(token); }
}  // namespace

std::string SessionStore::Create(int64_t userId, const std::string& remoteIp) {
  std::string token = Crypto::NewToken();
  int64_t now = Time::NowSeconds();
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement insert(
      transaction,
      "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, remote_ip) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  insert.Bind(1, HashToken(token))
      .Bind(2, userId)
      .Bind(3, now)
      .Bind(4, now)
      .Bind(5, now + maxSeconds_)
      .Bind(6, remoteIp)
      .Run();
  transaction.Commit();
  return token;
}

std::optional<Session> SessionStore::Resolve(const std::string& token) {
  if (token.empty() || token.size() > 64) return std::nullopt;
  const std::string hash = HashToken(token);
  int64_t now = Time::NowSeconds();
  // A read, except for the rare request that ends or refreshes the session.
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement select(transaction,
                   "SELECT user_id, created_at, last_seen_at, expires_at FROM sessions WHERE token_hash = ?");
  select.Bind(1, hash);
  if (!select.Step()) return std::nullopt;
  Session session{hash, select.ColumnInt(0), select.ColumnInt(1), select.ColumnInt(2), select.ColumnInt(3)};
  if (now >= session.expiresAt || now - session.lastSeenAt >= idleSeconds_) {
    Statement remove(transaction, "DELETE FROM sessions WHERE token_hash = ?");
    remove.Bind(1, hash).Run();
    transaction.Commit();
    return std::nullopt;
  }
  if (now - session.lastSeenAt >= kTouchEverySeconds) {
    Statement touch(transaction, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?");
    touch.Bind(1, now).Bind(2, hash).Run();
    session.lastSeenAt = now;
    transaction.Commit();
  }
  return session;
}

void SessionStore::Remove(const std::string& token) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement remove(transaction, "DELETE FROM sessions WHERE token_hash = ?");
  remove.Bind(1, HashToken(token)).Run();
  transaction.Commit();
}

void SessionStore::RemoveForUser(int64_t userId) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement remove(transaction, "DELETE FROM sessions WHERE user_id = ?");
  remove.Bind(1, userId).Run();
  transaction.Commit();
}

void SessionStore::PurgeExpired() {
  int64_t now = Time::NowSeconds();
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement remove(transaction, "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?");
  remove.Bind(1, now).Bind(2, now - idleSeconds_).Run();
  transaction.Commit();
}

}  // namespace HospitalBridge
