#include "Registry/RegistryRoutes.h"

#include <algorithm>
#include <cctype>

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/RequestChecks.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Registry/PatientLinker.h"

namespace HospitalBridge {
namespace {
const RoleSet kStaff = RoleSet::Staff();
const RoleSet kAdmin = {Role::kAdmin};
const RoleSet kMergers = {Role::kAdmin, Role::kTechnician, Role::kReception};

std::string OptionalString(const Json::Value& body, const char* field, size_t maxLength = 128) {
  if (!body.isMember(field) || body[field].isNull()) return "";
  if (!body[field].isString())
    throw DomainError::Invalid(std::string("The field must be a string: ") + field, field);
  std::string value = body[field].asString();
  if (value.size() > maxLength) {
    throw DomainError::Invalid(std::string("The field is too long: ") + field,
                               std::string(field) + ": at most " + std::to_string(maxLength) + " characters");
  }
  return value;
}

std::string RequiredString(const Json::Value& body, const char* field, size_t maxLength = 128) {
  std::string value = OptionalString(body, field, maxLength);
  if (value.empty()) throw DomainError::Invalid(std::string("Missing field: ") + field, field);
  return value;
}

std::string DateField(const Json::Value& body, const char* field) {
  std::string text = OptionalString(body, field, 10);
  if (text.empty()) return "";
  std::string da;
  if (!Time::ParseDateParameter(text, da)) {
    throw DomainError::Invalid(std::string("Invalid field: ") + field,
                               std::string(field) + " must be YYYY-MM-DD");
  }
  return da;
}

std::string SexField(const Json::Value& body) {
  std::string sex = OptionalString(body, "gender", 1);
  if (!sex.empty() && sex != "M" && sex != "F" && sex != "O") {
    throw DomainError::Invalid("Invalid field: gender", "gender must be M, F or O");
  }
  return sex;
}

std::string NationalIdField(const Json::Value& body) {
  std::string id = OptionalString(body, "national_id", 64);
  if (!id.empty() && !Text::IsIdentifier(id, "-./", 1, 64)) {
    throw DomainError::Invalid("Invalid field: national_id",
                               "national_id: letters, digits, '-', '.', '/' only");
  }
  return id;
}

PatientIdentifier IdentifierFrom(const Json::Value& item) {
  if (!item.isObject())
    throw DomainError::Invalid("Invalid identifier", "identifiers: objects {site_id, patient_id}");
  RejectUnknownFields(item, {"site_id", "patient_id", "issuer"});
  return PatientIdentifier{RequiredString(item, "site_id", 32), RequiredString(item, "patient_id", 64),
                           OptionalString(item, "issuer", 64)};
}

Site SiteFrom(const Json::Value& body, const std::string& id, const RegistryRoutesContext& c) {
  RejectUnknownFields(body, {"id", "name", "address", "phone", "email", "orthanc_peer"});
  Site site;
  site.id = id;
  site.name = RequiredString(body, "name");
  site.address = OptionalString(body, "address", 256);
  site.phone = OptionalString(body, "phone", 64);
  site.email = OptionalString(body, "email", 128);
  site.orthancPeer = OptionalString(body, "orthanc_peer", 64);
  if (!site.orthancPeer.empty() && !c.peerExists(site.orthancPeer)) {
    throw DomainError::Invalid("Orthanc does not know the peer \"" + site.orthancPeer + "\"",
                               "orthanc_peer: add it to \"OrthancPeers\" in orthanc.json (or PUT /peers/" +
                                   site.orthancPeer + ") first");
  }
  return site;
}

// This site as listed: id and name from the configuration, contact details
// from the database when an administrator entered them.
Site LocalSite(const RegistryRoutesContext& c) {
  Site local = c.sites.Find(c.site.siteId).value_or(Site{});
  local.id = c.site.siteId;
  local.name = c.site.siteName;
  local.orthancPeer = "";
  return local;
}

Patient RequirePatient(PatientStore& patients, const std::string& id) {
  std::optional<Patient> patient = patients.Find(id);
  if (!patient) throw DomainError::NotFound("No such patient", id);
  return *patient;
}

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return text;
}
}  // namespace

