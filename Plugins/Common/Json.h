#pragma once
// JSON in and out, with the strictness each side needs.
#include <json/json.h>

#include <string>

namespace HospitalBridge {
namespace JsonText {

// A client's request body: strict JSON, one object. Throws DomainError (invalid)
// saying what is wrong.
Json::Value ParseRequestObject(const std::string& body);

// Configuration files: comments allowed, as in orthanc.json. Throws
// StartupError naming `what`.
Json::Value ParseConfiguration(const std::string& text, const std::string& what);

// Lenient parse of Orthanc's own answers; false if not JSON.
bool Parse(const std::string& text, Json::Value& value);

std::string Write(const Json::Value& value);  // compact, always well-formed UTF-8

// Byte for byte what JsonCpp writes, ill-formed UTF-8 included: for hashes
// over text stored long ago, which must come out as they went in.
std::string WriteExact(const Json::Value& value);

// Replaces ill-formed UTF-8 in every string (and member name) by U+FFFD.
void MakeValidUtf8(Json::Value& value);

}  // namespace JsonText
}  // namespace HospitalBridge
