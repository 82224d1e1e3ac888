#include "Registry/PatientLinker.h"

#include "Common/Errors.h"
#include "Common/Log.h"

namespace HospitalBridge {

void SplitDicomName(const std::string& dicomName, std::string& lastName, std::string& firstName) {
  // Only the first component group (alphabetic); ideographic and phonetic
  // ones after '=' are left out.
  std::string name = dicomName.substr(0, dicomName.find('='));
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t caret = name.find('^', start);
    if (caret == std::string::npos) caret = name.size();
    parts.push_back(name.substr(start, caret - start));
    start = caret + 1;
  }
  lastName = parts.size() > 0 ? parts[0] : "";
  firstName = parts.size() > 1 ? parts[1] : "";
  if (parts.size() > 2 && !parts[2].empty()) firstName += (firstName.empty() ? "" : " ") + parts[2];
}

PatientLinker::PatientLinker(PatientStore& patients, IOrthancRest& orthanc, const RegistrySettings& settings,
                             const std::string& localSiteId)
    : patients_(patients), orthanc_(orthanc), settings_(settings), localSiteId_(localSiteId) {
  // Checked when the configuration was loaded.
  regcomp(&pattern_, settings_.nationalIdPattern.c_str(), REG_EXTENDED | REG_NOSUB);
}

PatientLinker::~PatientLinker() { regfree(&pattern_); }

bool PatientLinker::NeedsInstanceTags() const {
  return settings_.nationalIdSource == RegistrySettings::NationalIdSource::kOtherPatientIds ||
         settings_.nationalIdSource == RegistrySettings::NationalIdSource::kIssuerOfPatientId;
}

std::string PatientLinker::NationalIdFromTags(const std::string& patientId, const Json::Value& tags) const {
  using Source = RegistrySettings::NationalIdSource;
  switch (settings_.nationalIdSource) {
    case Source::kPatientId:
      return regexec(&pattern_, patientId.c_str(), 0, nullptr, 0) == 0 ? patientId : "";
    case Source::kIssuerOfPatientId:
      return tags.get("IssuerOfPatientID", "").asString() == settings_.nationalIdIssuer ? patientId : "";
    case Source::kOtherPatientIds: {
      const Json::Value& others = tags["OtherPatientIDsSequence"];
      if (!others.isArray()) return "";
      for (const Json::Value& item : others) {
        if (item.isObject() && item.get("IssuerOfPatientID", "").asString() == settings_.nationalIdIssuer) {
          return item.get("PatientID", "").asString();
        }
      }
      return "";
    }
    case Source::kNone:
      return "";
  }
  return "";
}

Json::Value PatientLinker::ReadInstanceTags(const StudyRecord& study) {
  Json::Value tags(Json::objectValue);
  if (study.sources.empty()) return tags;
  Json::Value series;
  if (!orthanc_.GetJson("/series/" + study.sources.front().seriesId, series) ||
      !series["Instances"].isArray() || series["Instances"].empty()) {
    return tags;
  }
  orthanc_.GetJson("/instances/" + series["Instances"][0].asString() + "/tags?simplify", tags);
  return tags;
}

void PatientLinker::Consume(StudyEventContext& context) {
  if (context.Study()) Link(*context.Study());
}

void PatientLinker::Link(const StudyRecord& study) {
  if (study.patientId.empty() || patients_.FindByIdentifier(localSiteId_, study.patientId)) return;

  Json::Value tags = NeedsInstanceTags() ? ReadInstanceTags(study) : Json::Value(Json::objectValue);
  const std::string nationalId = NationalIdFromTags(study.patientId, tags);
  const PatientIdentifier identifier{localSiteId_, study.patientId,
                                     tags.get("IssuerOfPatientID", "").asString()};
  try {
    std::optional<Patient> known = patients_.FindByNationalId(nationalId);
    if (known) {
      patients_.AddIdentifier(known->id, identifier);
      return;
    }
    Patient entry;
    entry.nationalId = nationalId;
    SplitDicomName(study.patientName, entry.lastName, entry.firstName);
    entry.birthDate = study.patientBirthDate;
    entry.sex = study.patientSex;
    entry.status = nationalId.empty() ? "unlinked" : "registered";
    entry.identifiers = {identifier};
    Patient created = patients_.Create(entry);
    Log::Info("patient index: " + std::string(nationalId.empty() ? "unlinked entry " : "new patient ") +
              created.id + " for PatientID " + study.patientId);
  } catch (const DomainError& e) {
    // Staff linked the same identifier meanwhile: theirs stands.
    if (e.GetKind() != DomainError::Kind::kConflict) throw;
  }
}

}  // namespace HospitalBridge
