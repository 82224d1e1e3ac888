#pragma once
// Staff and peer accounts in the plugin's database.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "Common/Identity.h"
#include "Common/Storage.h"

namespace HospitalBridge {

struct User {
  int64_t id = 0;
  std::string username;
  std::string passwordHash;
  Role role = Role::kReception;
  bool disabled = false;
  int64_t createdAt = 0;
  int64_t updatedAt = 0;
  int64_t lastLoginAt = 0;
};

class UserStore {
 public:
  explicit UserStore(IDatabase& database) : database_(database) {}

  // Throws DomainError (conflict) when the name is taken (names ignore case).
  User Create(const std::string& username, const std::string& passwordHash, Role role);
  std::optional<User> FindByName(const std::string& username);
  std::optional<User> FindById(int64_t id);
  std::vector<User> List();
  void Update(const User& user);  // role, disabled, password hash
  void RecordLogin(int64_t id, int64_t when);
  // Enabled administrators other than `exceptId`: the last one may not be
  // disabled or demoted, or nobody could manage users any more.
  int CountOtherActiveAdmins(int64_t exceptId);

 private:
  static std::optional<User> FindByName(Transaction& transaction, const std::string& username);
  static std::optional<User> FindById(Transaction& transaction, int64_t id);
  IDatabase& database_;
};

}  // namespace HospitalBridge
