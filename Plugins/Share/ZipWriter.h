#pragma once
// A ZIP archive of already-compressed files (JPEGs), written with the
// "stored" method: deflating a JPEG again gains nothing and costs time.
// Sizes stay under 4 GiB per archive (no ZIP64): the JPEG archive of one
// study is far below that.
#include <cstdint>
#include <string>
#include <vector>

namespace HospitalBridge {

class ZipWriter {
 public:
  // `name` uses '/' between folders; it must be unique in the archive.
  void Add(const std::string& name, const std::string& content);
  // The finished archive; the writer must not be used afterwards.
  std::string Finish();
  size_t Count() const { return entries_.size(); }

 private:
  struct Entry {
    std::string name;
    uint32_t crc = 0;
    uint32_t size = 0;
    uint32_t offset = 0;
  };
  std::string data_;
  std::vector<Entry> entries_;
};

}  // namespace HospitalBridge
