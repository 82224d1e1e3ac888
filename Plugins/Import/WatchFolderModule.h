#pragma once
// The scanner watch folders as a module: a thread that imports what a
// scanner's PC drops into the configured folders, and its state in
// /bridge/system ("watch_folders").
#include <memory>
#include <string>

#include "Common/Module.h"
#include "Import/WatchFolderImporter.h"
#include "Import/WatchFolderSettings.h"

namespace HospitalBridge {

class WatchFolderModule : public IModule {
 public:
  WatchFolderModule(const ModuleContext& context, const WatchFolderSettings& settings);

  std::string Name() const override { return "watch_folders"; }
  void Start() override;
  void Stop() override;
  void Describe(Json::Value& section) override;

 private:
  std::unique_ptr<WatchFolderImporter> importer_;
};

}  // namespace HospitalBridge
