#include "OrthancAdapter/SdkOrthancRest.h"

namespace HospitalBridge {
namespace {
bool Finish(OrthancPluginContext* context, OrthancPluginErrorCode code, OrthancPluginMemoryBuffer& buffer,
            const std::string& what, std::string& body) {
  if (code == OrthancPluginErrorCode_UnknownResource || code == OrthancPluginErrorCode_InexistentItem) {
    return false;
  }
  if (code == OrthancPluginErrorCode_BadFileFormat || code == OrthancPluginErrorCode_BadRequest ||
      code == OrthancPluginErrorCode_IncompatibleImageFormat ||
      code == OrthancPluginErrorCode_CorruptedFile || code == OrthancPluginErrorCode_InexistentTag ||
      code == OrthancPluginErrorCode_ParameterOutOfRange || code == OrthancPluginErrorCode_NotImplemented) {
    throw OrthancRejected(OrthancPluginGetErrorDescription(context, code));
  }
  if (code != OrthancPluginErrorCode_Success) {
    throw OrthancUnavailable("Orthanc failed on " + what + ": " +
                             OrthancPluginGetErrorDescription(context, code));
  }
  body.assign(static_cast<const char*>(buffer.data), buffer.size);
  OrthancPluginFreeMemoryBuffer(context, &buffer);
  return true;
}
}  // namespace

bool SdkOrthancRest::Get(const std::string& uri, std::string& body) {
  OrthancPluginMemoryBuffer buffer;
  OrthancPluginErrorCode code = OrthancPluginRestApiGet(context_, &buffer, uri.c_str());
  return Finish(context_, code, buffer, "GET " + uri, body);
}

bool SdkOrthancRest::GetAs(const std::string& uri, const std::string& accept, std::string& body) {
  OrthancPluginMemoryBuffer buffer;
  const char* keys[] = {"Accept"};
  const char* values[] = {accept.c_str()};
  OrthancPluginErrorCode code = OrthancPluginRestApiGet2(context_, &buffer, uri.c_str(), 1, keys, values, 0);
  return Finish(context_, code, buffer, "GET " + uri, body);
}

bool SdkOrthancRest::Post(const std::string& uri, const std::string& body, std::string& answer) {
  OrthancPluginMemoryBuffer buffer;
  OrthancPluginErrorCode code = OrthancPluginRestApiPost(context_, &buffer, uri.c_str(), body.data(),
                                                         static_cast<uint32_t>(body.size()));
  return Finish(context_, code, buffer, "POST " + uri, answer);
}

bool SdkOrthancRest::Delete(const std::string& uri) {
  OrthancPluginErrorCode code = OrthancPluginRestApiDelete(context_, uri.c_str());
  if (code == OrthancPluginErrorCode_UnknownResource || code == OrthancPluginErrorCode_InexistentItem) {
    return false;
  }
  if (code != OrthancPluginErrorCode_Success) {
    throw OrthancUnavailable("Orthanc failed on DELETE " + uri + ": " +
                             OrthancPluginGetErrorDescription(context_, code));
  }
  return true;
}

}  // namespace HospitalBridge
