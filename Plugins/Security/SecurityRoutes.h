#pragma once
// /bridge/login, /bridge/logout, /bridge/me and /bridge/users.
#include "Common/AuditSink.h"
#include "Common/Router.h"
#include "Security/Authenticator.h"
#include "Security/PasswordHasher.h"
#include "Security/SessionStore.h"
#include "Security/UserStore.h"

namespace HospitalBridge {

struct SecurityRoutesContext {
  UserStore& users;
  SessionStore& sessions;
  Authenticator& authenticator;
  const PasswordHasher& hasher;
  IAuditSink& audit;
};

void RegisterSecurityRoutes(Router& router, SecurityRoutesContext context);

Json::Value UserToJson(const User& user);

}  // namespace HospitalBridge
