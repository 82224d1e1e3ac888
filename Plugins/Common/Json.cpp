#include "Common/Json.h"

#include <memory>
#include <sstream>

#include "Common/Errors.h"

namespace HospitalBridge {
namespace JsonText {
namespace {
bool ParseWith(Json::CharReaderBuilder& builder, const std::string& text, Json::Value& value,
               std::string& errors) {
  std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  return reader->parse(text.data(), text.data() + text.size(), &value, &errors);
}
}  // namespace

Json::Value ParseRequestObject(const std::string& body) {
  Json::CharReaderBuilder builder;
  Json::CharReaderBuilder::strictMode(&builder.settings_);
  builder.settings_["stackLimit"] = 64;
  Json::Value value;
  std::string errors;
  if (body.empty()) throw HttpError(400, "The request body is empty", "a JSON object is expected");
  if (!ParseWith(builder, body, value, errors)) {
    throw HttpError(400, "The request body is not valid JSON", errors);
  }
  if (!value.isObject()) throw HttpError(400, "The request body must be a JSON object");
  return value;
}

Json::Value ParseConfiguration(const std::string& text, const std::string& what) {
  Json::CharReaderBuilder builder;
  builder.settings_["allowComments"] = true;
  builder.settings_["rejectDupKeys"] = true;
  Json::Value value;
  std::string errors;
  if (!ParseWith(builder, text, value, errors)) {
    throw StartupError(what + " is not valid JSON: " + errors);
  }
  return value;
}

bool Parse(const std::string& text, Json::Value& value) {
  Json::CharReaderBuilder builder;
  std::string errors;
  return ParseWith(builder, text, value, errors);
}

std::string Write(const Json::Value& value) {
  Json::StreamWriterBuilder builder;
  builder["indentation"] = "";
  builder["emitUTF8"] = true;
  return Json::writeString(builder, value);
}

}  // namespace JsonText
}  // namespace HospitalBridge
