#include "Common/Text.h"

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

}  // namespace Text
}  // namespace HospitalBridge
