#include "Security/SecurityRoutes.h"

#include "Common/AuditVocabulary.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/RequestChecks.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const RoleSet kAdminOnly = {Role::kAdmin};

std::string RequireString(const Json::Value& body, const char* field) {
  if (!body.isMember(field)) throw DomainError::Invalid(std::string("Missing field: ") + field, field);
  if (!body[field].isString())
    throw DomainError::Invalid(std::string("The field must be a string: ") + field, field);
  return body[field].asString();
}

std::string SessionCookie(const std::string& value, int maxAgeSeconds, bool secure) {
  return std::string(kSessionCookie) + "=" + value +
         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(maxAgeSeconds) +
         (secure ? "; Secure" : "");
}

Role RequireRole(const Json::Value& body) {
  Role role;
  if (!ParseRole(RequireString(body, "role"), role)) {
    throw DomainError::Invalid("Unknown role",
                               "role: one of admin, radiologist, technician, reception, peer");
  }
  return role;
}

void Audit(IAuditSink& audit, const RouteContext& ctx, const Identity& actor, const char* action,
           Json::Value detail) {
  AuditEvent event = MakeAuditEvent(action, AuditActor::Of(actor, ctx.request.remoteIp));
  event.detail = std::move(detail);
  audit.Record(event);
}

void RequireStrongPassword(const std::string& password, const std::string& username) {
  std::string weakness = PasswordWeakness(password, username);
  if (!weakness.empty())
    throw DomainError::Invalid("The password is not acceptable", "password: " + weakness);
}
}  // namespace

Json::Value UserToJson(const User& user) {
  Json::Value json(Json::objectValue);
  json["username"] = user.username;
  json["role"] = RoleName(user.role);
  json["disabled"] = user.disabled;
  json["created_at"] = Time::FormatIsoUtc(user.createdAt);
  json["last_login_at"] = Time::FormatIsoUtc(user.lastLoginAt);
  return json;
}

