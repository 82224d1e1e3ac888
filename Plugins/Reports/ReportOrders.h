#pragma once
// What reporting needs of the orders: the order a study fulfils (its
// priority, referring physician, reason and ServiceRequest), and telling it
// the study was reported. The composition root gives an implementation over
// the orders module; without one, studies enter the queue by modality only
// and a report names no order.
#include <json/json.h>

#include <cstdint>
#include <optional>
#include <string>

#include "Common/AuditVocabulary.h"

namespace HospitalBridge {

struct ReportOrderInfo {
  int64_t id = 0;
  std::string accession;
  std::string priority = "routine";  // stat | urgent | routine
  std::string status;
  std::string referringPhysician;  // DICOM PN
  std::string reason;
  std::string serviceRequestId;  // the FHIR ServiceRequest's id, "" when none
};

class IReportOrders {
 public:
  virtual ~IReportOrders() = default;
  // The order the study (Orthanc ID, StudyInstanceUID) fulfils, if any.
  virtual std::optional<ReportOrderInfo> ForStudy(const std::string& orthancId,
                                                  const std::string& studyUid) = 0;
  // The study's report is final: the order becomes "reported" (idempotent).
  virtual void MarkReported(int64_t orderId, const AuditActor& actor) = 0;
};

}  // namespace HospitalBridge
