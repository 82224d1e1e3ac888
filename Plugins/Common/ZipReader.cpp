#include "Common/ZipReader.h"

#include <zlib.h>

#include <cstring>

namespace HospitalBridge {
namespace {
const uint32_t kLocalHeader = 0x04034b50;
const uint32_t kCentralHeader = 0x02014b50;
const uint32_t kEndOfDirectory = 0x06054b50;
const uint32_t kZip64Locator = 0x07064b50;
const uint32_t kZip64End = 0x06064b50;
const size_t kMaxEntries = 200000;

uint64_t Le(const std::string& data, uint64_t at, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; i--) value = value << 8 | static_cast<unsigned char>(data[at + i]);
  return value;
}

bool Fits(const std::string& data, uint64_t at, uint64_t length) {
  return at <= data.size() && length <= data.size() - at;
}
}  // namespace

bool ZipReader::LooksLikeZip(const std::string& data) {
  return data.size() >= 4 && Le(data, 0, 4) == kLocalHeader;
}

bool ZipReader::Open(const std::string& data, std::string& error) {
  data_ = &data;
  entries_.clear();
  if (data.size() < 22) {
    error = "the ZIP archive is truncated";
    return false;
  }
  // The end-of-directory record is last, followed by a comment of at most
  // 65535 bytes.
  uint64_t end = data.size() - 22;
  const uint64_t lowest = data.size() > 22 + 65535 ? data.size() - 22 - 65535 : 0;
  while (Le(data, end, 4) != kEndOfDirectory) {
    if (end == lowest) {
      error = "the ZIP archive has no central directory (truncated?)";
      return false;
    }
    end--;
  }
  uint64_t count = Le(data, end + 10, 2);
  uint64_t directorySize = Le(data, end + 12, 4);
  uint64_t directoryOffset = Le(data, end + 16, 4);
  if ((count == 0xFFFF || directoryOffset == 0xFFFFFFFF || directorySize == 0xFFFFFFFF) && end >= 20 &&
      Le(data, end - 20, 4) == kZip64Locator) {
    const uint64_t zip64End = Le(data, end - 20 + 8, 8);
    if (!Fits(data, zip64End, 56) || Le(data, zip64End, 4) != kZip64End) {
      error = "the ZIP64 directory record is damaged";
      return false;
    }
    count = Le(data, zip64End + 32, 8);
    directorySize = Le(data, zip64End + 40, 8);
    directoryOffset = Le(data, zip64End + 48, 8);
  }
  if (count > kMaxEntries || !Fits(data, directoryOffset, directorySize)) {
    error = "the ZIP archive's directory is damaged";
    return false;
  }
  uint64_t pos = directoryOffset;
  for (uint64_t i = 0; i < count; i++) {
    if (!Fits(data, pos, 46) || Le(data, pos, 4) != kCentralHeader) {
      error = "the ZIP archive's directory is damaged";
      return false;
    }
    Entry entry;
    entry.encrypted = (Le(data, pos + 8, 2) & 1) != 0;
    entry.method = static_cast<uint16_t>(Le(data, pos + 10, 2));
    entry.compressedSize = Le(data, pos + 20, 4);
    entry.size = Le(data, pos + 24, 4);
    const uint64_t nameLength = Le(data, pos + 28, 2);
    const uint64_t extraLength = Le(data, pos + 30, 2);
    const uint64_t commentLength = Le(data, pos + 32, 2);
    entry.localHeaderOffset = Le(data, pos + 42, 4);
    if (!Fits(data, pos + 46, nameLength + extraLength + commentLength)) {
      error = "the ZIP archive's directory is damaged";
      return false;
    }
    entry.name = data.substr(pos + 46, nameLength);
    // ZIP64 sizes and offset, in this order, for the fields set to all ones.
    uint64_t extra = pos + 46 + nameLength;
    const uint64_t extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const uint64_t id = Le(data, extra, 2);
      const uint64_t length = Le(data, extra + 2, 2);
      uint64_t field = extra + 4;
      if (id == 0x0001) {
        auto take = [&](uint64_t& value) {
          if (value == 0xFFFFFFFF && field + 8 <= extra + 4 + length) {
            value = Le(data, field, 8);
            field += 8;
          }
        };
        take(entry.size);
        take(entry.compressedSize);
        take(entry.localHeaderOffset);
      }
      extra += 4 + length;
    }
    entries_.push_back(entry);
    pos += 46 + nameLength + extraLength + commentLength;
  }
  return true;
}

bool ZipReader::Read(const Entry& entry, size_t maxBytes, std::string& content, std::string& error) const {
  const std::string& data = *data_;
  content.clear();
  if (entry.encrypted) {
    error = entry.name + " is encrypted";
    return false;
  }
  const uint64_t header = entry.localHeaderOffset;
  if (!Fits(data, header, 30) || Le(data, header, 4) != kLocalHeader) {
    error = entry.name + ": damaged entry";
    return false;
  }
  const uint64_t start = header + 30 + Le(data, header + 26, 2) + Le(data, header + 28, 2);
  if (!Fits(data, start, entry.compressedSize)) {
    error = entry.name + ": truncated entry";
    return false;
  }
  if (entry.size > maxBytes) {
    error = entry.name + " is larger than this server accepts";
    return false;
  }
  if (entry.method == 0) {
    content = data.substr(start, entry.compressedSize);
    return true;
  }
  if (entry.method != 8) {
    error = entry.name + ": unsupported compression method " + std::to_string(entry.method);
    return false;
  }
  z_stream stream;
  std::memset(&stream, 0, sizeof(stream));
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) {
    error = "cannot inflate";
    return false;
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + start));
  stream.avail_in = static_cast<uInt>(entry.compressedSize);
  char buffer[65536];
  int code = Z_OK;
  while (code == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    code = inflate(&stream, Z_NO_FLUSH);
    content.append(buffer, sizeof(buffer) - stream.avail_out);
    if (content.size() > maxBytes) code = Z_MEM_ERROR;
  }
  inflateEnd(&stream);
  if (code != Z_STREAM_END) {
    error =
        entry.name + (content.size() > maxBytes ? " is larger than this server accepts" : ": damaged data");
    return false;
  }
  return true;
}

}  // namespace HospitalBridge
