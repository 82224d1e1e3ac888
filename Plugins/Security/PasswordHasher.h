#pragma once
// Passwords are stored as PBKDF2-HMAC-SHA256 with a random 16-byte salt:
// "pbkdf2-sha256$<iterations>$<salt base64>$<key base64>". The iteration
// count is part of the stored text, so raising it in the configuration only
// affects passwords set afterwards, and old hashes keep verifying.
#include <cstdint>
#include <string>

namespace HospitalBridge {

class PasswordHasher {
 public:
  explicit PasswordHasher(uint32_t iterations) : iterations_(iterations) {}
  std::string Hash(const std::string& password) const;
  // Constant-time comparison; false for a malformed stored hash.
  static bool Verify(const std::string& password, const std::string& stored);
  uint32_t Iterations() const { return iterations_; }

 private:
  uint32_t iterations_;
};

// Why a new password is refused, or "" when it is acceptable: at least 12
// characters, not the user name, not a well-known password.
std::string PasswordWeakness(const std::string& password, const std::string& username);

}  // namespace HospitalBridge
