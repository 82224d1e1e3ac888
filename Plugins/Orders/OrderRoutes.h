#pragma once
// /bridge/orders (list, make, change, check in, cancel), the reconciliation
// list under /bridge/orders/reconciliation, and FHIR ServiceRequest intake
// under /bridge/fhir/ServiceRequest.
#include "Common/Router.h"
#include "Orders/OrderService.h"
#include "Orders/Reconciler.h"

namespace HospitalBridge {

struct OrderRoutesContext {
  OrderService& service;
  Reconciler& reconciler;
};

void RegisterOrderRoutes(Router& router, OrderRoutesContext context);

// Reads the body of POST /bridge/orders or PUT /bridge/orders/{id}.
OrderDraft ParseOrderBody(const Json::Value& body);

}  // namespace HospitalBridge
