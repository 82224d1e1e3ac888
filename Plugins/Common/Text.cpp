#include "Common/Text.h"

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

}  // namespace Text
}  // namespace HospitalBridge
