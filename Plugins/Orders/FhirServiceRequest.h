#pragma once
// FHIR R4 ServiceRequest in and out, as hospital information systems send
// it (seed 003's flavour): the patient as a contained Patient that
// subject.reference names ("#p1"), identifiers for the MRN, the national ID
// and the accession number, the modality and the scheduled station's AE title
// as orderDetail codings, occurrenceDateTime, requester.display, code. Which
// identifier and coding systems mean what is configuration
// (Orders.Fhir), so a hospital adapts without code.
#include <json/json.h>

#include "Orders/Order.h"
#include "Orders/OrderService.h"
#include "Orders/OrdersSettings.h"

namespace HospitalBridge {

// Throws DomainError (invalid) naming the missing or wrong element
// ("ServiceRequest.identifier: no accession number ...").
OrderDraft DraftFromServiceRequest(const Json::Value& resource, const FhirSettings& settings);

// The order as a ServiceRequest: the one received (with its id, status and a
// urn:dicom:uid identifier for the StudyInstanceUID), or one built from the
// order.
Json::Value ServiceRequestOf(const Order& order, const FhirSettings& settings);

// Whether `system` matches one of `patterns` ('*' = any text).
bool SystemMatches(const std::vector<std::string>& patterns, const std::string& system);

}  // namespace HospitalBridge