void RegisterSecurityRoutes(Router& router, SecurityRoutesContext c) {
  router.AddPublic("POST", "/bridge/login", [c](const RouteContext& ctx) {
    Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    const std::string username = RequireString(body, "username");
    const std::string password = RequireString(body, "password");
    AuthResult result = c.authenticator.CheckPassword(username, password, ctx.request.remoteIp);
    if (result.outcome == AuthResult::Outcome::kThrottled) {
      // 403 rather than 429: Orthanc 1.10's HTTP layer cannot send 429.
      HttpResponse response = HttpResponse::Error(
          403, "Too many failed attempts",
          "Try again in " + std::to_string((result.retryAfterSeconds + 59) / 60) + " minute(s).");
      response.AddHeader("Retry-After", std::to_string(result.retryAfterSeconds));
      return response;
    }
    if (result.outcome != AuthResult::Outcome::kAuthenticated) {
      return HttpResponse::Error(403, "Invalid user name or password");
    }
    const Identity& identity = result.identity;
    std::string token = c.sessions.Create(identity.userId, ctx.request.remoteIp);
    Log::Info("user '" + identity.username + "' logged in from " + ctx.request.remoteIp);
    Json::Value how(Json::objectValue);
    how["method"] = "form";
    Audit(c.audit, ctx, identity, "login", how);
    Json::Value answer(Json::objectValue);
    answer["username"] = identity.username;
    answer["role"] = RoleName(identity.role);
    HttpResponse response = HttpResponse::Json(answer);
    response.AddHeader("Set-Cookie", SessionCookie(token, c.sessions.MaxSeconds(), ctx.request.secure));
    return response;
  });

  router.Add("POST", "/bridge/logout", RoleSet::Staff(), [c](const RouteContext& ctx) {
    std::string token = ctx.request.Cookie(kSessionCookie);
    if (!token.empty()) {
      c.sessions.Remove(token);
      c.authenticator.ForgetSession(token);
    }
    Log::Info("user '" + ctx.identity.username + "' logged out");
    Audit(c.audit, ctx, ctx.identity, "logout", Json::Value(Json::objectValue));
    Json::Value answer(Json::objectValue);
    answer["logged_out"] = true;
    HttpResponse response = HttpResponse::Json(answer);
    response.AddHeader("Set-Cookie", SessionCookie("", 0, ctx.request.secure));
    return response;
  });

  router.Add("GET", "/bridge/me", RoleSet::Staff(), [](const RouteContext& ctx) {
    Json::Value answer(Json::objectValue);
    answer["username"] = ctx.identity.username;
    answer["role"] = RoleName(ctx.identity.role);
    return HttpResponse::Json(answer);
  });

  router.Add("GET", "/bridge/users", kAdminOnly, [c](const RouteContext&) {
    Json::Value list(Json::arrayValue);
    for (const User& user : c.users.List()) list.append(UserToJson(user));
    Json::Value answer(Json::objectValue);
    answer["users"] = list;
    return HttpResponse::Json(answer);
  });

  router.Add("POST", "/bridge/users", kAdminOnly, [c](const RouteContext& ctx) {
    Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    const std::string username = RequireString(body, "username");
    if (!Text::IsUserName(username)) {
      throw DomainError::Invalid(
          "Invalid user name",
          "username: 1 to 64 letters, digits, '.', '_', '@' or '-', and not '.' or '..'");
    }
    const std::string password = RequireString(body, "password");
    Role role = RequireRole(body);
    RequireStrongPassword(password, username);
    User user = c.users.Create(username, c.hasher.Hash(password), role);
    Log::Info("user '" + ctx.identity.username + "' created user '" + username + "' with role " +
              RoleName(role));
    Json::Value created(Json::objectValue);
    created["user"] = username;
    created["role"] = RoleName(role);
    Audit(c.audit, ctx, ctx.identity, "user.created", created);
    return HttpResponse::Json(UserToJson(user));
  });

  router.Add("GET", "/bridge/users/{username}", kAdminOnly, [c](const RouteContext& ctx) {
    std::optional<User> user = c.users.FindByName(ctx.Param("username"));
    if (!user) throw DomainError::NotFound("No such user", ctx.Param("username"));
    return HttpResponse::Json(UserToJson(*user));
  });

  router.Add("PUT", "/bridge/users/{username}", kAdminOnly, [c](const RouteContext& ctx) {
    Json::Value body = JsonText::ParseRequestObject(ctx.request.body);
    std::optional<User> found = c.users.FindByName(ctx.Param("username"));
    if (!found) throw DomainError::NotFound("No such user", ctx.Param("username"));
    User user = *found;
    std::string changes;
    RejectUnknownFields(body, {"role", "disabled", "password"});
    if (body.isMember("role")) {
      user.role = RequireRole(body);
      changes += std::string(" role=") + RoleName(user.role);
    }
    if (body.isMember("disabled")) {
      if (!body["disabled"].isBool())
        throw DomainError::Invalid("The field must be true or false: disabled", "disabled");
      user.disabled = body["disabled"].asBool();
      changes += user.disabled ? " disabled" : " enabled";
    }
    bool passwordChanged = false;
    if (body.isMember("password")) {
      const std::string password = RequireString(body, "password");
      RequireStrongPassword(password, user.username);
      user.passwordHash = c.hasher.Hash(password);
      passwordChanged = true;
      changes += " password reset";
    }
    bool stillAdmin = user.role == Role::kAdmin && !user.disabled;
    if (found->role == Role::kAdmin && !found->disabled && !stillAdmin &&
        c.users.CountOtherActiveAdmins(user.id) == 0) {
      throw DomainError::Conflict("This is the last active administrator",
                                  "Create or enable another administrator first.");
    }
    c.users.Update(user);
    // Old sessions and cached credentials must not outlive the change.
    if (user.disabled || passwordChanged || user.role != found->role) c.sessions.RemoveForUser(user.id);
    c.authenticator.ForgetCachedCredentials();
    Log::Info("user '" + ctx.identity.username + "' changed user '" + user.username + "':" + changes);
    Json::Value changed(Json::objectValue);
    changed["user"] = user.username;
    changed["changes"] = changes.empty() ? changes : changes.substr(1);
    Audit(c.audit, ctx, ctx.identity, "user.changed", changed);
    return HttpResponse::Json(UserToJson(*c.users.FindById(user.id)));
  });
}

}  // namespace HospitalBridge
