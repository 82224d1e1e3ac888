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

void ZipWriter::Emit(const std::string& bytes) {
  written_ += bytes.size();
  if (!sink_) {
    data_ += bytes;
  } else if (!sink_(bytes)) {
    throw Abandoned();
  }
}

void ZipWriter::Add(const std::string& name, const std::string& content) {
  if (written_ + content.size() + name.size() + 64 > std::numeric_limits<uint32_t>::max()) {
    throw std::runtime_error("the archive would exceed 4 GiB");
  }
  if (entries_.size() >= 0xffff) throw std::runtime_error("the archive would hold more than 65534 files");
  Entry entry;
  entry.name = name;
  entry.size = static_cast<uint32_t>(content.size());
  entry.offset = static_cast<uint32_t>(written_);
  entry.crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(content.data()), static_cast<uInt>(content.size())));
  std::string header;
  Put32(header, 0x04034b50);
  Put16(header, 10);  // version needed: 1.0 (stored)
  Put16(header, kUtf8Names);
  Put16(header, 0);  // stored
  Put16(header, kDosTime);
  Put16(header, kDosDate);
  Put32(header, entry.crc);
  Put32(header, entry.size);
  Put32(header, entry.size);
  Put16(header, static_cast<uint32_t>(name.size()));
  Put16(header, 0);
  header += name;
  entries_.push_back(entry);
  Emit(header);
  Emit(content);
}

std::string ZipWriter::Finish() {
  const uint32_t directoryOffset = static_cast<uint32_t>(written_);
  std::string directory;
  for (const Entry& entry : entries_) {
    Put32(directory, 0x02014b50);
    Put16(directory, 20);  // made by: 2.0
    Put16(directory, 10);
    Put16(directory, kUtf8Names);
    Put16(directory, 0);
    Put16(directory, kDosTime);
    Put16(directory, kDosDate);
    Put32(directory, entry.crc);
    Put32(directory, entry.size);
    Put32(directory, entry.size);
    Put16(directory, static_cast<uint32_t>(entry.name.size()));
    Put16(directory, 0);  // extra
    Put16(directory, 0);  // comment
    Put16(directory, 0);  // disk
    Put16(directory, 0);  // internal attributes
    Put32(directory, 0);  // external attributes
    Put32(directory, entry.offset);
    directory += entry.name;
  }
  const uint32_t directorySize = static_cast<uint32_t>(directory.size());
  Put32(directory, 0x06054b50);
  Put16(directory, 0);
  Put16(directory, 0);
  Put16(directory, static_cast<uint32_t>(entries_.size()));
  Put16(directory, static_cast<uint32_t>(entries_.size()));
  Put32(directory, directorySize);
  Put32(directory, directoryOffset);
  Put16(directory, 0);
  Emit(directory);
  return std::move(data_);
}

}  // namespace HospitalBridge
