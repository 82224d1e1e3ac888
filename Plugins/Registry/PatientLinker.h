#pragma once
// Files each arriving study under a registry patient. The national ID is read
// where the configuration says; a study without one gets an "unlinked" entry
// built from its DICOM demographics, for staff to link. DICOM never
// overwrites what staff entered: differences are reported, not applied.
#include <regex.h>

#include <string>

#include "Common/OrthancRest.h"
#include "Common/StudyEvents.h"
#include "Common/StudyRecord.h"
#include "Registry/PatientStore.h"
#include "Registry/RegistrySettings.h"

namespace HospitalBridge {

// A consumer of the study events ("patient-link"): idempotent, since a
// linked PatientID is found and left alone.
class PatientLinker : public IStudyEventConsumer {
 public:
  PatientLinker(PatientStore& patients, IOrthancRest& orthanc, const RegistrySettings& settings,
                const std::string& localSiteId);
  ~PatientLinker();
  PatientLinker(const PatientLinker&) = delete;
  PatientLinker& operator=(const PatientLinker&) = delete;

  const char* Name() const override { return "patient-link"; }
  void Consume(StudyEventContext& context) override;

  // Files one study. Cheap when its PatientID is linked already (one lookup).
  void Link(const StudyRecord& study);

  // The national ID carried by these DICOM tags (Orthanc's simplified JSON
  // of one instance), or "" when none. Public for tests.
  std::string NationalIdFromTags(const std::string& patientId, const Json::Value& tags) const;

 private:
  bool NeedsInstanceTags() const;
  Json::Value ReadInstanceTags(const StudyRecord& study);

  PatientStore& patients_;
  IOrthancRest& orthanc_;
  const RegistrySettings settings_;
  const std::string localSiteId_;
  regex_t pattern_;
};

// "FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX" → last name FAMILY, first name "GIVEN MIDDLE".
void SplitDicomName(const std::string& dicomName, std::string& lastName, std::string& firstName);

}  // namespace HospitalBridge
