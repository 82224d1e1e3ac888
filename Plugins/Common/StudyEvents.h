#pragma once
// What happens to a study after the index records it, as every module sees
// it. The index writes one event per change in the same transaction as the
// index row (Index/StudyEventLog); the pipeline (Index/StudyEventPipeline)
// hands each event, in order, to every consumer that has not handled it yet.
// A consumer keeps its own cursor, so a crash anywhere loses nothing: after a
// restart each consumer goes on from where it was. A consumer must therefore
// be idempotent: handling an event twice (a crash after its work, before its
// cursor moved) must change nothing the second time.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "Common/StudyRecord.h"

namespace HospitalBridge {

struct StudyEvent {
  int64_t seq = 0;
  std::string orthancId;
  std::string studyUid;
  std::string kind;  // "indexed" (new or changed), "stable" (complete), "deleted"
  int64_t at = 0;    // Unix seconds
};

// The one consent decision for a patient, used by everything that lets a
// study leave the hospital (peers, share links, later the router).
struct PatientConsent {
  bool sharePermitted = false;
  bool federationPermitted = true;
  bool researchPermitted = false;
};

// One event with what its consumers need, each looked up once per event and
// only when a consumer asks: the study as indexed now, the registry patient
// it belongs to (after the patient-link consumer has filed it) and that
// patient's consent decision.
class StudyEventContext {
 public:
  using PatientResolver = std::function<std::string(const StudyRecord&)>;
  using ConsentResolver = std::function<PatientConsent(const std::string& registryPatientId)>;

  StudyEventContext(StudyEvent event, std::optional<StudyRecord> study, PatientResolver patients,
                    ConsentResolver consent)
      : event_(std::move(event)),
        study_(std::move(study)),
        patients_(std::move(patients)),
        consent_(std::move(consent)) {}

  const StudyEvent& Event() const { return event_; }
  // The study as indexed now; nothing once it was deleted.
  const std::optional<StudyRecord>& Study() const { return study_; }
  bool IsStable() const { return event_.kind == "stable"; }

  // The registry patient ("PAT-...") this site's PatientID is filed under;
  // "" without a registry or before the study is linked.
  const std::string& RegistryPatientId() {
    if (!patientResolved_ && study_ && patients_) {
      registryPatient_ = patients_(*study_);
      patientResolved_ = !registryPatient_.empty();
    }
    return registryPatient_;
  }
  // The consent decision for that patient (the configured defaults when
  // the patient is not in the registry).
  const PatientConsent& Consent() {
    if (!consentDecision_) {
      const std::string patient = RegistryPatientId();
      consentDecision_ = consent_ ? consent_(patient) : PatientConsent();
    }
    return *consentDecision_;
  }

 private:
  StudyEvent event_;
  std::optional<StudyRecord> study_;
  PatientResolver patients_;
  ConsentResolver consent_;
  bool patientResolved_ = false;
  std::string registryPatient_;
  std::optional<PatientConsent> consentDecision_;
};

// When a consumer sees an event, relative to the others: the study is filed
// under its patient first, what consent restricts is marked next, then the
// study is matched to its order, then acted on (shared, routed, queued for
// reading), and what happened is recorded last. Consumers of one stage run
// in the order they were added.
enum class StudyEventStage { kFile = 10, kMark = 20, kMatch = 30, kAct = 50, kRecord = 90 };

class IStudyEventConsumer {
 public:
  virtual ~IStudyEventConsumer() = default;
  // Names the consumer's cursor: never change it once released.
  virtual const char* Name() const = 0;
  // Handles one event; throws to be given the same event again later
  // (Orthanc unavailable, the database busy).
  virtual void Consume(StudyEventContext& context) = 0;
};

}  // namespace HospitalBridge
