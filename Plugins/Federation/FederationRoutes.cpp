#include "Federation/FederationRoutes.h"

#include "Common/AuditVocabulary.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/RequestChecks.h"
#include "Common/Text.h"

namespace HospitalBridge {
namespace {
const RoleSet kPeers = {Role::kPeer};
const RoleSet kStaff = RoleSet::Staff();
const RoleSet kRetrievers = {Role::kAdmin, Role::kRadiologist, Role::kTechnician};

std::string NationalIdParameter(const HttpRequest& request, bool required) {
  if (!request.HasQuery("national_id")) {
    if (required) throw DomainError::Invalid("Missing parameter: national_id", "national_id is required");
    return "";
  }
  const std::string id = request.Query("national_id");
  if (!Text::IsIdentifier(id, "-./", 1, 64)) {
    throw DomainError::Invalid("Invalid parameter: national_id",
                               "national_id: 1 to 64 letters, digits, '-', '.', '/'");
  }
  return id;
}

bool IsOrthancId(const std::string& id) { return Text::IsIdentifier(id, "-", 44, 44); }

AuditEvent EventBy(const RouteContext& ctx, const char* action) {
  return MakeAuditEvent(action, AuditActor::Of(ctx.identity, ctx.request.remoteIp));
}

// The study of this site that a peer asks about, if the peer may see it.
StudyRecord VisibleStudy(FederationRoutesContext& c, const std::string& studyUid) {
  std::optional<StudyRecord> study = c.studies.FindByUid(studyUid);
  // Not found and not shared look the same to the peer.
  if (!study || !c.federation.VisibleToPeers(*study))
    throw DomainError::NotFound("No such study shared with peers");
  return *study;
}
}  // namespace

void RegisterFederationRoutes(Router& router, FederationRoutesContext c) {
  // --- peer-facing ---
  router.Add("GET", "/bridge/federation/v1/studies", kPeers, [c](const RouteContext& ctx) mutable {
    const std::string nationalId = NationalIdParameter(ctx.request, true);
    Json::Value answer = c.federation.AnswerPeer(nationalId);
    AuditEvent event = EventBy(ctx, "federation.query.answered");
    std::optional<Patient> patient = c.patients.FindByNationalId(nationalId);
    if (patient && !answer["patient"].isNull()) event.patientId = patient->id;
    event.detail["peer"] = ctx.identity.username;
    event.detail["studies"] = answer["studies"].size();
    c.audit.Record(event);
    Log::Info("federation: answered peer '" + ctx.identity.username + "' with " +
              std::to_string(answer["studies"].size()) + " studies");
    return HttpResponse::Json(answer);
  });

  router.Add(
      "GET", "/bridge/federation/v1/studies/{uid}/instances", kPeers, [c](const RouteContext& ctx) mutable {
        StudyRecord study = VisibleStudy(c, ctx.Param("uid"));
        Json::Value instances;
        if (!c.orthanc.GetJson("/studies/" + study.orthancId + "/instances", instances) ||
            !instances.isArray()) {
          throw DomainError::NotFound("No such study shared with peers");
        }
        Json::Value answer(Json::objectValue);
        answer["study_uid"] = study.studyUid;
        answer["instances"] = Json::Value(Json::arrayValue);
        for (const Json::Value& instance : instances) {
          Json::Value item(Json::objectValue);
          item["id"] = instance.get("ID", "").asString();
          item["sop_instance_uid"] = instance["MainDicomTags"].get("SOPInstanceUID", "").asString();
          answer["instances"].append(item);
        }
        AuditEvent event = EventBy(ctx, "study.exported");
        event.studyUid = study.studyUid;
        event.dicomPatientId = study.patientId;
        event.detail["to"] = ctx.identity.username;
        event.detail["instances"] = answer["instances"].size();
        event.detail["why"] = "retrieve by a peer site";
        c.audit.Record(event);
        Log::Info("federation: peer '" + ctx.identity.username + "' listed the instances of a study (" +
                  std::to_string(answer["instances"].size()) + ")");
        return HttpResponse::Json(answer);
      });

  router.Add("GET", "/bridge/federation/v1/instances/{id}/file", kPeers,
             [c](const RouteContext& ctx) mutable {
               const std::string id = ctx.Param("id");
               if (!IsOrthancId(id)) throw DomainError::NotFound("No such instance shared with peers");
               Json::Value parent;
               if (!c.orthanc.GetJson("/instances/" + id + "/study", parent)) {
                 throw DomainError::NotFound("No such instance shared with peers");
               }
               std::optional<StudyRecord> study = c.studies.FindByOrthancId(parent.get("ID", "").asString());
               if (!study || !c.federation.VisibleToPeers(*study))
                 throw DomainError::NotFound("No such instance shared with peers");
               HttpResponse response;
               if (!c.orthanc.Get("/instances/" + id + "/file", response.body)) {
                 throw DomainError::NotFound("No such instance shared with peers");
               }
               response.contentType = "application/dicom";
               return response;
             });

  // --- user-facing ---
  router.Add("GET", "/bridge/federation/query", kStaff, [c](const RouteContext& ctx) mutable {
    const HttpRequest& request = ctx.request;
    RejectUnknownParameters(request, {"national_id", "patient_id", "local_patient_id"});
    if (request.query.size() != 1) {
      throw DomainError::Invalid("Missing parameter: national_id",
                                 "give exactly one of national_id, patient_id (PAT-...) or local_patient_id");
    }
    std::optional<Patient> patient;
    std::string nationalId;
    if (request.HasQuery("national_id")) {
      nationalId = NationalIdParameter(request, true);
    } else if (request.HasQuery("patient_id")) {
      const std::string id = request.Query("patient_id");
      if (!Text::IsIdentifier(id, "-", 1, 32))
        throw DomainError::Invalid("Invalid parameter: patient_id", id);
      patient = c.patients.Find(id);
      if (patient && !patient->mergedInto.empty()) patient = c.patients.Find(patient->mergedInto);
      if (!patient) throw DomainError::NotFound("No such patient", id);
      nationalId = patient->nationalId;
    } else {
      const std::string local = request.Query("local_patient_id");
      if (local.empty() || local.size() > 64) {
        throw DomainError::Invalid("Invalid parameter: local_patient_id",
                                   "a PatientID of this site is expected");
      }
      patient = c.patients.FindByIdentifier(c.site.siteId, local);
      if (patient) nationalId = patient->nationalId;
    }
    Json::Value answer = c.federation.Query(nationalId, patient);
    AuditEvent event = EventBy(ctx, "federation.query.sent");
    if (!answer["patient"].isNull()) event.patientId = answer["patient"].get("id", "").asString();
    for (const Json::Value& site : answer["sites"]) {
      Json::Value entry(Json::objectValue);
      entry["id"] = site["id"];
      entry["status"] = site["status"];
      entry["count"] = site["count"];
      event.detail["sites"].append(entry);
    }
    c.audit.Record(event);
    Log::Info("federation: user '" + ctx.identity.username + "' queried " +
              std::to_string(answer["sites"].size()) + " sites, " + answer["total_studies"].asString() +
              " studies");
    return HttpResponse::Json(answer);
  });

  router.Add("POST", "/bridge/federation/retrieve", kRetrievers, [c](const RouteContext& ctx) mutable {
    Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    RejectUnknownFields(body, {"site", "study_uid"});
    if (!body["site"].isString() || body["site"].asString().empty())
      throw DomainError::Invalid("Missing field: site", "site");
    if (!body["study_uid"].isString()) throw DomainError::Invalid("Missing field: study_uid", "study_uid");
    Json::Value job =
        c.retrieve.Submit(body["site"].asString(), body["study_uid"].asString(), ctx.identity.username);
    AuditEvent event = EventBy(ctx, "federation.retrieve");
    event.studyUid = job["study_uid"].asString();
    event.detail["from"] = job["site"];
    event.detail["job_id"] = job["job_id"];
    c.audit.Record(event);
    return HttpResponse::Json(job);
  });

  router.Add("GET", "/bridge/federation/retrieve", kStaff, [c](const RouteContext&) mutable {
    Json::Value answer(Json::objectValue);
    answer["jobs"] = c.retrieve.List(100);
    return HttpResponse::Json(answer);
  });

  router.Add("GET", "/bridge/federation/retrieve/{id}", kStaff, [c](const RouteContext& ctx) mutable {
    std::optional<Json::Value> job = c.retrieve.Find(ctx.Param("id"));
    if (!job) throw DomainError::NotFound("No such retrieve job", ctx.Param("id"));
    return HttpResponse::Json(*job);
  });
}

}  // namespace HospitalBridge
