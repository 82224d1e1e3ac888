#pragma once
// What a patient's phone gets from Orthanc through a share: the study
// summary, the images of a series as JPEG, and the two downloads. Reads
// Orthanc's REST API in process; the caller has already checked that the
// resource belongs to the share.
#include <json/json.h>

#include <string>

#include "Common/OrthancRest.h"
#include "Share/ZipWriter.h"

namespace HospitalBridge {

class PortalMedia {
 public:
  explicit PortalMedia(IOrthancRest& orthanc) : orthanc_(orthanc) {}

  // The /s/api/share entry of one study; null when Orthanc no longer has it.
  Json::Value StudySummary(const std::string& studyId, const std::string& hospital, bool canDownload);

  // {"instances": [{"id", "number", "image"}]} in InstanceNumber order.
  Json::Value SeriesInstances(const std::string& seriesId);
  // A JPEG of the instance's first frame; `size` "thumb" or "full", `preset`
  // a window preset id ("default" = the file's own window).
  bool RenderJpeg(const std::string& instanceId, const std::string& size, const std::string& preset,
                  std::string& jpeg);
  // One JPEG per instance, in folders per series, written to `sink` entry by
  // entry as each is rendered. False when Orthanc has no such study.
  bool JpegZip(const std::string& studyId, const ZipWriter::Sink& sink);

 private:
  IOrthancRest& orthanc_;
};

// "Series 2 - Chest PA" → "02 Chest PA": letters, digits, spaces, '-' and
// '_' only, for names inside archives.
std::string SafeFileName(const std::string& text, size_t maxLength = 60);

}  // namespace HospitalBridge
