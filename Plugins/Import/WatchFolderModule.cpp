#include "Import/WatchFolderModule.h"

namespace HospitalBridge {

WatchFolderModule::WatchFolderModule(const ModuleContext& context, const WatchFolderSettings& settings) {
  if (!settings.folders.empty()) {
    importer_ = std::make_unique<WatchFolderImporter>(settings, context.orthanc, &context.leases);
  }
}

void WatchFolderModule::Start() {
  if (importer_) importer_->Start();
}

void WatchFolderModule::Stop() {
  if (importer_) importer_->Stop();
}

void WatchFolderModule::Describe(Json::Value& section) {
  if (importer_) {
    section = importer_->Status();
  } else {
    section["enabled"] = false;
    section["folders"] = Json::Value(Json::arrayValue);
  }
}

}  // namespace HospitalBridge
