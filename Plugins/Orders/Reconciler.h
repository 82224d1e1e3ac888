#pragma once
// Attaches a study that arrived without its order: Orthanc copies the study
// with the order's StudyInstanceUID, AccessionNumber and patient (PatientID,
// name, birth date, sex), keeping every SeriesInstanceUID and SOPInstanceUID
// (/instances/{id}/modify, one instance at a time, since Orthanc 1.10 will
// not change a PatientID at the study level); once the copy holds as many
// instances as the original, the original is deleted. Nothing is lost: until
// then both exist, and each step is recorded in order_attachments so that a
// restart goes on where it was. The corrected copy is indexed like any
// arriving study, which ties it to the order (by StudyInstanceUID).
#include <memory>
#include <string>

#include "Common/BackgroundWorker.h"
#include "Common/OrthancRest.h"
#include "Common/StudyRecord.h"
#include "Orders/OrderService.h"

namespace HospitalBridge {

class Reconciler {
 public:
  Reconciler(OrderService& service, IOrthancRest& orthanc);
  ~Reconciler();

  // Staff attach the listed study `orthancId` to order `orderId`.
  OrderAttachment Attach(const std::string& orthancId, int64_t orderId, const AuditActor& actor);
  // Staff set a listed study aside (it needs no order).
  void Dismiss(const std::string& orthancId, const std::string& reason, const AuditActor& actor);

  void Start();
  void Stop();
  // Takes every unfinished attachment one step further (the worker's tick;
  // tests call it directly). Returns whether some wait for Orthanc.
  bool Step();
  std::string LastError() const { return worker_ ? worker_->LastError() : ""; }

 private:
  void Advance(OrderAttachment& attachment);
  void Finish(OrderAttachment& attachment, const std::string& state, const std::string& error);
  int64_t CountInstances(const std::string& studyId, bool& exists);

  OrderService& service_;
  IOrthancRest& orthanc_;
  std::unique_ptr<BackgroundWorker> worker_;
};

}  // namespace HospitalBridge
