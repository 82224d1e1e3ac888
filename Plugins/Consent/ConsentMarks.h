#pragma once
// A consumer of the study events ("consent-marks"): marks each indexed study
// with what its patient's consent keeps it from (peers, share links), from
// the one decision of the event's context. The marks let pages and lists
// show and filter restricted studies; anything that lets a study leave asks
// ConsentService::Decide itself. Idempotent: a mark is overwritten.
#include "Common/StudyEvents.h"
#include "Consent/ConsentStore.h"

namespace HospitalBridge {

class ConsentMarks : public IStudyEventConsumer {
 public:
  explicit ConsentMarks(ConsentStore& store) : store_(store) {}

  const char* Name() const override { return "consent-marks"; }
  void Consume(StudyEventContext& context) override {
    if (!context.Study() || context.RegistryPatientId().empty()) return;
    const PatientConsent& consent = context.Consent();
    store_.SetRestrictions(context.Study()->studyUid, !consent.federationPermitted, !consent.sharePermitted);
  }

 private:
  ConsentStore& store_;
};

}  // namespace HospitalBridge
