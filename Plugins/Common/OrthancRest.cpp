#include "Common/OrthancRest.h"

#include "Common/Json.h"

namespace HospitalBridge {

bool IOrthancRest::GetJson(const std::string& uri, Json::Value& value) {
  std::string body;
  if (!Get(uri, body)) return false;
  if (!JsonText::Parse(body, value)) throw OrthancUnavailable("Orthanc's answer to " + uri + " is not JSON");
  return true;
}

}  // namespace HospitalBridge
