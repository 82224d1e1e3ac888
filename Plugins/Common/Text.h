#pragma once
// Checks on short identifiers from configuration and requests.
#include <string>

namespace HospitalBridge {
namespace Text {

// True when `text` has between `minLength` and `maxLength` characters, each
// an ASCII letter, a digit, or one of `extra`.
bool IsIdentifier(const std::string& text, const std::string& extra, size_t minLength, size_t maxLength);
bool IsDigits(const std::string& text, size_t minLength, size_t maxLength);

// A LIKE pattern (with ESCAPE '\\') that finds `word` literally anywhere:
// '%' and '_' typed by a user are not wildcards.
std::string LikeContains(const std::string& word);
// A DICOM person name ("DOE^JANE^M^^") as people write it on paper:
// "DOE, JANE M". Ideographic and phonetic groups (after '=') are dropped.
std::string PersonNameForDisplay(const std::string& pn);
// Without leading and trailing spaces, tabs and line breaks.
std::string Trim(const std::string& text);

// A user name: 1 to 64 letters, digits, '.', '_', '@' or '-', and not "." or
// ".." (it must survive as a URL path segment: /bridge/users/{name}).
bool IsUserName(const std::string& name);

// Well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF).
bool IsValidUtf8(const std::string& text);
// The same text with every ill-formed byte replaced by U+FFFD.
std::string ToValidUtf8(const std::string& text);
// For a log line: control characters (newlines included) and ill-formed
// bytes written as \n, \r, \t or \xNN, so that nothing a client sent can
// start a line of its own or garble the log.
std::string EscapeForLog(const std::string& text);

}  // namespace Text
}  // namespace HospitalBridge
