#pragma once
// IOrthancRest over the plugin SDK: in-process calls to Orthanc's REST API.
#include <orthanc/OrthancCPlugin.h>

#include "Common/OrthancRest.h"

namespace HospitalBridge {

class SdkOrthancRest : public IOrthancRest {
 public:
  explicit SdkOrthancRest(OrthancPluginContext* context) : context_(context) {}
  bool Get(const std::string& uri, std::string& body) override;
  bool GetAs(const std::string& uri, const std::string& accept, std::string& body) override;
  bool Post(const std::string& uri, const std::string& body, std::string& answer) override;
  bool Delete(const std::string& uri) override;

 private:
  OrthancPluginContext* context_;
};

}  // namespace HospitalBridge
