#include "System/SystemRoutes.h"

#include "Common/Version.h"

#include "Common/Migrations.h"
#include "Common/Time.h"

namespace HospitalBridge {

void RegisterSystemRoutes(Router& router, SystemInfoSources s) {
  router.Add("GET", "/bridge/system", RoleSet::Staff(), [s](const RouteContext& ctx) {
    Json::Value answer(Json::objectValue);
    answer["plugin"]["name"] = "HospitalBridge";
    answer["plugin"]["version"] = kPluginVersion;

    Json::Value& orthanc = answer["orthanc"];
    orthanc["version"] = s.orthancVersion;
    orthanc["name"] = s.site.orthanc.name;
    orthanc["dicom_aet"] = s.site.orthanc.dicomAet;
    Json::Value statistics;
    try {
      if (s.orthanc.GetJson("/statistics", statistics)) {
        orthanc["counts"]["patients"] = statistics.get("CountPatients", 0);
        orthanc["counts"]["studies"] = statistics.get("CountStudies", 0);
        orthanc["counts"]["series"] = statistics.get("CountSeries", 0);
        orthanc["counts"]["instances"] = statistics.get("CountInstances", 0);
      }
    } catch (const OrthancUnavailable&) {
      orthanc["counts"] = Json::nullValue;
    }

    answer["site"]["id"] = s.site.siteId;
    answer["site"]["name"] = s.site.siteName;
    answer["modules"] = s.modules;
    answer["database"]["path"] = s.site.databasePath;
    answer["database"]["engine"] = s.database.Dialect().Name();
    answer["database"]["schema_version"] = SchemaVersion(s.database);
    answer["database"]["status"] = "ok";

    for (const auto& section : s.sections) section(answer);
    answer["user"]["username"] = ctx.identity.username;
    answer["user"]["role"] = RoleName(ctx.identity.role);
    return HttpResponse::Json(answer);
  });
}

}  // namespace HospitalBridge
