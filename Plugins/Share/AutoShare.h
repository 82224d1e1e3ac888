#pragma once
// A consumer of the study events ("auto-share"): once a study is complete,
// a study of the configured modalities or calling AE titles gets a link and
// its slip waits at the reception, if the patient's consent (the event's one
// decision) permits sharing. Idempotent: a study gets one automatic link.
#include "Common/StudyEvents.h"
#include "Share/ShareIssuer.h"

namespace HospitalBridge {

class AutoShare : public IStudyEventConsumer {
 public:
  AutoShare(ShareIssuer& shares, const AutoShareSettings& settings) : shares_(shares), settings_(settings) {}

  const char* Name() const override { return "auto-share"; }
  void Consume(StudyEventContext& context) override;

  // Whether the settings select this study (modality or calling AE).
  bool Selects(const StudyRecord& study) const;
  // Makes the link if the study is selected, complete, not linked yet and
  // `consent` permits; true when a link was made.
  bool Consider(const StudyRecord& study, bool stable, const PatientConsent& consent);

 private:
  ShareIssuer& shares_;
  const AutoShareSettings settings_;
};

}  // namespace HospitalBridge
