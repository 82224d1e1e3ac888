#pragma once
// Seals the token and PIN a slip keeps until it is printed. The key lives in
// a file of its own beside the database, so a copy of the database alone (a
// backup, a file sent for support) opens no link.
#include <string>

namespace HospitalBridge {

class SlipSeal {
 public:
  // Reads the 32-byte key from `keyPath`, creating it (mode 0600) when
  // absent. An empty path gives a key for this process only (in-memory
  // databases, tests). Throws StartupError when the file cannot be used.
  explicit SlipSeal(const std::string& keyPath);

  std::string Seal(const std::string& secret) const;  // base64 text
  // False when the key changed (file lost or replaced) or the text was
  // altered: the slip cannot be printed any more, Reprint makes a new one.
  bool Open(const std::string& sealed, std::string& secret) const;

 private:
  std::string key_;
};

}  // namespace HospitalBridge
