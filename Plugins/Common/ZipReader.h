#pragma once
// Reads the entries of a ZIP archive held in memory, one at a time, so that
// an upload of a zipped CD or folder can be checked file by file before
// Orthanc unpacks it. Stored and deflated entries, ZIP64 sizes; no
// encryption (Orthanc cannot read encrypted entries either).
#include <cstdint>
#include <string>
#include <vector>

namespace HospitalBridge {

class ZipReader {
 public:
  struct Entry {
    std::string name;
    uint16_t method = 0;  // 0 stored, 8 deflated
    uint64_t compressedSize = 0;
    uint64_t size = 0;
    uint64_t localHeaderOffset = 0;
    bool encrypted = false;
  };

  // True when `data` starts like a ZIP archive (a local file header).
  static bool LooksLikeZip(const std::string& data);

  // Parses the central directory; false (with `error`) if it is unreadable.
  bool Open(const std::string& data, std::string& error);
  const std::vector<Entry>& Entries() const { return entries_; }
  // The uncompressed content of an entry; false (with `error`) if it cannot
  // be read or is larger than `maxBytes`.
  bool Read(const Entry& entry, size_t maxBytes, std::string& content, std::string& error) const;

 private:
  const std::string* data_ = nullptr;
  std::vector<Entry> entries_;
};

}  // namespace HospitalBridge
