#include "Share/ZipWriter.h"

#include <zlib.h>

#include <limits>
#include <stdexcept>

namespace HospitalBridge {

namespace {
void Put16(std::string& out, uint32_t value) {
  out += static_cast<char>(value & 0xff);
  out += static_cast<char>((value >> 8) & 0xff);
}
void Put32(std::string& out, uint32_t value) {
  Put16(out, value & 0xffff);
  Put16(out, value >> 16);
}
// 2026-01-01 00:00 in MS-DOS form; the entries carry no meaningful time.
constexpr uint32_t kDosTime = 0;
constexpr uint32_t kDosDate = ((2026 - 1980) << 9) | (1 << 5) | 1;
constexpr uint32_t kUtf8Names = 1 << 11;
}  // namespace

void ZipWriter::Add(const std::string& name, const std::string& content) {
  if (data_.size() + content.size() + name.size() + 64 > std::numeric_limits<uint32_t>::max()) {
    throw std::runtime_error("the archive would exceed 4 GiB");
  }
  if (entries_.size() >= 0xffff) throw std::runtime_error("the archive would hold more than 65534 files");
  Entry entry;
  entry.name = name;
  entry.size = static_cast<uint32_t>(content.size());
  entry.offset = static_cast<uint32_t>(data_.size());
  entry.crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(content.data()), static_cast<uInt>(content.size())));
  Put32(data_, 0x04034b50);
  Put16(data_, 10);  // version needed: 1.0 (stored)
  Put16(data_, kUtf8Names);
  Put16(data_, 0);  // stored
  Put16(data_, kDosTime);
  Put16(data_, kDosDate);
  Put32(data_, entry.crc);
  Put32(data_, entry.size);
  Put32(data_, entry.size);
  Put16(data_, static_cast<uint32_t>(name.size()));
  Put16(data_, 0);
  data_ += name;
  data_ += content;
  entries_.push_back(entry);
}

std::string ZipWriter::Finish() {
  const uint32_t directoryOffset = static_cast<uint32_t>(data_.size());
  for (const Entry& entry : entries_) {
    Put32(data_, 0x02014b50);
    Put16(data_, 20);  // made by: 2.0
    Put16(data_, 10);
    Put16(data_, kUtf8Names);
    Put16(data_, 0);
    Put16(data_, kDosTime);
    Put16(data_, kDosDate);
    Put32(data_, entry.crc);
    Put32(data_, entry.size);
    Put32(data_, entry.size);
    Put16(data_, static_cast<uint32_t>(entry.name.size()));
    Put16(data_, 0);  // extra
    Put16(data_, 0);  // comment
    Put16(data_, 0);  // disk
    Put16(data_, 0);  // internal attributes
    Put32(data_, 0);  // external attributes
    Put32(data_, entry.offset);
    data_ += entry.name;
  }
  const uint32_t directorySize = static_cast<uint32_t>(data_.size()) - directoryOffset;
  Put32(data_, 0x06054b50);
  Put16(data_, 0);
  Put16(data_, 0);
  Put16(data_, static_cast<uint32_t>(entries_.size()));
  Put16(data_, static_cast<uint32_t>(entries_.size()));
  Put32(data_, directorySize);
  Put32(data_, directoryOffset);
  Put16(data_, 0);
  return std::move(data_);
}

}  // namespace HospitalBridge
