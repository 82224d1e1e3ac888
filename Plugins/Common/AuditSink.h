#pragma once
// Where modules report what happened. Record() must return at once: it may be
// called from Orthanc's HTTP threads and from the plugin's workers.
#include <atomic>

#include "Common/AuditEvent.h"

namespace HospitalBridge {

class IAuditSink {
 public:
  virtual ~IAuditSink() = default;
  virtual void Record(AuditEvent event) = 0;
};

// Passes events on to a sink set later (or drops them until then): lets
// modules built before the recorder hold a sink from the start.
class AuditForwarder : public IAuditSink {
 public:
  void SetTarget(IAuditSink* target) { target_.store(target); }
  void Record(AuditEvent event) override {
    if (IAuditSink* target = target_.load()) target->Record(std::move(event));
  }

 private:
  std::atomic<IAuditSink*> target_{nullptr};
};

// When the audit module is switched off.
class NoAudit : public IAuditSink {
 public:
  void Record(AuditEvent) override {}
};

}  // namespace HospitalBridge
