#include "Security/PasswordHasher.h"

#include <algorithm>
#include <cctype>

#include "Common/Crypto.h"

namespace HospitalBridge {
namespace {
const char kScheme[] = "pbkdf2-sha256";
const size_t kKeyLength = 32;
const size_t kMinimumLength = 12;

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Passwords that appear in every breach list and in vendors' manuals; the
// length rule already rules out most others.
const char* const kWellKnown[] = {"password1234",  "passwordpassword", "123456789012",     "1234567890123",
                                  "qwertyuiop12",  "orthancorthanc",   "changemechangeme", "adminadmin12",
                                  "administrator", "letmein12345",     "welcome12345",     "p@ssw0rd1234",
                                  "hospital1234",  "iloveyou1234",     "000000000000",     "111111111111"};
}  // namespace

std::string PasswordHasher::Hash(const std::string& password) const {
  std::string salt = Crypto::RandomBytes(16);
  std::string key = Crypto::Pbkdf2Sha256(password, salt, iterations_, kKeyLength);
  return std::string(kScheme) + "$" + std::to_string(iterations_) + "$" + Crypto::Base64Encode(salt) + "$" +
         Crypto::Base64Encode(key);
}

bool PasswordHasher::Verify(const std::string& password, const std::string& stored) {
  size_t first = stored.find('$');
  size_t second = stored.find('$', first + 1);
  size_t third = stored.find('$', second + 1);
  if (first == std::string::npos || second == std::string::npos || third == std::string::npos) return false;
  if (stored.substr(0, first) != kScheme) return false;
  uint32_t iterations = 0;
  try {
    unsigned long parsed = std::stoul(stored.substr(first + 1, second - first - 1));
    if (parsed < 1000 || parsed > 100000000) return false;
    iterations = static_cast<uint32_t>(parsed);
  } catch (...) {
    return false;
  }
  std::string salt;
  std::string expected;
  if (!Crypto::Base64Decode(stored.substr(second + 1, third - second - 1), salt) ||
      !Crypto::Base64Decode(stored.substr(third + 1), expected) || expected.empty()) {
    return false;
  }
  std::string actual = Crypto::Pbkdf2Sha256(password, salt, iterations, expected.size());
  return Crypto::ConstantTimeEquals(actual, expected);
}

std::string PasswordWeakness(const std::string& password, const std::string& username) {
  if (password.size() < kMinimumLength) {
    return "the password must have at least " + std::to_string(kMinimumLength) + " characters";
  }
  if (password.size() > 1024) return "the password is too long (at most 1024 characters)";
  std::string lower = Lower(password);
  if (!username.empty() && lower.find(Lower(username)) != std::string::npos) {
    return "the password must not contain the user name";
  }
  for (const char* known : kWellKnown) {
    if (lower == known) return "this password is well known; choose another";
  }
  if (std::all_of(password.begin(), password.end(), [&](char c) { return c == password[0]; })) {
    return "the password must not repeat a single character";
  }
  return "";
}

}  // namespace HospitalBridge