Json::Value Discrepancies(const Patient& patient, const StudyRecord& study) {
  Json::Value found(Json::arrayValue);
  auto add = [&](const char* field, const std::string& registry, const std::string& dicom) {
    Json::Value item(Json::objectValue);
    item["field"] = field;
    item["registry"] = registry;
    item["dicom"] = dicom;
    item["study_uid"] = study.studyUid;
    found.append(item);
  };
  std::string last;
  std::string first;
  SplitDicomName(study.patientName, last, first);
  if (!study.patientName.empty() &&
      (Upper(last) != Upper(patient.lastName) || Upper(first) != Upper(patient.firstName))) {
    add("name", patient.DisplayName(), study.patientName);
  }
  if (!study.patientBirthDate.empty() && study.patientBirthDate != patient.birthDate) {
    add("birth_date", Time::DicomDateToIso(patient.birthDate), Time::DicomDateToIso(study.patientBirthDate));
  }
  if (!study.patientSex.empty() && !patient.sex.empty() && study.patientSex != patient.sex) {
    add("sex", patient.sex, study.patientSex);
  }
  return found;
}

void RegisterRegistryRoutes(Router& router, RegistryRoutesContext c) {
  // --- sites ---
  router.Add("GET", "/bridge/sites", kStaff, [c](const RouteContext&) {
    Json::Value list(Json::arrayValue);
    list.append(LocalSite(c).ToJson(true));
    for (const Site& site : c.sites.List()) {
      if (site.id != c.site.siteId) list.append(site.ToJson(false));
    }
    Json::Value answer(Json::objectValue);
    answer["sites"] = list;
    return HttpResponse::Json(answer);
  });

  router.Add("POST", "/bridge/sites", kAdmin, [c](const RouteContext& ctx) {
    Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    std::string id = RequiredString(body, "id", 32);
    if (!Text::IsIdentifier(id, "-_", 1, 32)) {
      throw DomainError::Invalid("Invalid field: id", "id: 1 to 32 letters, digits, '-' or '_'");
    }
    if (id == c.site.siteId) throw DomainError::Conflict("This is this site's own id", "id " + id);
    Site site = SiteFrom(body, id, c);
    c.sites.Insert(site);
    Log::Info("user '" + ctx.identity.username + "' registered site " + id);
    return HttpResponse::Json(c.sites.Find(id)->ToJson(false));
  });

  router.Add("GET", "/bridge/sites/{id}", kStaff, [c](const RouteContext& ctx) {
    if (ctx.Param("id") == c.site.siteId) return HttpResponse::Json(LocalSite(c).ToJson(true));
    std::optional<Site> site = c.sites.Find(ctx.Param("id"));
    if (!site) throw DomainError::NotFound("No such site", ctx.Param("id"));
    return HttpResponse::Json(site->ToJson(false));
  });

  router.Add("PUT", "/bridge/sites/{id}", kAdmin, [c](const RouteContext& ctx) {
    Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    if (ctx.Param("id") == c.site.siteId) {
      // This site's contact details; its id and name come from the configuration.
      RejectUnknownFields(body, {"id", "name", "address", "phone", "email"});
      if (body.isMember("name") && body["name"].asString() != c.site.siteName) {
        throw DomainError::Invalid("Invalid field: name",
                                   "this site's name is set by HospitalBridge.Site.Name");
      }
      Site local = LocalSite(c);
      local.address = OptionalString(body, "address", 256);
      local.phone = OptionalString(body, "phone", 64);
      local.email = OptionalString(body, "email", 128);
      if (c.sites.Find(local.id)) {
        c.sites.Update(local);
      } else {
        c.sites.Insert(local);
      }
      Log::Info("user '" + ctx.identity.username + "' updated this site's contact details");
      return HttpResponse::Json(LocalSite(c).ToJson(true));
    }
    if (!c.sites.Find(ctx.Param("id"))) throw DomainError::NotFound("No such site", ctx.Param("id"));
    if (body.isMember("id") && body["id"] != ctx.Param("id")) {
      throw DomainError::Invalid("Invalid field: id", "a site's id cannot change");
    }
    c.sites.Update(SiteFrom(body, ctx.Param("id"), c));
    Log::Info("user '" + ctx.identity.username + "' updated site " + ctx.Param("id"));
    return HttpResponse::Json(c.sites.Find(ctx.Param("id"))->ToJson(false));
  });

  router.Add("DELETE", "/bridge/sites/{id}", kAdmin, [c](const RouteContext& ctx) {
    if (!c.sites.Remove(ctx.Param("id"))) throw DomainError::NotFound("No such site", ctx.Param("id"));
    Log::Info("user '" + ctx.identity.username + "' removed site " + ctx.Param("id"));
    Json::Value answer(Json::objectValue);
    answer["removed"] = ctx.Param("id");
    return HttpResponse::Json(answer);
  });

  // --- patients ---
  router.Add("GET", "/bridge/patients", kStaff, [c](const RouteContext& ctx) {
    RejectUnknownParameters(ctx.request, {"national_id", "name", "birth_date", "status", "limit", "offset"});
    PatientFilter filter;
    filter.nationalId = ctx.request.Query("national_id");
    filter.name = ctx.request.Query("name");
    if (filter.name.size() > 128)
      throw DomainError::Invalid("Invalid parameter: name", "at most 128 characters");
    if (!ctx.request.Query("birth_date").empty() &&
        !Time::ParseDateParameter(ctx.request.Query("birth_date"), filter.birthDate)) {
      throw DomainError::Invalid("Invalid parameter: birth_date", "birth_date must be YYYY-MM-DD");
    }
    filter.status = ctx.request.Query("status");
    if (!filter.status.empty() && filter.status != "registered" && filter.status != "unlinked") {
      throw DomainError::Invalid("Invalid parameter: status", "status must be registered or unlinked");
    }
    for (const char* name : {"limit", "offset"}) {
      if (!ctx.request.HasQuery(name)) continue;
      const std::string text = ctx.request.Query(name);
      if (!Text::IsDigits(text, 1, 9)) {
        throw DomainError::Invalid(std::string("Invalid parameter: ") + name,
                                   std::string(name) + " must be a number");
      }
      (std::string(name) == "limit" ? filter.limit : filter.offset) = std::stoi(text);
    }
    if (filter.limit < 1 || filter.limit > c.maxPageSize) {
      throw DomainError::Invalid("Invalid parameter: limit",
                                 "limit must be between 1 and " + std::to_string(c.maxPageSize));
    }
    PatientPage page = c.patients.Search(filter);
    Json::Value answer(Json::objectValue);
    answer["patients"] = Json::Value(Json::arrayValue);
    for (const Patient& patient : page.patients) answer["patients"].append(patient.ToJson());
    answer["total"] = static_cast<Json::Int64>(page.total);
    answer["limit"] = filter.limit;
    answer["offset"] = filter.offset;
    return HttpResponse::Json(answer);
  });

  router.Add("POST", "/bridge/patients", kStaff, [c](const RouteContext& ctx) {
    Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    RejectUnknownFields(
        body, {"national_id", "first_name", "last_name", "date_of_birth", "gender", "phone", "identifiers"});
    Patient patient;
    patient.nationalId = NationalIdField(body);
    patient.firstName = RequiredString(body, "first_name");
    patient.lastName = RequiredString(body, "last_name");
    patient.birthDate = DateField(body, "date_of_birth");
    patient.sex = SexField(body);
    patient.phone = OptionalString(body, "phone", 64);
    if (body.isMember("identifiers")) {
      if (!body["identifiers"].isArray())
        throw DomainError::Invalid("Invalid field: identifiers", "a list is expected");
      for (const Json::Value& item : body["identifiers"]) patient.identifiers.push_back(IdentifierFrom(item));
    }
    Patient created = c.patients.Create(patient);
    Log::Info("user '" + ctx.identity.username + "' registered patient " + created.id);
    return HttpResponse::Json(created.ToJson());
  });

  router.Add("GET", "/bridge/patients/{id}", kStaff, [c](const RouteContext& ctx) {
    Patient patient = RequirePatient(c.patients, ctx.Param("id"));
    Json::Value answer = patient.ToJson();
    answer["studies"] = Json::Value(Json::arrayValue);
    answer["discrepancies"] = Json::Value(Json::arrayValue);
    for (const PatientIdentifier& identifier : patient.identifiers) {
      if (identifier.siteId != c.site.siteId) continue;
      StudyFilter filter;
      filter.patientId = identifier.localId;
      filter.limit = 1000;
      for (const StudyRecord& study : c.studies.Search(filter).studies) {
        answer["studies"].append(study.ToJson());
        for (const Json::Value& difference : Discrepancies(patient, study)) {
          answer["discrepancies"].append(difference);
        }
      }
    }
    answer["merges"] = Json::Value(Json::arrayValue);
    for (const PatientMerge& merge : c.patients.MergesInto(patient.id)) {
      Json::Value item(Json::objectValue);
      item["from"] = merge.merged;
      item["by"] = merge.byUser;
      item["at"] = Time::FormatIsoUtc(merge.at);
      item["reason"] = merge.reason;
      item["identifiers"] = merge.identifiers;
      answer["merges"].append(item);
    }
    return HttpResponse::Json(answer);
  });

  router.Add("PUT", "/bridge/patients/{id}", kStaff, [c](const RouteContext& ctx) {
    Patient patient = RequirePatient(c.patients, ctx.Param("id"));
    if (!patient.mergedInto.empty()) {
      throw DomainError::Conflict("This entry was merged", "edit " + patient.mergedInto + " instead");
    }
    Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    RejectUnknownFields(body, {"national_id", "first_name", "last_name", "date_of_birth", "gender", "phone"});
    if (body.isMember("national_id")) patient.nationalId = NationalIdField(body);
    if (body.isMember("first_name")) patient.firstName = RequiredString(body, "first_name");
    if (body.isMember("last_name")) patient.lastName = RequiredString(body, "last_name");
    if (body.isMember("date_of_birth")) patient.birthDate = DateField(body, "date_of_birth");
    if (body.isMember("gender")) patient.sex = SexField(body);
    if (body.isMember("phone")) patient.phone = OptionalString(body, "phone", 64);
    // Staff checked the entry: it is no longer a guess from DICOM.
    patient.status = "registered";
    c.patients.Update(patient);
    Log::Info("user '" + ctx.identity.username + "' updated patient " + patient.id);
    return HttpResponse::Json(RequirePatient(c.patients, patient.id).ToJson());
  });

  router.Add("POST", "/bridge/patients/{id}/identifiers", kStaff, [c](const RouteContext& ctx) {
    Patient patient = RequirePatient(c.patients, ctx.Param("id"));
    if (!patient.mergedInto.empty()) {
      throw DomainError::Conflict("This entry was merged", "link to " + patient.mergedInto + " instead");
    }
    PatientIdentifier identifier = IdentifierFrom(JsonText::ParseRequestObject(ctx.request.body));
    c.patients.AddIdentifier(patient.id, identifier);
    Log::Info("user '" + ctx.identity.username + "' linked " + identifier.siteId + " PatientID to patient " +
              patient.id);
    return HttpResponse::Json(RequirePatient(c.patients, patient.id).ToJson());
  });

  router.Add("POST", "/bridge/patients/{id}/merge", kMergers, [c](const RouteContext& ctx) {
    Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    RejectUnknownFields(body, {"from", "reason"});
    const std::string from = RequiredString(body, "from", 32);
    const std::string reason = RequiredString(body, "reason", 512);
    c.patients.Merge(ctx.Param("id"), from, ctx.identity.username, reason);
    Log::Info("user '" + ctx.identity.username + "' merged patient " + from + " into " + ctx.Param("id"));
    return HttpResponse::Json(RequirePatient(c.patients, ctx.Param("id")).ToJson());
  });
}

}  // namespace HospitalBridge
