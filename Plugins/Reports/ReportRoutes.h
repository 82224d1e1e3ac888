#pragma once
// The reporting routes under /bridge/reports and /bridge/report-templates
// (README, "Reading and reporting"). Radiologists read, write and sign;
// technicians and reception read final reports; administrators manage the
// templates and assign; the live queue waits on ChangeFeed.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "Common/Router.h"
#include "Index/StudyIndexStore.h"
#include "Reports/ChangeFeed.h"
#include "Reports/ReportDelivery.h"
#include "Reports/ReportService.h"

namespace HospitalBridge {

struct ReportRoutesContext {
  ReportService& service;
  ReportDelivery& delivery;
  ChangeFeed& feed;
  StudyIndexStore& studies;
  // The registry patient and national ID of a study ("" when unknown), for
  // the patient's prior studies here and at peer sites.
  std::function<std::pair<std::string, std::string>(const StudyRecord&)> registryPatient;
  // The user names of the active radiologists (whom a study can be assigned to).
  std::function<std::vector<std::string>()> radiologists;
};

void RegisterReportRoutes(Router& router, ReportRoutesContext context);

}  // namespace HospitalBridge
