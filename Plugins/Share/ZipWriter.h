#pragma once
// A ZIP archive of already-compressed files (JPEGs), written with the
// "stored" method: deflating a JPEG again gains nothing and costs time.
// Sizes stay under 4 GiB per archive (no ZIP64): the JPEG archive of one
// study is far below that. Built in memory, or written out entry by entry
// as it is made (a download that starts at once, whatever the study's size).
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace HospitalBridge {

class ZipWriter {
 public:
  // Where bytes go as soon as they are written; false when nobody reads
  // them any more (the phone went away), which stops the writer.
  using Sink = std::function<bool(const std::string&)>;
  class Abandoned : public std::runtime_error {
   public:
    Abandoned() : std::runtime_error("the reader of the archive went away") {}
  };

  ZipWriter() = default;  // in memory: Finish() returns the archive
  explicit ZipWriter(Sink sink) : sink_(std::move(sink)) {}

  // `name` uses '/' between folders; it must be unique in the archive.
  void Add(const std::string& name, const std::string& content);
  // The finished archive (in memory; "" for a sink, which has had it all);
  // the writer must not be used afterwards.
  std::string Finish();
  size_t Count() const { return entries_.size(); }

 private:
  struct Entry {
    std::string name;
    uint32_t crc = 0;
    uint32_t size = 0;
    uint32_t offset = 0;
  };
  void Emit(const std::string& bytes);
  Sink sink_;
  uint64_t written_ = 0;
  std::string data_;
  std::vector<Entry> entries_;
};

}  // namespace HospitalBridge
