#pragma once
// What a request to one of Orthanc's own routes touches, read once from its
// method and path, so that the gate and the audit trail judge the same
// reading: the resource (a patient, study, series or instance of Orthanc's)
// and what kind of access it is. Deny by default in the audit's sense: a read
// under a resource is a view unless it is one of the few that only say how
// the data is stored.
#include <string>
#include <vector>

namespace HospitalBridge {

enum class ResourceAccess {
  kNone,      // not about a stored resource (system routes, lists of IDs)
  kView,      // reads a resource's data
  kDownload,  // hands out its files (archive, media, file, attachment data)
  kModify,    // changes it (modify, anonymize, merge, split)
  kDelete,
  kSearch,  // searches across resources (/tools/find)
  kExport,  // sends it elsewhere (a modality, a peer)
};

struct ParsedRequest {
  std::string level;               // patients, studies, series, instances, or ""
  std::string id;                  // Orthanc's ID of that resource
  std::vector<std::string> route;  // the segments after /{level}/{id}
  ResourceAccess access = ResourceAccess::kNone;
  // The DICOMweb plugin's routes (/dicom-web/..., /wado): a search (QIDO-RS
  // of studies, series or instances) or a read under one study, named by its
  // StudyInstanceUID (WADO-URI names it in its query, studyUID=).
  bool dicomWeb = false;
  std::string studyUid;

  bool HasResource() const { return !level.empty(); }
  std::string Resource() const { return HasResource() ? "/" + level + "/" + id : ""; }
};

ParsedRequest ParseOrthancRequest(const std::string& method, const std::string& path);

}  // namespace HospitalBridge
