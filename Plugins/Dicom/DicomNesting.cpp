#include "Dicom/DicomNesting.h"

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace HospitalBridge {
namespace {
const uint32_t kUndefinedLength = 0xFFFFFFFF;
const uint16_t kItemGroup = 0xFFFE;
const uint16_t kItem = 0xE000;
const uint16_t kItemDelimitation = 0xE00D;
const uint16_t kSequenceDelimitation = 0xE0DD;

struct Encoding {
  bool explicitVr = true;
  bool bigEndian = false;
};

enum class Kind { kDataset, kSequence, kFragments };

struct Frame {
  Kind kind;
  bool undefined;  // ends with a delimitation item rather than at `end`
  size_t end;
  Encoding encoding;
};

bool IsLongVr(const char* vr) {
  static const char* const kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                      "SV", "UC", "UN", "UR", "UT", "UV"};
  for (const char* candidate : kLong) {
    if (std::memcmp(vr, candidate, 2) == 0) return true;
  }
  return false;
}

bool LooksLikeVr(const char* vr) { return vr[0] >= 'A' && vr[0] <= 'Z' && vr[1] >= 'A' && vr[1] <= 'Z'; }

class Walker {
 public:
  Walker(const std::string& data, int maxDepth) : data_(data), maxDepth_(maxDepth) {}

  // Walks from `start` to the end as one dataset; fills `result`.
  void Walk(size_t start, Encoding encoding, NestingCheck& result) {
    std::vector<Frame> stack;
    stack.push_back(Frame{Kind::kDataset, false, data_.size(), encoding});
    size_t pos = start;
    int depth = 0;
    while (!stack.empty()) {
      Frame& frame = stack.back();
      if (!frame.undefined && pos >= frame.end) {
        pos = frame.end;
        if (frame.kind == Kind::kSequence) depth--;
        stack.pop_back();
        continue;
      }
      if (pos + 8 > data_.size() || (!frame.undefined && pos + 8 > frame.end))
        return;  // truncated: Orthanc decides
      const Encoding enc = frame.encoding;
      const uint16_t group = U16(pos, enc.bigEndian);
      const uint16_t element = U16(pos + 2, enc.bigEndian);
      const bool delimiter = group == kItemGroup;

      if (frame.kind == Kind::kSequence || frame.kind == Kind::kFragments) {
        if (delimiter && element == kSequenceDelimitation) {
          pos += 8;
          if (frame.kind == Kind::kSequence) depth--;
          stack.pop_back();
          continue;
        }
        if (!delimiter || element != kItem) return;  // broken framing
        const uint32_t length = U32(pos + 4, enc.bigEndian);
        pos += 8;
        if (frame.kind == Kind::kFragments) {
          if (length == kUndefinedLength || pos + length > data_.size()) return;
          pos += length;
          continue;
        }
        if (length == kUndefinedLength) {
          stack.push_back(Frame{Kind::kDataset, true, 0, enc});
        } else {
          if (pos + length > data_.size() || (!frame.undefined && pos + length > frame.end)) return;
          stack.push_back(Frame{Kind::kDataset, false, pos + length, enc});
        }
        continue;
      }

      // A dataset (the file's, or an item's).
      if (delimiter) {
        if (element == kItemDelimitation && frame.undefined) {
          pos += 8;
          stack.pop_back();
          continue;
        }
        return;  // broken framing
      }
      char vr[2] = {0, 0};
      uint32_t length = 0;
      if (enc.explicitVr) {
        vr[0] = data_[pos + 4];
        vr[1] = data_[pos + 5];
        if (!LooksLikeVr(vr)) return;
        if (IsLongVr(vr)) {
          if (pos + 12 > data_.size()) return;
          length = U32(pos + 8, enc.bigEndian);
          pos += 12;
        } else {
          length = U16(pos + 6, enc.bigEndian);
          pos += 8;
        }
      } else {
        length = U32(pos + 4, enc.bigEndian);
        pos += 8;
      }
      const bool isSq = enc.explicitVr && std::memcmp(vr, "SQ", 2) == 0;
      const bool isUn = enc.explicitVr && std::memcmp(vr, "UN", 2) == 0;
      // An undefined-length UN element is a sequence in implicit VR little
      // endian (PS3.5 6.2.2); so is, to a parser, an implicit-VR value
      // that starts with an item.
      const Encoding inner = isUn ? Encoding{false, false} : enc;
      if (length == kUndefinedLength) {
        if (enc.explicitVr && !isSq && !isUn) {
          stack.push_back(Frame{Kind::kFragments, true, 0, enc});  // encapsulated pixel data
          continue;
        }
        if (!Enter(depth, result)) return;
        stack.push_back(Frame{Kind::kSequence, true, 0, inner});
        continue;
      }
      const size_t valueEnd = pos + length;
      if (valueEnd > data_.size() || (!frame.undefined && valueEnd > frame.end)) return;
      const bool startsWithItem =
          length >= 8 && U16(pos, inner.bigEndian) == kItemGroup && U16(pos + 2, inner.bigEndian) == kItem;
      if (isSq || ((!enc.explicitVr || isUn) && startsWithItem)) {
        if (!Enter(depth, result)) return;
        stack.push_back(Frame{Kind::kSequence, false, valueEnd, inner});
        continue;
      }
      pos = valueEnd;
    }
  }

 private:
  bool Enter(int& depth, NestingCheck& result) {
    depth++;
    if (depth > result.deepest) result.deepest = depth;
    if (depth > maxDepth_) {
      result.acceptable = false;
      result.reason = "the file's sequences nest more than " + std::to_string(maxDepth_) +
                      " levels deep, which this server does not accept";
      return false;
    }
    return true;
  }

  uint16_t U16(size_t at, bool big) const {
    const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + at);
    return big ? static_cast<uint16_t>(p[0] << 8 | p[1]) : static_cast<uint16_t>(p[1] << 8 | p[0]);
  }
  uint32_t U32(size_t at, bool big) const {
    const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + at);
    return big ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])
               : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]);
  }

  const std::string& data_;
  const int maxDepth_;
};

