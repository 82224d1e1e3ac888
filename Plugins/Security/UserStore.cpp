#include "Security/UserStore.h"

#include "Common/Errors.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kColumns[] = "id, username, password_hash, role, disabled, created_at, updated_at, last_login_at";

User Read(Statement& row) {
  User user;
  user.id = row.ColumnInt(0);
  user.username = row.ColumnText(1);
  user.passwordHash = row.ColumnText(2);
  if (!ParseRole(row.ColumnText(3), user.role)) user.disabled = true;  // unknown role: never let in
  user.disabled = user.disabled || row.ColumnInt(4) != 0;
  user.createdAt = row.ColumnInt(5);
  user.updatedAt = row.ColumnInt(6);
  user.lastLoginAt = row.ColumnInt(7);
  return user;
}
}  // namespace

User UserStore::Create(const std::string& username, const std::string& passwordHash, Role role) {
  Transaction transaction(database_, TransactionMode::kWrite);
  if (FindByName(transaction, username)) {
    throw DomainError::Conflict("A user with this name already exists", username);
  }
  const int64_t now = Time::NowSeconds();
  Statement insert(transaction,
                   "INSERT INTO users (username, password_hash, role, disabled, created_at, updated_at) "
                   "VALUES (?, ?, ?, 0, ?, ?) RETURNING id");
  insert.Bind(1, username).Bind(2, passwordHash).Bind(3, RoleName(role)).Bind(4, now).Bind(5, now);
  insert.Step();
  const int64_t id = insert.ColumnInt(0);
  insert.Reset();
  User user = *FindById(transaction, id);
  transaction.Commit();
  return user;
}

std::optional<User> UserStore::FindByName(Transaction& transaction, const std::string& username) {
  Statement select(transaction, std::string("SELECT ") + kColumns + " FROM users WHERE username = ?");
  select.Bind(1, username);
  if (!select.Step()) return std::nullopt;
  return Read(select);
}

std::optional<User> UserStore::FindById(Transaction& transaction, int64_t id) {
  Statement select(transaction, std::string("SELECT ") + kColumns + " FROM users WHERE id = ?");
  select.Bind(1, id);
  if (!select.Step()) return std::nullopt;
  return Read(select);
}

std::optional<User> UserStore::FindByName(const std::string& username) {
  Transaction transaction(database_, TransactionMode::kRead);
  return FindByName(transaction, username);
}

std::optional<User> UserStore::FindById(int64_t id) {
  Transaction transaction(database_, TransactionMode::kRead);
  return FindById(transaction, id);
}

std::vector<User> UserStore::List() {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction,
                   std::string("SELECT ") + kColumns + " FROM users ORDER BY username COLLATE NOCASE");
  std::vector<User> users;
  while (select.Step()) users.push_back(Read(select));
  return users;
}

void UserStore::Update(const User& user) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement update(transaction,
                   "UPDATE users SET password_hash = ?, role = ?, disabled = ?, updated_at = ? WHERE id = ?");
  update.Bind(1, user.passwordHash)
      .Bind(2, RoleName(user.role))
      .Bind(3, user.disabled ? 1 : 0)
      .Bind(4, Time::NowSeconds())
      .Bind(5, user.id)
      .Run();
  transaction.Commit();
}

void UserStore::RecordLogin(int64_t id, int64_t when) {
  Transaction transaction(database_, TransactionMode::kWrite);
  Statement update(transaction, "UPDATE users SET last_login_at = ? WHERE id = ?");
  update.Bind(1, when).Bind(2, id).Run();
  transaction.Commit();
}

int UserStore::CountOtherActiveAdmins(int64_t exceptId) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement count(transaction,
                  "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?");
  count.Bind(1, exceptId);
  count.Step();
  return static_cast<int>(count.ColumnInt(0));
}

}  // namespace HospitalBridge
