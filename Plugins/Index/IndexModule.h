#pragma once
// The study index as a module: the index of every study Orthanc holds, the
// worker that keeps it in step, the durable study events and the pipeline
// that hands them to the other modules' consumers, and /bridge/studies.
// With Modules.StudyIndex off, the store is still there (empty) for the
// modules that read it, but nothing fills it and no event is raised.
#include <memory>
#include <string>

#include "Common/Module.h"
#include "Common/StudyEvents.h"
#include "Index/IndexWorker.h"
#include "Index/StudyEventLog.h"
#include "Index/StudyEventPipeline.h"
#include "Index/StudyIndexSettings.h"
#include "Index/StudyIndexStore.h"
#include "Index/StudyReader.h"
#include "Index/StudyRoutes.h"

namespace HospitalBridge {

class IndexModule : public IModule {
 public:
  IndexModule(const ModuleContext& context, const StudyIndexSettings& settings);
  ~IndexModule() override;

  std::string Name() const override { return "index"; }
  void Start() override;
  void Stop() override;
  void Describe(Json::Value& section) override;

  StudyIndexStore& Studies() { return studies_; }
  // Where consumers join; null when the index is off (no event is raised).
  StudyEventPipeline* Pipeline() { return pipeline_.get(); }
  // What a module above adds to the studies /bridge/studies answers (their
  // order). Set while the modules are built.
  void AnnotateStudiesWith(StudyAnnotator annotate) { annotate_ = std::move(annotate); }

  // Orthanc's change events: they only record the ID and return.
  void OnStudyChanged(const std::string& orthancId);
  void OnStudyStable(const std::string& orthancId);
  void OnStudyDeleted(const std::string& orthancId);

 private:
  const StudyIndexSettings settings_;
  StudyIndexStore studies_;
  StudyReader reader_;
  StudyEventLog events_;
  std::unique_ptr<StudyEventPipeline> pipeline_;
  std::unique_ptr<IndexWorker> worker_;
  StudyAnnotator annotate_;
};

}  // namespace HospitalBridge
