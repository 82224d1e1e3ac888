#include "Share/SlipSeal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "Common/Crypto.h"
#include "Common/Errors.h"

namespace HospitalBridge {

namespace {
constexpr size_t kKeyBytes = 32;
const char kContext[] = "HospitalBridge pending slip v1";

std::string ReadKey(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string key(kKeyBytes + 1, '\0');
  const ssize_t got = read(fd, &key[0], key.size());
  close(fd);
  if (got != static_cast<ssize_t>(kKeyBytes)) {
    throw StartupError("the slip key " + path +
                       " is not a 32-byte key; move it away to make a new one (slips not " +
                       "yet printed will then need Reprint)");
  }
  key.resize(kKeyBytes);
  return key;
}
}  // namespace

SlipSeal::SlipSeal(const std::string& keyPath) {
  if (keyPath.empty()) {
    key_ = Crypto::RandomBytes(kKeyBytes);
    return;
  }
  key_ = ReadKey(keyPath);
  if (!key_.empty()) return;
  // First start: create it, readable by Orthanc's user only. O_EXCL keeps a
  // key written meanwhile by another process.
  const int fd = open(keyPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd < 0) {
    if (errno == EEXIST) {
      key_ = ReadKey(keyPath);
      if (!key_.empty()) return;
    }
    throw StartupError("cannot create the slip key " + keyPath + ": " + std::strerror(errno));
  }
  const std::string key = Crypto::RandomBytes(kKeyBytes);
  const bool written =
      write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && fsync(fd) == 0;
  close(fd);
  if (!written) throw StartupError("cannot write the slip key " + keyPath);
  key_ = key;
}

std::string SlipSeal::Seal(const std::string& secret) const {
  return Crypto::Base64Encode(Crypto::AesGcmSeal(key_, secret, kContext));
}

bool SlipSeal::Open(const std::string& sealed, std::string& secret) const {
  std::string bytes;
  return Crypto::Base64Decode(sealed, bytes) && Crypto::AesGcmOpen(key_, bytes, kContext, secret);
}

}  // namespace HospitalBridge
