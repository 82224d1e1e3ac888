#include "Viewer/ViewerSettings.h"

#include "Common/Errors.h"

namespace HospitalBridge {
namespace {
std::string WithoutTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

void CheckDicomWebRoot(const SettingsReader& read, const char* option, const char* expected) {
  const Json::Value& dicomWeb = read.Orthanc()["DicomWeb"];
  if (!dicomWeb.isObject() || !dicomWeb.isMember(option)) return;
  const Json::Value& value = dicomWeb[option];
  if (value.isString() && WithoutTrailingSlashes(value.asString()) == expected) return;
  throw StartupError(std::string("DicomWeb.") + option + " must be \"" + expected +
                     "/\" (or left out): HospitalBridge's gate admits and audits DICOMweb there only, got " +
                     value.toStyledString());
}
}  // namespace

ViewerSettings ReadViewerSettings(const SettingsReader& read) {
  ViewerSettings viewer;
  viewer.enabled = read.ModuleEnabled("Viewer");
  viewer.directory = WithoutTrailingSlashes(read.String("Viewer.Directory"));
  if (!viewer.directory.empty() && viewer.directory.front() != '/') {
    SettingsReader::Invalid("Viewer.Directory", "must be an absolute path, got \"" + viewer.directory + "\"");
  }
  viewer.allowReception = read.Bool("Viewer.AllowReception");
  viewer.showStudyList = read.Bool("Viewer.ShowStudyList");
  CheckDicomWebRoot(read, "Root", kDicomWebRoot);
  CheckDicomWebRoot(read, "WadoRoot", kWadoUriRoot);
  return viewer;
}

}  // namespace HospitalBridge
