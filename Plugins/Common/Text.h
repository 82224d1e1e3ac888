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

}  // namespace Text
}  // namespace HospitalBridge
