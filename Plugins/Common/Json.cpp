#include "Common/Json.h"

#include <memory>
#include <sstream>

#include "Common/Errors.h"
#include "Common/Text.h"

namespace HospitalBridge {
namespace JsonText {
namespace {
bool ParseWith(Json::CharReaderBuilder& builder, const std::string& text, Json::Value& value,
               std::string& errors) {
  std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  try {
    return reader->parse(text.data(), text.data() + text.size(), &value, &errors);
  } catch (const std::exception& e) {  // JsonCpp throws past its stackLimit
    errors = e.what();
    return false;
  }
}

// The first string (member names included) that is not well-formed UTF-8 or
// holds a NUL (e.g. from "\udc00" or "\u0000"); "" when all are clean.
bool HasBadString(const Json::Value& value, std::string& where, const std::string& path) {
  if (value.isString()) {
    const std::string text = value.asString();
    if (!Text::IsValidUtf8(text) || text.find('\0') != std::string::npos) {
      where = path.empty() ? "the body" : path;
      return true;
    }
  } else if (value.isObject()) {
    for (const std::string& name : value.getMemberNames()) {
      if (!Text::IsValidUtf8(name) || name.find('\0') != std::string::npos) {
        where = "a field name";
        return true;
      }
      if (HasBadString(value[name], where, name)) return true;
    }
  } else if (value.isArray()) {
    for (const Json::Value& item : value) {
      if (HasBadString(item, where, path)) return true;
    }
  }
  return false;
}

bool NeedsRepair(const Json::Value& value) {
  if (value.isString()) return !Text::IsValidUtf8(value.asString());
  if (value.isObject()) {
    for (const std::string& name : value.getMemberNames()) {
      if (!Text::IsValidUtf8(name) || NeedsRepair(value[name])) return true;
    }
  } else if (value.isArray()) {
    for (const Json::Value& item : value) {
      if (NeedsRepair(item)) return true;
    }
  }
  return false;
}

Json::Value Repaired(const Json::Value& value) {
  if (value.isString()) return Json::Value(Text::ToValidUtf8(value.asString()));
  if (value.isObject()) {
    Json::Value out(Json::objectValue);
    for (const std::string& name : value.getMemberNames())
      out[Text::ToValidUtf8(name)] = Repaired(value[name]);
    return out;
  }
  if (value.isArray()) {
    Json::Value out(Json::arrayValue);
    for (const Json::Value& item : value) out.append(Repaired(item));
    return out;
  }
  return value;
}
}  // namespace

Json::Value ParseRequestObject(const std::string& body) {
  Json::CharReaderBuilder builder;
  Json::CharReaderBuilder::strictMode(&builder.settings_);
  builder.settings_["stackLimit"] = 64;
  Json::Value value;
  std::string errors;
  if (body.empty()) throw DomainError::Invalid("The request body is empty", "a JSON object is expected");
  if (!Text::IsValidUtf8(body)) throw DomainError::Invalid("The request body is not valid UTF-8");
  if (!ParseWith(builder, body, value, errors)) {
    if (errors.find("stackLimit") != std::string::npos) {
      throw DomainError::Invalid("The request body nests too deeply",
                                 "at most 64 levels of arrays and objects");
    }
    throw DomainError::Invalid("The request body is not valid JSON", errors);
  }
  if (!value.isObject()) throw DomainError::Invalid("The request body must be a JSON object");
  std::string where;
  if (HasBadString(value, where, "")) {
    throw DomainError::Invalid("The request body holds text that is not valid UTF-8", where);
  }
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
  // Text stored before it was checked (or read from a DICOM file) may hold
  // ill-formed UTF-8, which would make the whole answer invalid JSON.
  return Json::writeString(builder, NeedsRepair(value) ? Repaired(value) : value);
}

std::string WriteExact(const Json::Value& value) {
  Json::StreamWriterBuilder builder;
  builder["indentation"] = "";
  builder["emitUTF8"] = true;
  return Json::writeString(builder, value);
}

void MakeValidUtf8(Json::Value& value) {
  if (NeedsRepair(value)) value = Repaired(value);
}

}  // namespace JsonText
}  // namespace HospitalBridge
