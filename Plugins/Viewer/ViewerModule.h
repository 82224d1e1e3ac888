#pragma once
// The staff's diagnostic viewer: OHIF v3, served from disk under
// /bridge/viewer/ for the clinical roles (reception by configuration),
// reading this Orthanc through DICOMweb. The gate admits and audits the
// DICOMweb reads themselves (Security/PermissionTable, Audit/CoreAccessAuditor);
// this module serves the app, its generated configuration, and the ways in:
//   /bridge/viewer/?StudyInstanceUIDs=<uid>  (and OHIF's own /viewer route)
//   /bridge/viewer/open?accession=<AccessionNumber>
//   /bridge/viewer/status                    (whether a page may offer it)
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "Common/Module.h"
#include "Common/StudyRecord.h"
#include "Index/StudyIndexStore.h"
#include "Viewer/ViewerFiles.h"
#include "Viewer/ViewerSettings.h"

namespace HospitalBridge {

class ViewerModule : public IModule {
 public:
  // `studies`: the study index, or null when it is switched off (Orthanc is
  // asked instead). Switched off (Modules.Viewer), it registers nothing.
  ViewerModule(const ModuleContext& context, const ViewerSettings& settings, StudyIndexStore* studies);

  std::string Name() const override { return "viewer"; }
  void Describe(Json::Value& section) override;

  // Who may open the viewer (and read DICOMweb): admin, radiologist,
  // technician, and reception when Viewer.AllowReception.
  static RoleSet Roles(const ViewerSettings& settings);
  static constexpr const char* kMount = "/bridge/viewer/";

  // The headers of every answer carrying OHIF's files: its CSP (workers,
  // WebAssembly, this origin only) and cross-origin isolation.
  static void AddViewerHeaders(HttpResponse& response);

 private:
  HttpResponse Serve(const RouteContext& context);
  HttpResponse Open(const RouteContext& context);
  HttpResponse Page(int status, const std::string& kind, const std::string& title, const std::string& message,
                    const std::string& choices = "") const;
  // Whether this Orthanc holds the study (index first, then Orthanc).
  bool Holds(const std::string& studyUid);
  std::vector<StudyRecord> ByAccession(const std::string& accession);

  const ModuleContext context_;
  const ViewerSettings settings_;
  StudyIndexStore* studies_;
  ViewerFiles files_;
};

}  // namespace HospitalBridge
