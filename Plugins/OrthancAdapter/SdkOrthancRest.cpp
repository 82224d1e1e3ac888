#include "OrthancAdapter/SdkOrthancRest.h"

namespace HospitalBridge {

bool SdkOrthancRest::Get(const std::string& uri, std::string& body) {
  OrthancPluginMemoryBuffer buffer;
  OrthancPluginErrorCode code = OrthancPluginRestApiGet(context_, &buffer, uri.c_str());
  if (code == OrthancPluginErrorCode_UnknownResource || code == OrthancPluginErrorCode_InexistentItem) {
    return false;
  }
  if (code != OrthancPluginErrorCode_Success) {
    throw OrthancUnavailable("Orthanc failed on GET " + uri + ": " +
                             OrthancPluginGetErrorDescription(context_, code));
  }
  body.assign(static_cast<const char*>(buffer.data), buffer.size);
  OrthancPluginFreeMemoryBuffer(context_, &buffer);
  return true;
}

}  // namespace HospitalBridge
