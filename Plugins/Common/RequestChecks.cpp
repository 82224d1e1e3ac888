#include "Common/RequestChecks.h"

#include <algorithm>
#include <string>

#include "Common/Errors.h"
#include "Common/Text.h"

namespace HospitalBridge {

namespace {
bool Known(const std::string& name, std::initializer_list<const char*> known) {
  return std::any_of(known.begin(), known.end(), [&name](const char* k) { return name == k; });
}

std::string List(std::initializer_list<const char*> known) {
  std::string list;
  for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
  return list;
}
}  // namespace

void RejectUnknownParameters(const HttpRequest& request, std::initializer_list<const char*> known) {
  for (const auto& parameter : request.query) {
    if (!Known(parameter.first, known)) {
      throw DomainError::Invalid("Unknown parameter: " + parameter.first, "known parameters: " + List(known));
    }
  }
}

void RejectUnknownFields(const Json::Value& body, std::initializer_list<const char*> known) {
  for (const std::string& name : body.getMemberNames()) {
    if (!Known(name, known)) throw DomainError::Invalid("Unknown field: " + name, "fields: " + List(known));
  }
}

int IntegerParameter(const HttpRequest& request, const char* name, int fallback, int min, int max) {
  if (!request.HasQuery(name)) return fallback;
  const std::string text = request.Query(name);
  if (!Text::IsDigits(text, 1, 9)) {
    throw DomainError::Invalid(std::string("Invalid parameter: ") + name,
                               std::string(name) + " must be a whole number, got \"" + text + "\"");
  }
  const int value = std::stoi(text);
  if (value < min || value > max) {
    throw DomainError::Invalid(
        std::string("Invalid parameter: ") + name,
        std::string(name) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

}  // namespace HospitalBridge
