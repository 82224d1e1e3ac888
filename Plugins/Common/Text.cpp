#include "Common/Text.h"

#include <cstdint>
#include <vector>

namespace HospitalBridge {
namespace Text {
namespace {
bool Each(const std::string& text, size_t minLength, size_t maxLength,
          bool (*allowed)(char, const std::string&), const std::string& extra) {
  if (text.size() < minLength || text.size() > maxLength) return false;
  for (char c : text) {
    if (!allowed(c, extra)) return false;
  }
  return true;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
}  // namespace

bool IsIdentifier(const std::string& text, const std::string& extra, size_t minLength, size_t maxLength) {
  return Each(
      text, minLength, maxLength,
      [](char c, const std::string& more) {
        return IsLetter(c) || IsDigit(c) || more.find(c) != std::string::npos;
      },
      extra);
}

bool IsDigits(const std::string& text, size_t minLength, size_t maxLength) {
  return Each(
      text, minLength, maxLength, [](char c, const std::string&) { return IsDigit(c); }, "");
}

std::string LikeContains(const std::string& word) {
  std::string escaped;
  for (char c : word) {
    if (c == '%' || c == '_' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return "%" + escaped + "%";
}

std::string Trim(const std::string& text) {
  const char* const kSpace = " \t\r\n";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::string PersonNameForDisplay(const std::string& pn) {
  const std::string alphabetic = pn.substr(0, pn.find('='));
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t caret = alphabetic.find('^', start);
    parts.push_back(
        Trim(alphabetic.substr(start, caret == std::string::npos ? std::string::npos : caret - start)));
    if (caret == std::string::npos) break;
    start = caret + 1;
  }
  parts.resize(5);
  // family, given, middle, prefix, suffix
  std::string given = parts[1];
  if (!parts[2].empty()) given += (given.empty() ? "" : " ") + parts[2];
  std::string name = parts[0];
  if (!given.empty()) name += (name.empty() ? "" : ", ") + given;
  if (!parts[3].empty()) name = parts[3] + " " + name;
  if (!parts[4].empty()) name += " " + parts[4];
  return name;
}

bool IsUserName(const std::string& name) {
  return IsIdentifier(name, "._@-", 1, 64) && name != "." && name != "..";
}

namespace {
// The length of the well-formed UTF-8 sequence at `i`, or 0.
size_t Utf8SequenceLength(const std::string& text, size_t i) {
  const auto byte = [&](size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t length = 0;
  uint32_t point = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
    point = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    point = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    point = c & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; k++) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    point = point << 6 | (byte(i + k) & 0x3F);
  }
  if ((length == 3 && point < 0x800) || (length == 4 && (point < 0x10000 || point > 0x10FFFF))) return 0;
  if (point >= 0xD800 && point <= 0xDFFF) return 0;  // surrogates
  return length;
}
}  // namespace

bool IsValidUtf8(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string ToValidUtf8(const std::string& text) {
  if (IsValidUtf8(text)) return text;
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      i++;
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  return out;
}

std::string EscapeForLog(const std::string& text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t length = Utf8SequenceLength(text, i);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (length == 0 || c < 0x20 || c == 0x7F) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.append(text, i, length);
      i += length;
      continue;
    }
    i++;
  }
  return out;
}

}  // namespace Text
}  // namespace HospitalBridge