// The transfer syntax of a Part 10 file's meta group, and where the dataset
// starts; false if the meta group cannot be read.
bool ReadMetaHeader(const std::string& file, std::string& transferSyntax, size_t& datasetStart) {
  size_t pos = 132;
  while (pos + 8 <= file.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(file.data() + pos);
    const uint16_t group = static_cast<uint16_t>(p[1] << 8 | p[0]);
    const uint16_t element = static_cast<uint16_t>(p[3] << 8 | p[2]);
    if (group != 0x0002) break;
    const char* vr = file.data() + pos + 4;
    if (!LooksLikeVr(vr)) return false;
    size_t header = 8;
    uint32_t length = static_cast<uint32_t>(p[7] << 8 | p[6]);
    if (IsLongVr(vr)) {
      if (pos + 12 > file.size()) return false;
      header = 12;
      length = uint32_t(p[11]) << 24 | uint32_t(p[10]) << 16 | uint32_t(p[9]) << 8 | p[8];
    }
    if (length == kUndefinedLength || pos + header + length > file.size()) return false;
    if (element == 0x0010) {
      transferSyntax = file.substr(pos + header, length);
      while (!transferSyntax.empty() && (transferSyntax.back() == '\0' || transferSyntax.back() == ' ')) {
        transferSyntax.pop_back();
      }
    }
    pos += header + length;
  }
  datasetStart = pos;
  return true;
}

bool Inflate(const std::string& compressed, size_t start, size_t maxBytes, std::string& out) {
  z_stream stream;
  std::memset(&stream, 0, sizeof(stream));
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) return false;
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + start));
  stream.avail_in = static_cast<uInt>(compressed.size() - start);
  char buffer[65536];
  int code = Z_OK;
  while (code == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    code = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
    if (out.size() > maxBytes) code = Z_MEM_ERROR;
    if (code == Z_BUF_ERROR && stream.avail_in == 0) code = Z_STREAM_END;  // truncated: keep what came
  }
  inflateEnd(&stream);
  return code == Z_STREAM_END;
}
}  // namespace

NestingCheck CheckDicomNesting(const std::string& file, int maxDepth, size_t maxInflatedBytes) {
  NestingCheck result;
  Encoding encoding;
  size_t start = 0;
  const bool part10 = file.size() >= 132 && file.compare(128, 4, "DICM") == 0;
  if (part10) {
    std::string transferSyntax;
    if (!ReadMetaHeader(file, transferSyntax, start)) return result;
    if (transferSyntax == "1.2.840.10008.1.2") {
      encoding = Encoding{false, false};
    } else if (transferSyntax == "1.2.840.10008.1.2.2") {
      encoding = Encoding{true, true};
    } else if (transferSyntax == "1.2.840.10008.1.2.1.99") {
      std::string inflated;
      if (!Inflate(file, start, maxInflatedBytes, inflated)) {
        if (inflated.size() > maxInflatedBytes) {
          result.acceptable = false;
          result.reason = "the file's deflated dataset is larger than this server accepts";
        }
        return result;
      }
      Walker(inflated, maxDepth).Walk(0, Encoding{true, false}, result);
      return result;
    }
  } else if (file.size() >= 8) {
    // A bare dataset: a parser guesses its encoding from the first element.
    encoding.explicitVr = LooksLikeVr(file.data() + 4);
  }
  Walker(file, maxDepth).Walk(start, encoding, result);
  return result;
}

}  // namespace HospitalBridge
