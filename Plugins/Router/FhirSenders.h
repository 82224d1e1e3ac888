#pragma once
// FHIR R4 destinations: a FHIR server (ImagingStudy for a study,
// DiagnosticReport for a signed report) and the SATUSEHAT profile (seed 003's
// exchange with Indonesia's national platform: OAuth2 token, ServiceRequest
// and ImagingStudy found by the accession number's identifier, ImagingStudy
// created or updated, then each instance posted with X-ImagingStudy-ID).
#include <json/json.h>

#include <string>

#include "Router/Senders.h"

namespace HospitalBridge {

// A signed report as the reports module hands it to the router.
struct RoutedReport {
  std::string reportId;
  std::string studyUid;
  std::string status = "final";  // preliminary | final | amended
  std::string text;
  std::string conclusion;
  std::string author;
  int64_t signedAt = 0;  // Unix seconds
  // The reports module's own FHIR R4 DiagnosticReport (JSON), sent as it is
  // to FHIR servers (with the ImagingStudy there); "" = built from the above.
  std::string fhirResource;

  std::string ToPayload() const;
  static bool FromPayload(const std::string& payload, RoutedReport& report);
};

// FHIR dateTime of a DICOM date and time at `offset` ("+07:00"); the date
// alone without a time; "" without a valid date.
std::string FhirDateTime(const std::string& da, const std::string& tm, const std::string& offset);

// The ImagingStudy of `study` with these identifiers, subject and
// (optional, null) basedOn and encounter references.
Json::Value BuildImagingStudy(const StudyContent& study, const Json::Value& identifiers,
                              const Json::Value& subject, const Json::Value& basedOn,
                              const Json::Value& encounter, const std::string& offset);
Json::Value BuildDiagnosticReport(const RoutedReport& report, const Json::Value& identifier,
                                  const Json::Value& subject, const Json::Value& basedOn,
                                  const std::string& imagingStudyId, const std::string& description);

// The reports module's DiagnosticReport as a FHIR server gets it: without
// the local id; `subject` (the patient as the destination's ImagingStudy
// names it) in place of the local one; basedOn by identifier only (a literal
// "ServiceRequest/<id>" names an order of this site, which that server does
// not have); imagingStudy the server's ImagingStudy `imagingStudyId` when it
// has one (the logical reference by Study Instance UID kept).
Json::Value DiagnosticReportForServer(Json::Value resource, const Json::Value& subject,
                                      const std::string& imagingStudyId);

// SATUSEHAT's identifier system of accession numbers for an organization.
std::string SatusehatAccessionSystem(const std::string& organizationId);
// SATUSEHAT's identifier system of an organization's radiology reports.
std::string SatusehatDiagnosticSystem(const std::string& organizationId);

// JSON over HTTP to one FHIR base, with the destination's authentication and
// the router's classification of failures.
class FhirClient {
 public:
  FhirClient(IHttpClient& http, const RouterDestination& destination, TokenSource* tokens, std::string base)
      : http_(http), destination_(destination), tokens_(tokens), base_(std::move(base)) {}
  // The first resource of a search (`query` already encoded); null if none.
  Json::Value SearchFirst(const std::string& type, const std::string& query);
  // POST (no id) or PUT (id) of `resource`; returns the id the server gave.
  std::string Save(const std::string& type, Json::Value resource, const std::string& id);
  const std::string& Base() const { return base_; }

 private:
  Json::Value Exchange(const std::string& method, const std::string& path, const std::string& body,
                       const std::string& what);
  IHttpClient& http_;
  const RouterDestination& destination_;
  TokenSource* tokens_;
  std::string base_;
};

class FhirSender : public IDestinationSender {
 public:
  FhirSender(IOrthancRest& orthanc, IHttpClient& http, TokenSource* tokens, std::string offset)
      : orthanc_(orthanc), http_(http), tokens_(tokens), offset_(std::move(offset)) {}
  std::string Send(DeliveryAttempt& attempt) override;

 private:
  IOrthancRest& orthanc_;
  IHttpClient& http_;
  TokenSource* tokens_;
  std::string offset_;
};

class SatusehatSender : public IDestinationSender {
 public:
  SatusehatSender(IOrthancRest& orthanc, IHttpClient& http, TokenSource& tokens, std::string offset)
      : orthanc_(orthanc), http_(http), tokens_(tokens), offset_(std::move(offset)) {}
  std::string Send(DeliveryAttempt& attempt) override;

 private:
  std::string SendReport(DeliveryAttempt& attempt, FhirClient& fhir, const Json::Value& serviceRequest);
  IOrthancRest& orthanc_;
  IHttpClient& http_;
  TokenSource& tokens_;
  std::string offset_;
};

}  // namespace HospitalBridge
