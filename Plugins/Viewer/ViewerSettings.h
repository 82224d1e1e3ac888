#pragma once
// The staff's diagnostic viewer (HospitalBridge.Viewer and Modules.Viewer):
// where OHIF's files are on disk, who besides the clinical roles may open it
// and read through DICOMweb, and what the viewer shows first.
#include <string>

#include "Common/Settings.h"

namespace HospitalBridge {

struct ViewerSettings {
  bool enabled = true;
  // OHIF's ready-built app (the folder holding index.html). "" = viewer/ohif
  // beside libHospitalBridge.so (where the build puts it) when it is there,
  // else /usr/share/hospitalbridge/viewer/ohif; the adapter fills that in,
  // since only it knows where the library is.
  std::string directory;
  // Reception may open the viewer and read DICOMweb (clinical roles always may).
  bool allowReception = false;
  // OHIF's own study list at /bridge/viewer/ (a DICOMweb search of everything).
  bool showStudyList = true;
};

// The DICOMweb plugin's roots the gate and the audit know. HospitalBridge
// guards and audits DICOMweb there only, so another "DicomWeb.Root" or
// "DicomWeb.WadoRoot" in Orthanc's configuration stops the start.
inline constexpr const char* kDicomWebRoot = "/dicom-web";
inline constexpr const char* kWadoUriRoot = "/wado";

ViewerSettings ReadViewerSettings(const SettingsReader& read);

}  // namespace HospitalBridge
